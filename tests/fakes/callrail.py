"""A fake CallRail API v3: accounts, companies, trackers and calls under `/v3/a/{account}/`.

It follows CallRail's published reference (apidocs.callrail.com: Getting Started,
Pagination, Rate Limiting, Calls, Trackers; support article "Relative pagination"):
`Authorization: Token token="KEY"`; offset pagination with page/per_page (per_page at most
250) and the `{"page", "per_page", "total_pages", "total_records", "<resource>": [...]}`
envelope on every index; relative pagination on the calls index only
(`relative_pagination=true`, `offset` counting pages from 0, answering `has_next_page` and a
`next_page` URL, and refusing a `page` mixed in); `sort`/`order` and `start_date`/`end_date`
filters on calls, refused before the 25 months CallRail keeps calls; optional call fields
only when asked for with `fields`; call start times in the company's time zone
(America/New_York, so the offset changes at DST); 400 `{"error": ...}` for bad parameters,
404 for an unknown account, Rails' plain-text 401 for a bad key, and 429 with no
Retry-After (CallRail sends none) from `rate_limit_next`. Without a date filter the calls
index answers the last 30 days only. The fake's "today" is `now` (default 2024-05-15, two
months after its calls).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlencode

from connectors.callrail import retention_start
from tests.fakes.base import FakeApi, Request, Response

ACCOUNT_ID = "ACC8154748ae6bd4e278a7cddd38a662f4f"
NUMERIC_ID = 266101466
# 2024-03-09 00:00 in New York (EST); DST starts 2024-03-10 02:00 EST = 07:00 UTC.
EPOCH = datetime(2024, 3, 9, 5, 0, tzinfo=UTC)
DST_START = datetime(2024, 3, 10, 7, 0, tzinfo=UTC)
STEP = timedelta(minutes=10)
DEFAULT_WINDOW = timedelta(days=30)
TODAY = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)
OPTIONAL_CALL_FIELDS = ("source_name", "company_name", "tracker_id")
CALL_SORTS = ("start_time", "duration", "customer_name", "customer_phone_number", "source_name")
AGENTS = ("dana@example.com", "eli@example.com", "nobody@elsewhere.example")


def local(moment: datetime) -> str:
    """A start_time the way CallRail writes it: company-local time with its UTC offset."""
    offset = timedelta(hours=-4 if moment >= DST_START else -5)
    return moment.astimezone(timezone(offset)).isoformat(timespec="milliseconds")


def call_id(n: int) -> str:
    return f"CAL{n:032x}"


def tracker_id(n: int) -> str:
    return f"TRK{n:032x}"


class FakeCallRail(FakeApi):
    def __init__(self, token: str = "cr-good-key", calls: int = 0, now: datetime | None = None):
        super().__init__()
        self.token = token
        self.account_id = ACCOUNT_ID
        self.now = now or TODAY
        self.rate_limited = 0
        self.accounts = [
            {
                "id": ACCOUNT_ID,
                "name": "Acme Dental Group",
                "numeric_id": NUMERIC_ID,
                "outbound_recording_enabled": True,
                "hipaa_account": False,
            }
        ]
        self.companies = [
            {"id": "COM1a2b3c", "name": "Acme Dental Midtown", "status": "active"},
            {"id": "COM4d5e6f", "name": "Acme Dental Uptown", "status": "active"},
        ]
        self.trackers: list[dict] = []
        self.add_tracker("Google Ads", ["+14045551001"], company=0)
        self.add_tracker("Website pool", ["+14045552001", "+14045552002", "+14045552003"])
        self.add_tracker("Yelp listing", ["+14045553001"], company=1)
        self.add_tracker("Old billboard", ["+14045554001"], status="disabled")
        # (when, record): `when` orders and filters, so a malformed start_time can still be served
        self.calls: list[tuple[datetime, dict]] = []
        self.clock = EPOCH
        self.add_calls(calls)

    # data --------------------------------------------------------------------------------
    def add_tracker(
        self, name: str, numbers: list[str], *, status: str = "active", company: int = 0
    ) -> dict:
        record = {
            "id": tracker_id(len(self.trackers)),
            "name": name,
            "type": "session" if len(numbers) > 1 else "source",
            "status": status,
            "destination_number": "+14045550100",
            "tracking_numbers": numbers,
            "company": dict(self.companies[company]),
            "created_at": "2023-11-02T10:00:00.000-04:00",
            "disabled_at": "2024-01-05T09:00:00.000-05:00" if status == "disabled" else None,
        }
        self.trackers.append(record)
        return record

    @property
    def numbers(self) -> list[tuple[str, dict]]:
        """Every (tracking number, tracker) of active trackers: where calls ring."""
        return [
            (number, t)
            for t in self.trackers
            if t["status"] == "active"
            for number in t["tracking_numbers"]
        ]

    def add_calls(self, count: int) -> list[dict]:
        added = []
        lines = self.numbers
        for _ in range(count):
            n = len(self.calls)
            self.clock += STEP
            number, tracker = lines[n % len(lines)]
            voicemail = n % 10 == 3
            answered = n % 5 not in (3, 4)
            outbound = n % 7 == 6
            duration = None if n % 50 == 49 else (60 + n % 300 if answered else 20)
            record = {
                "id": call_id(n),
                "answered": answered,
                "voicemail": voicemail,
                "direction": "outbound" if outbound else "inbound",
                "customer_phone_number": f"+1678555{n:04d}",
                "customer_name": f"Customer {n}",
                "tracking_phone_number": number,
                "business_phone_number": tracker["destination_number"],
                "start_time": local(self.clock),
                "duration": duration,
                "recording": (
                    f"https://api.callrail.com/v3/a/{ACCOUNT_ID}/calls/{call_id(n)}/recording.json"
                    if answered
                    else None
                ),
                "agent_email": AGENTS[n % len(AGENTS)] if answered else None,
                "source_name": tracker["name"],
                "company_name": tracker["company"]["name"],
                "tracker_id": tracker["id"],
            }
            self.calls.append((self.clock, record))
            added.append(record)
        return added

    def add_raw_call(self, record: dict, when: datetime | None = None) -> None:
        """A call served as given (malformed ones too), placed in time at `when`."""
        if when is None:
            self.clock += STEP
            when = self.clock
        self.calls.append((when, record))

    def call(self, n: int) -> dict:
        return self.calls[n][1]

    def modify_call(self, n: int, **changes) -> dict:
        self.calls[n][1].update(changes)
        return self.calls[n][1]

    def calls_from(self, start: datetime) -> int:
        return sum(1 for when, _ in self.calls if when >= start)

    # protocol ----------------------------------------------------------------------------
    def unauthorized(self) -> Response:
        return Response(
            401,
            "HTTP Token: Access denied.\n",
            {
                "Content-Type": "text/plain; charset=utf-8",
                "WWW-Authenticate": 'Token realm="Application"',
            },
        )

    def rate_limit_next(self, count: int) -> None:
        """The next `count` requests answer 429, without Retry-After, as CallRail does."""
        with self.lock:
            self.rate_limited += count

    def handle(self, request: Request) -> Response:
        with self.lock:
            limited = self.rate_limited > 0
            self.rate_limited -= 1 if limited else 0
        if limited:
            return Response(429, {"error": "Too many requests"})
        self.require_auth(request, f'Token token="{self.token}"')
        if request.method != "GET":
            return Response(405, {"error": "Method not allowed"})
        parts = request.path.strip("/").split("/")
        if parts == ["v3", "a.json"]:
            return self._index(request.query, self.accounts, "accounts")
        if len(parts) != 4 or parts[:2] != ["v3", "a"]:
            return Response(404, {"error": "Not found"})
        if parts[2] not in (ACCOUNT_ID, str(NUMERIC_ID)):
            return Response(404, {"error": "Not found"})
        resource = parts[3]
        if resource == "companies.json":
            return self._index(request.query, self.companies, "companies")
        if resource == "trackers.json":
            return self._index(request.query, self.trackers, "trackers")
        if resource == "calls.json":
            return self._calls(request.query)
        return Response(404, {"error": "Not found"})

    def _index(self, query: dict, records: list, key: str) -> Response:
        try:
            page = int(query.get("page", 1))
            per_page = int(query.get("per_page", 100))
        except ValueError:
            return Response(400, {"error": "page and per_page must be integers"})
        if page < 1:
            return Response(400, {"error": "page must be greater than 0"})
        if not 1 <= per_page <= 250:
            return Response(400, {"error": "per_page must be between 1 and 250"})
        total = len(records)
        chunk = records[(page - 1) * per_page : page * per_page]
        return Response(
            200,
            {
                "page": page,
                "per_page": per_page,
                "total_pages": max(1, math.ceil(total / per_page)),
                "total_records": total,
                key: chunk,
            },
        )

    def _calls(self, query: dict) -> Response:
        sort = query.get("sort", "start_time")
        order = query.get("order", "desc")
        if sort not in CALL_SORTS:
            return Response(400, {"error": f"Invalid sort field: {sort}"})
        if order not in ("asc", "desc"):
            return Response(400, {"error": f"Invalid order: {order}"})
        try:
            start = _date_param(query.get("start_date"))
            end = _date_param(query.get("end_date"), end=True)
        except ValueError as exc:
            return Response(400, {"error": str(exc)})
        oldest = retention_start(self.now) - timedelta(days=1)
        if start is not None and start < oldest:
            return Response(
                400,
                {
                    "error": "Communication records are retained for 25 months. "
                    "Please revise your date range."
                },
            )
        if start is None and end is None:
            start = self.now - DEFAULT_WINDOW
        rows = [
            (when, r)
            for when, r in self.calls
            if (start is None or when >= start) and (end is None or when < end)
        ]
        if sort == "start_time":
            rows.sort(key=lambda pair: (pair[0], str(pair[1].get("id"))), reverse=order == "desc")
        else:
            rows.sort(key=lambda pair: str(pair[1].get(sort)), reverse=order == "desc")
        wanted = {f.strip() for f in query.get("fields", "").split(",") if f.strip()}
        unknown = wanted - set(OPTIONAL_CALL_FIELDS) - {"agent_email"}
        if unknown:
            return Response(400, {"error": f"Invalid field(s): {', '.join(sorted(unknown))}"})
        served = [
            {k: v for k, v in r.items() if k not in OPTIONAL_CALL_FIELDS or k in wanted}
            for _when, r in rows
        ]
        relative = query.get("relative_pagination", "false")
        if relative not in ("true", "false"):
            return Response(400, {"error": "relative_pagination must be true or false"})
        if relative == "true":
            return self._relative(query, served)
        if "offset" in query:
            return Response(400, {"error": "offset requires relative_pagination"})
        return self._index(query, served, "calls")

    def _relative(self, query: dict, calls: list[dict]) -> Response:
        """Relative pagination: pages counted by `offset` from 0, linked by `next_page`."""
        if "page" in query:
            return Response(400, {"error": "Do not mix page with relative pagination"})
        try:
            offset = int(query.get("offset", 0))
            per_page = int(query.get("per_page", 100))
        except ValueError:
            return Response(400, {"error": "offset and per_page must be integers"})
        if offset < 0 or not 1 <= per_page <= 250:
            return Response(400, {"error": "per_page must be between 1 and 250"})
        chunk = calls[offset * per_page : (offset + 1) * per_page]
        more = (offset + 1) * per_page < len(calls)
        link = None
        if more:
            link = f"{self.url}/v3/a/{self.account_id}/calls.json?" + urlencode(
                query | {"offset": offset + 1}
            )
        return Response(
            200,
            {"per_page": per_page, "has_next_page": more, "next_page": link, "calls": chunk},
        )


def _date_param(value: str | None, *, end: bool = False) -> datetime | None:
    """ISO 8601 date or date-time; a bare date means that whole day (in UTC here)."""
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"Invalid date: {value}") from exc
    if len(value) <= 10:
        parsed = parsed.replace(tzinfo=UTC) + (timedelta(days=1) if end else timedelta())
    elif parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
