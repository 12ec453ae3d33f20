"""MightyCall v4: business phone numbers, calls, contacts and voicemails.

What MightyCall publishes: the support pages "MightyCall API Documentation"
(support.mightycall.com/mightycall-api-documentation), "Authentication via API"
(support.mightycall.com/authentication-via-api, Call Center accounts) and "Authentication
via API (Classic)" (support.mightycall.com/authentication-via-api-mc), the reference at
https://api.mightycall.com/v4/doc, and the older v3 reference (api.mightycall.com/api/doc),
whose rules still hold: every method but Ping needs both the API key and the auth token.

- where: the documentation page and the Call Center guide authenticate at
  `https://ccapi.mightycall.com/v4/auth/token`; the Classic guide, for accounts on the
  older MightyCall product, at `https://api.mightycall.com/v4/auth/token`. The default base
  URL is therefore `https://ccapi.mightycall.com/v4`, the host of the current documentation
  and of Call Center accounts; a Classic account sets `https://api.mightycall.com/v4` as the
  connection's base URL. Every other path below is relative to the same base. The support
  pages confirm the hosts, the token exchange and the 24-hour lifetime; the data endpoints
  below follow the v4 reference as this connector was first written against it (the
  support pages list the same capabilities: calls, voicemails, business numbers, contacts);
- auth: `POST /auth/token` with header `x-api-key: <API key>` and a form-encoded body
  `grant_type=client_credentials`, `client_id=<API key>`, `client_secret=<User key>` (Classic
  accounts may use the user's extension instead) answers `{"access_token": "...",
  "expires_in": 86400, "token_type": "bearer", "refresh_token": "..."}`: a bearer token valid
  24 hours. Every other request sends `Authorization: Bearer <access_token>` and
  `x-api-key: <API key>`. The token is fetched lazily on the first request, renewed shortly
  before `expires_in` runs out (by asking again with the keys, which the guides allow as
  "refreshed or reissued"), and once more when a request answers 401 (a token revoked
  mid-run). The API key and the User key are two secret settings, `token` and `secret`,
  both stored encrypted; a connection saved before they were two fields may still hold
  `API_KEY:USER_KEY` in `token`, which is split at the first colon;
- envelope: `{"data": {...}, "isSuccess": true}`; the records live under `data.<name>`;
  `isSuccess: false` carries `error.message`;
- `GET /api/phonenumbers` → `data.phoneNumbers` (`id`, `number`, `name`/`label`), one page;
- `GET /api/calls?skip=&pageSize=[&startUtc=&endUtc=]` → `data.calls`, `data.total`, offset
  paging, newest first. A call: `id`, `direction` (Incoming/Outgoing), `callStatus`
  (Connected, Missed, VoiceMail, ...), `dateTimeUtc`, `duration` (documented in milliseconds;
  "hh:mm:ss" text is accepted too), `caller` {`phone`, `name`}, `called`
  [{`phone`, `name`, `extension`}], `businessNumber`, `callRecord` {`uri`}, and the agent's
  email when present (`agent`/`user`, or `email` on the agent's leg). Incremental reads
  filter `startUtc` from the cursor minus `lookback_minutes` (default 60), because a call
  still ringing or being recorded at one sync changes after it;
- `GET /api/contacts?skip=&pageSize=` → `data.contacts`, `data.total` (`id`, `firstName`,
  `lastName`, `email`/`emails`, `phone`/`phones`, `company`, `createdUtc`, `updatedUtc`).
  The listing has no modification filter, so an incremental read pages through every
  contact and keeps those whose `updatedUtc` is at or after the cursor;
- voicemails: the docs describe them only as journal entries, so they are read from
  `GET /api/journal/requests?type=Voicemail&page=&pageSize=[&from=]` → `data.requests`
  (page-number paging, first page 1, stop on a short page). An entry: `id`, `type`,
  `created`, `direction`, `client` {`address`, `name`}, `businessNumber`, `duration` (ms),
  `recording` {`link`}, and `callId` when it belongs to a call. They land in the calls table
  with status "voicemail"; an entry naming its call is stored on that call's row (the same
  call is listed by /api/calls with callStatus VoiceMail), so a voicemail is never counted
  twice; an entry without a call is keyed `voicemail:<journal id>`;
- errors: 401 `{"message": "Authorization has been denied for this request."}`; a rejected
  client id/secret answers 401 at `/auth/token` and reads as "token rejected (401)".
`test_connection` obtains a token and lists the phone numbers.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import (
    AuthError,
    ConfigField,
    Connector,
    ConnectorError,
    MappingContext,
    Page,
    ReadRequest,
    RecordError,
    Stream,
    optional_time,
    parse_time,
    register,
)

TOKEN_PATH = "/auth/token"
#: Renew the access token this long before MightyCall says it expires.
TOKEN_MARGIN = 60.0
DIRECTIONS = {
    "incoming": "inbound",
    "inbound": "inbound",
    "outgoing": "outbound",
    "outbound": "outbound",
}
STATUSES = {
    "connected": "answered",
    "answered": "answered",
    "missed": "missed",
    "noanswer": "missed",
    "notanswered": "missed",
    "busy": "missed",
    "rejected": "missed",
    "abandoned": "missed",
    "failed": "missed",
    "voicemail": "voicemail",
}
HMS = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def utc_text(moment: datetime) -> str:
    """MightyCall's filter format: ISO-8601 UTC with a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def split_credentials(credentials: dict[str, str]) -> tuple[str, str]:
    """(API key, user key) from `token` + `secret`, or from a single `API_KEY:USER_KEY` token."""
    token = (credentials.get("token") or "").strip()
    secret = (credentials.get("secret") or "").strip()
    if not secret and ":" in token:
        token, secret = (part.strip() for part in token.split(":", 1))
    return token, secret


