"""CallRail API v3: call logs and the tracking numbers they ring on.

Follows CallRail's published API v3 reference (https://apidocs.callrail.com/: "Getting
Started", "Pagination", "Rate Limiting", "Calls", "Trackers") and its support article
"Relative pagination" (support.callrail.com/hc/en-us/articles/14788180744973):
- base `https://api.callrail.com/v3`; auth `Authorization: Token token="<API key>"` (a key is
  a user's: it sees what that user sees); every resource lives under an account,
  `/a/{account_id}/...json` (the account id `ACC…`, or its numeric id, is the connection's
  `account_id` setting);
- offset pagination, the default for every index: `page` (from 1) and `per_page` (default
  100, at most 250), answering `{"page", "per_page", "total_pages", "total_records",
  "<resource>": [...]}`;
- relative pagination, for the calls index only and recommended there for speed:
  `relative_pagination=true&per_page=N` answers `{"calls": [...], "has_next_page",
  "next_page"}`, `next_page` being the URL of the next page (`offset` counts pages from 0).
  CallRail asks not to mix the two styles over one dataset;
- calls: `GET /a/{account_id}/calls.json?sort=start_time&order=asc&start_date=<ISO 8601>`
  (records `id`, `answered`, `voicemail`, `direction` inbound/outbound,
  `customer_phone_number`, `tracking_phone_number`, `business_phone_number`, `start_time` in
  the company's time zone with its offset, `duration` in seconds or null, `recording` URL or
  null, `agent_email`, `customer_name`), plus `fields=agent_email,source_name` to ask for
  the optional fields we use;
- retention: call records are kept 25 months; a date range reaching further back (even
  `all_time`) is refused with an error asking to revise it (changelog, April 13, 2023);
- trackers: `GET /a/{account_id}/trackers.json` (`id`, `name`, `status` active/disabled,
  `tracking_numbers` [...]);
- accounts: `GET /a.json`; companies: `GET /a/{account_id}/companies.json`;
- rate limits: 1,000 requests an hour and 10,000 a day per account; over them every
  endpoint answers 429, with no Retry-After or rate-limit headers, so the shared client backs
  off on its own schedule; the calls cursor moves after every batch, so a run stopped by the
  limit is continued by the next one;
- errors: 401 `HTTP Token: Access denied.`, 404 for an account the key cannot see,
  400 `{"error": "..."}` for bad parameters, 429 when over the rate limit.

Decisions, and why:
- Calls are read with relative pagination sorted by `start_time` ascending: new calls land
  after the last page, so nothing shifts under the pages being read. Trackers, accounts and
  companies only have offset pagination.
- Calls have no modification time to filter on, only `start_time`, yet CallRail fills a
  call in after it starts (duration, recording, answered, agent). An incremental read
  therefore asks from the stored cursor minus `lookback_hours` (default 24); unchanged calls
  re-read in that window are counted unchanged. Changes older than that need `--full`.
- The calls index does not default to all time (a recent window is reported), so a full
  read always sends `start_date`: the `start_date` setting, or else the oldest day CallRail
  still keeps (25 months ago, plus a day's margin). A date outside the retention window is
  refused by CallRail; the run says so in those words.
- `start_time` carries the company's UTC offset, which changes with daylight saving time;
  it is stored, and used as the cursor, in UTC so cursors compare in time order.
- A tracker holds one number (source tracker) or a pool of them (session tracker):
  `read()` flattens trackers into one record per number, each keeping the tracker's `id`
  (our phone number's `external_id`) and `name` (its label; "(disabled)" is appended for
  disabled trackers, since we have no status column). The totals CallRail sends count
  trackers, not numbers, so this stream reports no total.
- Companies (CallRail's sub-accounts, one per client business) have no table of ours, so
  no stream; `test_connection` counts them. Calls keep `company_id` etc. in `raw`.
- `customer_name` and `business_phone_number` have no column of ours either; they stay in `raw`.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from connectors.base import (
    ConfigField,
    Connector,
    ConnectorError,
    HttpError,
    MappingContext,
    Page,
    ReadRequest,
    RecordError,
    Stream,
    page_number_pages,
    parse_time,
    register,
    short_label,
)

MAX_PER_PAGE = 250
#: CallRail keeps call records this many months; older date ranges are refused.
RETENTION_MONTHS = 25
DEFAULT_LOOKBACK_HOURS = 24.0
CALL_FIELDS = "agent_email,source_name"
ACCOUNT_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def retention_start(now: datetime) -> datetime:
    """The oldest day CallRail still keeps calls for: 25 months back, plus a day's margin."""
    months = now.year * 12 + now.month - 1 - RETENTION_MONTHS
    year, month = divmod(months, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    start = datetime(year, month + 1, day, tzinfo=UTC)
    return start + timedelta(days=1)


def _total_pages(body: dict) -> int | None:
    return (body or {}).get("total_pages")


def _total_records(body: dict) -> int | None:
    return (body or {}).get("total_records")


def _flag(raw: dict, name: str) -> bool:
    value = raw.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise RecordError(f"{name} {value!r} is not true or false")
    return value


@register
class CallRailConnector(Connector):
    key = "callrail"
    max_page_size = MAX_PER_PAGE
    label = "CallRail"
    icon = "telephone-inbound"
    default_base_url = "https://api.callrail.com/v3"
    streams = (
        Stream(
            "calls",
            "calls",
            cursor_field="start_time",
            sorted_by_cursor=True,
            description="Call log: inbound and outbound calls on tracking numbers",
        ),
        Stream(
            "trackers",
            "phone_numbers",
            description="Tracking numbers, one per number of each tracker",
        ),
    )
    config_fields = (
        ConfigField(
            "token",
            "API key",
            "secret",
            help="CallRail → Settings → Integrations → API Keys (a key sees what its user sees).",
        ),
        ConfigField(
            "account_id",
            "Account ID",
            help="ACC… (or the numeric id) of the account to read.",
        ),
        ConfigField(
            "lookback_hours",
            "Re-read recent calls (hours)",
            "number",
            required=False,
            minimum=0,
            maximum=24 * 31,
            placeholder="24",
            help="Calls CallRail may still be filling in (duration, recording) are read again.",
        ),
        ConfigField(
            "start_date",
            "Read calls from",
            "date",
            required=False,
            help="Where a full read starts; default and earliest: 25 months ago, "
            "as long as CallRail keeps calls.",
        ),
    )
    docs = "A CallRail API v3 key and the id of the account to read."

    def auth_headers(self) -> dict[str, str]:
        token = self.credentials.get("token")
        return {"Authorization": f'Token token="{token}"'} if token else {}

    # settings ----------------------------------------------------------------------------
    def _account(self) -> str:
        account = str(self.settings.get("account_id") or "").strip()
        if not account:
            raise ConnectorError(
                "CallRail needs the account id (ACC…): set account_id in the connection settings"
            )
        return account

    def _lookback(self) -> timedelta:
        value = self.settings.get("lookback_hours", DEFAULT_LOOKBACK_HOURS)
        try:
            hours = float(value)
        except (TypeError, ValueError) as exc:
            raise ConnectorError(f"lookback_hours must be a number, not {value!r}") from exc
        if hours < 0:
            raise ConnectorError("lookback_hours cannot be negative")
        return timedelta(hours=hours)

    def _full_start(self) -> datetime:
        value = self.settings.get("start_date")
        if not value:
            return retention_start(datetime.now(UTC))
        try:
            return parse_time(value, field_name="start_date")
        except RecordError as exc:
            raise ConnectorError(f"the start_date setting {value!r} is not a date") from exc

    # vendor calls ------------------------------------------------------------------------
    def test_connection(self) -> str:
        account = self._account()
        seen: list[dict] = []
        for page in page_number_pages(
            self.client,
            "a.json",
            {},
            records_key="accounts",
            per_page=MAX_PER_PAGE,
            total_pages=_total_pages,
        ):
            seen.extend(page.records)
        match = next(
            (a for a in seen if account in (str(a.get("id")), str(a.get("numeric_id")))), None
        )
        if match is None:
            # account ids only (ACC…), never other text from the answer
            ids = [str(a.get("id") or "") for a in seen]
            visible = ", ".join([i for i in ids if ACCOUNT_ID.fullmatch(i)][:10]) or "none"
            raise ConnectorError(
                f"This CallRail API key cannot see account {account} (accounts it can see: {visible})"
            )
        body = self.client.get_json(f"a/{account}/companies.json", {"per_page": 1})
        companies = _total_records(body) or 0
        name = f' "{short_label(match["name"])}"' if match.get("name") else ""
        noun = "company" if companies == 1 else "companies"
        return f"Connected to CallRail account {account}{name} ({companies} {noun})"

    def read(self, request: ReadRequest) -> Iterator[Page]:
        account = self._account()
        per_page = max(1, min(request.page_size, MAX_PER_PAGE))
        if request.stream.name == "calls":
            pages = self._calls(account, request.since, per_page)
        else:
            pages = self._trackers(account, per_page)
        seen = 0
        for page in pages:
            yield page
            seen += len(page.records)
            if request.max_records and seen >= request.max_records:
                return

    def _calls(self, account: str, since: datetime | None, per_page: int) -> Iterator[Page]:
        """Calls from a start date, oldest first, by relative pagination (next_page links)."""
        start = since - self._lookback() if since is not None else self._full_start()
        url: str | None = f"a/{account}/calls.json"
        params: dict | None = {
            "relative_pagination": "true",
            "per_page": per_page,
            "sort": "start_time",
            "order": "asc",
            "start_date": _iso(start),
            "fields": CALL_FIELDS,
        }
        followed: set[str] = set()
        while url:
            try:
                body = self.client.get_json(url, params)
            except HttpError as exc:
                if exc.status in (400, 422):
                    raise ConnectorError(
                        f"CallRail refused the calls query from {_iso(start)[:10]} "
                        f"(HTTP {exc.status}): it keeps calls for {RETENTION_MONTHS} months, "
                        "so start_date must be more recent than that"
                    ) from exc
                raise
            self.client.stats.pages += 1
            calls = body.get("calls") if isinstance(body, dict) else None
            if not isinstance(calls, list):
                raise ConnectorError(f"{self.client.host} answered calls.json without a calls list")
            yield Page(calls)
            nxt = body.get("next_page") if body.get("has_next_page") else None
            if not calls or not isinstance(nxt, str) or nxt in followed:
                return
            followed.add(nxt)
            url, params = nxt, None

    def _trackers(self, account: str, per_page: int) -> Iterator[Page]:
        for page in page_number_pages(
            self.client,
            f"a/{account}/trackers.json",
            {},
            records_key="trackers",
            per_page=per_page,
            total_pages=_total_pages,
        ):
            yield Page([row for tracker in page.records for row in _per_number(tracker)])

    # mapping -----------------------------------------------------------------------------
    def map_record(self, stream: Stream, raw: dict, ctx: MappingContext) -> dict:
        if stream.name == "trackers":
            return self._map_number(raw)
        return self._map_call(raw, ctx)

    def _map_number(self, raw: dict) -> dict:
        number = raw.get("tracking_number")
        if not isinstance(number, str) or not number.strip():
            raise RecordError("tracker has no tracking numbers")
        number = number.strip()
        if len(number) > 32:
            raise RecordError(f"tracking number {number[:40]!r} is too long")
        label = str(raw.get("name") or number)
        if raw.get("status") == "disabled":
            label += " (disabled)"
        return {"number": number, "label": label[:200], "external_id": str(raw["id"])}

    def _map_call(self, raw: dict, ctx: MappingContext) -> dict:
        started = parse_time(raw.get("start_time"), field_name="start_time").astimezone(UTC)
        direction = raw.get("direction")
        if direction not in ("inbound", "outbound"):
            raise RecordError(f"unknown call direction {direction!r}")
        duration = raw.get("duration")
        if duration is not None and (
            isinstance(duration, bool) or not isinstance(duration, int | float) or duration < 0
        ):
            raise RecordError(f"duration {duration!r} is not a number of seconds")
        if _flag(raw, "voicemail"):
            status = "voicemail"
        elif _flag(raw, "answered"):
            status = "answered"
        else:
            status = "missed"
        customer = (raw.get("customer_phone_number") or "")[:32]
        tracking = (raw.get("tracking_phone_number") or "")[:32]
        # For an outbound call the customer sees the tracking number as the caller id.
        from_number, to_number = (
            (customer, tracking) if direction == "inbound" else (tracking, customer)
        )
        recording = raw.get("recording")
        if not isinstance(recording, str) or len(recording) > 500:
            recording = None
        seconds = int(duration or 0)
        return {
            "direction": direction,
            "from_number": from_number,
            "to_number": to_number,
            "status": status,
            "started_at": started,
            "ended_at": started + timedelta(seconds=seconds) if duration is not None else None,
            "duration_seconds": seconds,
            "recording_url": recording or None,
            "phone_number_id": ctx.phone_number_id(tracking, label=raw.get("source_name") or ""),
            "agent_id": ctx.agent_id(raw.get("agent_email")),
            "_cursor": started,
        }


def _per_number(tracker: dict) -> list[dict]:
    """One record per tracking number; a tracker without numbers stays one (bad) record."""
    if not isinstance(tracker, dict):
        return [tracker]
    numbers = tracker.get("tracking_numbers")
    base = {k: v for k, v in tracker.items() if k != "tracking_numbers"}
    if not isinstance(numbers, list) or not numbers:
        return [base | {"tracking_number": None}]
    return [base | {"tracking_number": number} for number in numbers]