def duration_seconds(value: Any) -> int:
    """Whole seconds from milliseconds (number or digits) or "hh:mm:ss" / "mm:ss" text."""
    if value in (None, ""):
        return 0
    millis = value
    if isinstance(value, str):
        text = value.strip()
        match = HMS.match(text)
        if match:
            hours, minutes, seconds = match.groups()
            return round(int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds))
        try:
            millis = float(text)
        except ValueError:
            raise RecordError(f"duration {value!r} is not milliseconds or hh:mm:ss") from None
    if isinstance(millis, bool) or not isinstance(millis, int | float) or not math.isfinite(millis):
        raise RecordError(f"duration {value!r} is not milliseconds or hh:mm:ss")
    if millis < 0:
        raise RecordError(f"duration {value!r} is negative")
    return round(millis / 1000)


def _number(value: Any) -> str:
    """A phone number given as text or as {"number"/"phone": ...}."""
    if isinstance(value, dict):
        value = value.get("number") or value.get("phone") or value.get("address")
    return str(value).strip() if value not in (None, "") else ""


def _label(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("label") or value.get("name") or "")
    return ""


def _email(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("email") or value.get("value")
    text = str(value).strip() if isinstance(value, str) else ""
    return text or None


def _first(record: dict, single: str, plural: str, *keys: str) -> str | None:
    """`phone` or the first of `phones` (strings or objects holding one of `keys`)."""
    value = record.get(single)
    if value in (None, "") and isinstance(record.get(plural), list) and record[plural]:
        value = record[plural][0]
    if isinstance(value, dict):
        value = next((value[k] for k in keys if value.get(k)), None)
    return str(value).strip() if value not in (None, "") else None


def _object(record: dict, key: str) -> dict:
    """`record[key]` when it is an object, else {} (absent, null or some other shape)."""
    value = record.get(key)
    return value if isinstance(value, dict) else {}


@register
class MightyCallConnector(Connector):
    key = "mightycall"
    label = "MightyCall"
    icon = "telephone"
    #: Call Center accounts and the current documentation; Classic accounts use
    #: https://api.mightycall.com/v4 (see the module docstring).
    default_base_url = "https://ccapi.mightycall.com/v4"
    streams = (
        Stream(
            "phone_numbers",
            "phone_numbers",
            description="The account's business phone numbers",
        ),
        Stream(
            "calls",
            "calls",
            cursor_field="dateTimeUtc",
            description="Call history: direction, status, duration, recordings",
        ),
        Stream(
            "contacts",
            "contacts",
            cursor_field="updatedUtc",
            description="The MightyCall address book",
        ),
        Stream(
            "voicemails",
            "calls",
            cursor_field="created",
            description="Voicemails from the journal, stored as calls with status voicemail",
        ),
    )
    config_fields = (
        ConfigField(
            "token",
            "API key",
            "secret",
            help="MightyCall → Integrations → API (managers and administrators).",
        ),
        ConfigField(
            "secret",
            "User key",
            "secret",
            help="Shown next to the API key for users it is turned on for; "
            "Classic accounts may enter the user's extension.",
        ),
        ConfigField(
            "lookback_minutes",
            "Re-read recent calls (minutes)",
            "number",
            required=False,
            minimum=0,
            maximum=7 * 24 * 60,
            placeholder="60",
            help="Calls still ringing or being recorded at one sync are read again at the next.",
        ),
    )
    docs = (
        "The API key and a User key from MightyCall's API settings. Call Center accounts use "
        "the default address; Classic accounts set https://api.mightycall.com/v4."
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_key, self.user_key = split_credentials(self.credentials)
        # a connection saved as one API_KEY:USER_KEY box holds both keys in `token`
        self.credentials.update(token=self.api_key, secret=self.user_key)
        if self.api_key:
            self.client.session.headers["x-api-key"] = self.api_key
        self._token: str | None = None
        self._token_expires = 0.0

    def auth_headers(self) -> dict[str, str]:
        # The Bearer header carries the exchanged access token, set once we have one.
        return {}

    # auth ---------------------------------------------------------------------------------
    def _authorize(self, *, renew: bool = False) -> None:
        if self._token and not renew and time.monotonic() < self._token_expires:
            return
        if not self.api_key or not self.user_key:
            raise AuthError(
                "MightyCall needs the API key and the User key: enter both in the "
                "connection's settings"
            )
        self.client.session.headers.pop("Authorization", None)
        body = self.client.post_form(
            TOKEN_PATH,
            {
                "grant_type": "client_credentials",
                "client_id": self.api_key,
                "client_secret": self.user_key,
            },
        )
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise ConnectorError(f"{self.client.host} answered /auth/token without an access_token")
        try:
            lifetime = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._token = str(token)
        self._token_expires = time.monotonic() + max(lifetime - TOKEN_MARGIN, 1.0)
        self.client.session.headers["Authorization"] = f"Bearer {self._token}"

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict:
        """GET through the shared client with a valid token; the `data` object of the envelope."""
        self._authorize()
        try:
            body = self.client.get_json(path, params)
        except AuthError as exc:
            if not str(exc).startswith("token rejected (401)"):
                raise
            # The access token was revoked or expired early: exchange the keys once more.
            self._authorize(renew=True)
            body = self.client.get_json(path, params)
        if not isinstance(body, dict):
            raise ConnectorError(f"{self.client.host} answered {path} with no JSON object")
        if body.get("isSuccess") is False:
            # error.message is the server's text: the message says which call failed, not that
            error = body.get("error")
            code = error.get("code") if isinstance(error, dict) else None
            detail = f"error code {code}" if isinstance(code, int) else "isSuccess is false"
            raise ConnectorError(f"MightyCall refused {path} ({detail})")
        data = body.get("data")
        if not isinstance(data, dict):
            raise ConnectorError(f"{self.client.host} answered {path} without a data object")
        return data

    # connection and reading ---------------------------------------------------------------
    def test_connection(self) -> str:
        numbers = self._get("/api/phonenumbers").get("phoneNumbers") or []
        count = len(numbers)
        return f"Connected to MightyCall: {count} phone number{'' if count == 1 else 's'}"

    def read(self, request: ReadRequest) -> Iterator[Page]:
        name = request.stream.name
        size = max(1, min(request.page_size, 100))
        if name == "phone_numbers":
            data = self._get("/api/phonenumbers")
            self.stats.pages += 1
            records = _records(data, "phoneNumbers")
            yield Page(records, len(records))
        elif name == "calls":
            params: dict[str, Any] = {}
            if request.since is not None:
                try:
                    lookback = timedelta(minutes=float(self.settings.get("lookback_minutes", 60)))
                except (TypeError, ValueError) as exc:
                    raise ConnectorError("lookback_minutes must be a number of minutes") from exc
                params["startUtc"] = utc_text(request.since - lookback)
                params["endUtc"] = utc_text(datetime.now(UTC) + timedelta(days=1))
            yield from self._offset("/api/calls", params, "calls", size, request.max_records)
        elif name == "contacts":
            pages = self._offset("/api/contacts", {}, "contacts", size, None)
            if request.since is None:
                yield from _capped(pages, request.max_records)
            else:
                yield from _capped(_changed_since(pages, request.since), request.max_records)
        elif name == "voicemails":
            params = {"type": "Voicemail"}
            if request.since is not None:
                params["from"] = utc_text(request.since)
            yield from self._journal(params, size, request.max_records)
        else:  # pragma: no cover - Connector.stream() rejects unknown names first
            raise ConnectorError(f"MightyCall has no stream {name!r}")

    def _offset(
        self, path: str, params: dict, key: str, size: int, max_records: int | None
    ) -> Iterator[Page]:
        """`skip`/`pageSize` paging; stop on a short page, at `data.total`, or at max_records."""
        skip = 0
        while True:
            data = self._get(path, {**params, "skip": skip, "pageSize": size})
            self.stats.pages += 1
            records = _records(data, key)
            total = data.get("total")
            total = total if isinstance(total, int) and not isinstance(total, bool) else None
            yield Page(records, total)
            skip += len(records)
            if (
                len(records) < size
                or (total is not None and skip >= total)
                or (max_records and skip >= max_records)
            ):
                return

    def _journal(self, params: dict, size: int, max_records: int | None) -> Iterator[Page]:
        """`page`/`pageSize` paging of the journal, from page 1 until a short page."""
        page, seen = 1, 0
        while True:
            data = self._get("/api/journal/requests", {**params, "page": page, "pageSize": size})
            self.stats.pages += 1
            records = _records(data, "requests")
            # The journal lists every kind of request; keep the voicemails even if the
            # account's API ignores the type filter.
            yield Page([r for r in records if _is_voicemail(r)])
            seen += len(records)
            if len(records) < size or (max_records and seen >= max_records):
                return
            page += 1

    # mapping ------------------------------------------------------------------------------
    def external_id(self, stream: Stream, raw: dict) -> str:
        if stream.name == "voicemails" and isinstance(raw, dict):
            if raw.get("callId") not in (None, ""):
                return str(raw["callId"])
            if raw.get("id") in (None, ""):
                raise RecordError("missing 'id'")
            return f"voicemail:{raw['id']}"
        if stream.name == "phone_numbers" and isinstance(raw, dict) and not raw.get("id"):
            number = _number(raw.get("number"))
            if number:
                return number
        return super().external_id(stream, raw)

    def map_record(self, stream: Stream, raw: dict, ctx: MappingContext) -> dict:
        if stream.name == "phone_numbers":
            return self._phone_number(raw)
        if stream.name == "calls":
            return self._call(raw, ctx)
        if stream.name == "contacts":
            return self._contact(raw)
        return self._voicemail(raw, ctx)

    def _phone_number(self, raw: dict) -> dict:
        number = _number(raw.get("number"))
        if not number:
            raise RecordError("phone number has no number")
        label = raw.get("name") or raw.get("label") or raw.get("friendlyName") or number
        return {
            "number": number[:32],
            "label": str(label)[:200],
            "external_id": str(raw.get("id") or number),
        }

    def _call(self, raw: dict, ctx: MappingContext) -> dict:
        direction = _direction(raw.get("direction"))
        status = STATUSES.get(str(raw.get("callStatus") or "").lower().replace(" ", ""))
        if status is None:
            raise RecordError(f"unknown callStatus {raw.get('callStatus')!r}")
        started = parse_time(raw.get("dateTimeUtc"), field_name="dateTimeUtc")
        seconds = duration_seconds(raw.get("duration"))
        caller = _object(raw, "caller")
        called = [c for c in raw.get("called") or [] if isinstance(c, dict)]
        business = _number(raw.get("businessNumber"))
        if direction == "inbound":
            from_number = _number(caller.get("phone"))
            to_number = business or (_number(called[0].get("phone")) if called else "")
            agent_leg = called[0] if called else {}
        else:
            from_number = business or _number(caller.get("phone"))
            to_number = _number(called[0].get("phone")) if called else ""
            agent_leg = caller
        agent = (
            _email(raw.get("agent")) or _email(raw.get("user")) or _email(agent_leg.get("email"))
        )
        record = _object(raw, "callRecord")
        return {
            "direction": direction,
            "from_number": from_number[:32],
            "to_number": to_number[:32],
            "status": status,
            "started_at": started,
            "ended_at": started + timedelta(seconds=seconds),
            "duration_seconds": seconds,
            "recording_url": (record.get("uri") or None),
            "phone_number_id": ctx.phone_number_id(
                business or None, label=_label(raw.get("businessNumber"))
            ),
            "agent_id": ctx.agent_id(agent),
            "_cursor": started,
        }

    def _voicemail(self, raw: dict, ctx: MappingContext) -> dict:
        created = parse_time(raw.get("created"), field_name="created")
        seconds = duration_seconds(raw.get("duration"))
        client = _object(raw, "client")
        business = _number(raw.get("businessNumber"))
        recording = _object(raw, "recording")
        return {
            "direction": _direction(raw.get("direction") or "Incoming"),
            "from_number": _number(client.get("address") or client.get("phone"))[:32],
            "to_number": business[:32],
            "status": "voicemail",
            "started_at": created,
            "ended_at": created + timedelta(seconds=seconds),
            "duration_seconds": seconds,
            "recording_url": recording.get("link") or recording.get("uri") or None,
            "phone_number_id": ctx.phone_number_id(
                business or None, label=_label(raw.get("businessNumber"))
            ),
            "agent_id": ctx.agent_id(_email(raw.get("user")) or _email(raw.get("agent"))),
            "_cursor": created,
        }

    def _contact(self, raw: dict) -> dict:
        email = _first(raw, "email", "emails", "email", "value", "address")
        if email and not EMAIL.match(email):
            raise RecordError(f"email {email!r} is not an email address")
        updated = optional_time(raw.get("updatedUtc"), field_name="updatedUtc")
        created = optional_time(raw.get("createdUtc"), field_name="createdUtc")
        row: dict[str, Any] = {
            "first_name": str(raw.get("firstName") or "")[:200],
            "last_name": str(raw.get("lastName") or "")[:200],
            "email": email,
            "phone": (_first(raw, "phone", "phones", "number", "phone", "value") or "")[:32]
            or None,
            "company": (str(raw.get("company") or "")[:300] or None),
        }
        if updated or created:
            row["updated_at"] = updated or created
            row["created_at"] = created or updated
            row["_cursor"] = updated or created
        return row


def _records(data: dict, key: str) -> list[dict]:
    items = data.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise ConnectorError(f"expected a list under data.{key}, got {type(items).__name__}")
    return items


def _direction(value: Any) -> str:
    direction = DIRECTIONS.get(str(value or "").lower())
    if direction is None:
        raise RecordError(f"unknown direction {value!r}")
    return direction


def _is_voicemail(record: Any) -> bool:
    if not isinstance(record, dict):
        return True  # let the mapper report it
    kind = str(record.get("type") or "voicemail").lower().replace(" ", "")
    return kind == "voicemail"


def _changed_since(pages: Iterator[Page], since: datetime) -> Iterator[Page]:
    """Client-side incremental filter: contacts updated at or after `since`, or undated."""
    for page in pages:
        kept = []
        for record in page.records:
            stamp = None
            if isinstance(record, dict):
                stamp = record.get("updatedUtc") or record.get("createdUtc")
            try:
                if stamp and parse_time(stamp) < since:
                    continue
            except RecordError:
                pass  # the mapper reports it
            kept.append(record)
        yield Page(kept)


def _capped(pages: Iterator[Page], max_records: int | None) -> Iterator[Page]:
    """Stop reading once max_records records have been handed over."""
    handed = 0
    for page in pages:
        yield page
        handed += len(page.records)
        if max_records and handed >= max_records:
            return
