"""A fake MightyCall v4 API: client-credentials token, `data` envelopes, skip/pageSize paging.

Follows MightyCall's support pages "Authentication via API" (Call Center, served at
ccapi.mightycall.com/v4) and "Authentication via API (Classic)" (api.mightycall.com/v4):
`POST /v4/auth/token` needs the `x-api-key` header and a form-encoded body
(`grant_type=client_credentials`, `client_id` = the API key, `client_secret` = the User key)
and answers a 24-hour bearer token (`access_token`, `expires_in: 86400`, `refresh_token`).
With `Authorization: Bearer <issued token>` plus `x-api-key` it serves
`/v4/api/phonenumbers`, `/v4/api/calls` (newest first, `startUtc`/`endUtc` filters,
`data.total`), `/v4/api/contacts` and `/v4/api/journal/requests` (`type`, `from`/`to`,
`page`/`pageSize`), as connectors/mightycall.py describes them. The same fake stands for
either host: only the path below `/v4` matters.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from tests.fakes.base import FakeApi, Request, Response, Unauthorized

PREFIX = "/v4"
CALL_EPOCH = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
CONTACT_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
MAX_PAGE = 100
NUMBERS = [
    ("pn-1", "+18005550101", "Main line"),
    ("pn-2", "+18005550102", "Support"),
    ("pn-3", "+18005550103", "Sales"),
]
AGENTS = ["ana@example.com", "ben@example.com"]


def iso(moment: datetime) -> str:
    """MightyCall's timestamps: ISO-8601 UTC with a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class FakeMightyCall(FakeApi):
    def __init__(
        self,
        api_key: str = "mc-api-key",
        user_key: str = "mc-user-key",
        *,
        calls: int = 0,
        contacts: int = 0,
    ):
        super().__init__()
        self.api_key = api_key
        self.user_key = user_key
        self.tokens: set[str] = set()
        self.tokens_issued = 0
        self.phone_numbers = [{"id": i, "number": n, "name": label} for i, n, label in NUMBERS]
        self.calls: list[dict] = []  # chronological; served newest first
        self.contacts: list[dict] = []
        self.journal: list[dict] = []
        self.contact_clock = CONTACT_EPOCH
        self.add_calls(calls)
        self.add_contacts(contacts)

    # data ---------------------------------------------------------------------------------
    def call_time(self, n: int) -> datetime:
        return CALL_EPOCH + timedelta(minutes=10 * n)

    def add_calls(self, count: int) -> list[dict]:
        """Calls 10 minutes apart; every 10th n≡3 missed, n≡7 voicemail (with a journal entry)."""
        added = []
        start = len(self.calls)
        for n in range(start, start + count):
            status = {3: "Missed", 7: "VoiceMail"}.get(n % 10, "Connected")
            direction = "Outgoing" if n % 4 == 1 and status == "Connected" else "Incoming"
            number_id, business, label = NUMBERS[n % 3]
            customer = f"+1415{n:07d}"
            agent = AGENTS[n % 2]
            ms = {"Connected": (60 + n % 240) * 1000, "Missed": 0, "VoiceMail": 30_000}[status]
            # most durations are milliseconds as the docs say; some accounts send hh:mm:ss
            duration: int | str = hms(ms // 1000) if n % 25 == 0 else ms
            call_id = f"call-{n:05d}"
            record = {
                "id": call_id,
                "requestGuid": f"jr-{n:05d}",
                "direction": direction,
                "callStatus": status,
                "dateTimeUtc": iso(self.call_time(n)),
                "duration": duration,
                "businessNumber": {"number": business, "label": label, "id": number_id},
                "callRecord": None,
            }
            if direction == "Incoming":
                record["caller"] = {"phone": customer, "name": f"Customer {n}"}
                record["called"] = (
                    [{"phone": business, "name": "Agent", "extension": "101", "email": agent}]
                    if status == "Connected"
                    else [{"phone": business, "name": label, "extension": None}]
                )
            else:
                record["caller"] = {"phone": business, "name": "Agent", "email": agent}
                record["called"] = [{"phone": customer, "name": f"Customer {n}"}]
            if status in ("Connected", "VoiceMail"):
                record["callRecord"] = {
                    "fileName": f"{call_id}.mp3",
                    "uri": f"https://recordings.mightycall.example/{call_id}.mp3",
                }
            self.calls.append(record)
            added.append(record)
            if status == "VoiceMail":
                self.journal.append(
                    {
                        "id": f"jr-{n:05d}",
                        "type": "Voicemail",
                        "callId": call_id,
                        "created": record["dateTimeUtc"],
                        "direction": "Incoming",
                        "state": "New",
                        "client": {"address": customer, "name": f"Customer {n}"},
                        "businessNumber": record["businessNumber"],
                        "duration": 30_000,
                        "recording": {"link": record["callRecord"]["uri"]},
                    }
                )
        return added

    def add_journal(self, record: dict) -> None:
        self.journal.append(record)

    def add_raw_call(self, record: dict) -> None:
        self.calls.append(record)

    def modify_call(self, call_id: str, **fields) -> None:
        for record in self.calls:
            if record.get("id") == call_id:
                record.update(fields)
                return
        raise KeyError(call_id)

    def tick(self) -> datetime:
        self.contact_clock += timedelta(minutes=1)
        return self.contact_clock

    def add_contacts(self, count: int) -> list[dict]:
        added = []
        start = len(self.contacts)
        for n in range(start, start + count):
            when = iso(self.tick())
            record = {
                "id": f"ct-{n:05d}",
                "firstName": f"First{n}",
                "lastName": f"Last{n}",
                "company": f"Company {n % 13}",
                "createdUtc": when,
                "updatedUtc": when,
            }
            # the docs show both a single value and lists; accounts use either
            if n % 2:
                record["emails"] = [{"email": f"person{n}@example.com", "type": "work"}]
                record["phones"] = [{"number": f"+1212{n:07d}", "type": "mobile"}]
            else:
                record["email"] = f"person{n}@example.com"
                record["phone"] = f"+1212{n:07d}"
            self.contacts.append(record)
            added.append(record)
        return added

    def add_raw_contact(self, record: dict) -> None:
        self.contacts.append(record)

    def modify_contact(self, contact_id: str, **fields) -> None:
        for record in self.contacts:
            if record.get("id") == contact_id:
                record.update(fields)
                record["updatedUtc"] = iso(self.tick())
                return
        raise KeyError(contact_id)

    def expire_tokens(self) -> None:
        """Revoke every access token issued so far (as a token past expires_in)."""
        with self.lock:
            self.tokens.clear()

    # protocol -----------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if not request.path.startswith(PREFIX + "/"):
            return self._not_found(request)
        path = request.path[len(PREFIX) :].rstrip("/").lower()
        if path == "/auth/token":
            return self._token(request)
        self._require_token(request)
        if request.method != "GET":
            return Response(
                405, {"message": "The requested resource does not support this method."}
            )
        if path == "/api/phonenumbers":
            return self._ok({"phoneNumbers": self.phone_numbers})
        if path == "/api/profile":
            return self._ok({"name": "Fake Business", "email": "owner@example.com"})
        if path == "/api/calls":
            return self._calls(request.query)
        if path == "/api/contacts":
            return self._offset(self.contacts, request.query, "contacts")
        if path == "/api/journal/requests":
            return self._journal(request.query)
        return self._not_found(request)

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(405, {"error": "invalid_request"})
        if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
            return Response(400, {"error": "invalid_request", "error_description": "form body"})
        raw = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return Response(400, {"error": "unsupported_grant_type"})
        if request.headers.get("x-api-key") != form.get("client_id"):
            return Response(400, {"error": "invalid_request", "error_description": "x-api-key"})
        if (
            self.faults.reject_auth
            or form.get("client_id") != self.api_key
            or form.get("client_secret") != self.user_key
        ):
            return Response(
                401, {"error": "invalid_client", "error_description": "Invalid client credentials"}
            )
        token = secrets.token_hex(16)
        with self.lock:
            self.tokens.add(token)
            self.tokens_issued += 1
        return Response(
            200,
            {
                "access_token": token,
                "expires_in": 86400,
                "token_type": "bearer",
                "refresh_token": secrets.token_hex(16),
            },
        )

    def _require_token(self, request: Request) -> None:
        bearer = request.headers.get("authorization", "")
        token = bearer[len("Bearer ") :] if bearer.startswith("Bearer ") else ""
        if (
            self.faults.reject_auth
            or token not in self.tokens
            or request.headers.get("x-api-key") != self.api_key
        ):
            raise Unauthorized()

    def unauthorized(self) -> Response:
        return Response(401, {"message": "Authorization has been denied for this request."})

    def _ok(self, data: dict) -> Response:
        return Response(200, {"data": data, "isSuccess": True})

    def _bad(self, message: str) -> Response:
        return Response(400, {"isSuccess": False, "error": {"code": 400, "message": message}})

    def _not_found(self, request: Request) -> Response:
        return Response(
            404,
            {
                "message": f"No HTTP resource was found that matches the request URI '{request.path}'."
            },
        )

    def _window(self, query: dict) -> tuple[int, int] | Response:
        try:
            skip = int(query.get("skip", 0))
            size = int(query.get("pageSize", 10))
        except ValueError:
            return self._bad("skip and pageSize must be integers")
        if skip < 0 or not 1 <= size <= MAX_PAGE:
            return self._bad(f"pageSize must be between 1 and {MAX_PAGE}")
        return skip, size

    def _offset(self, records: list[dict], query: dict, key: str) -> Response:
        window = self._window(query)
        if isinstance(window, Response):
            return window
        skip, size = window
        return self._ok({key: records[skip : skip + size], "total": len(records)})

    def _calls(self, query: dict) -> Response:
        try:
            start = parse(query["startUtc"]) if query.get("startUtc") else None
            end = parse(query["endUtc"]) if query.get("endUtc") else None
        except ValueError:
            return self._bad("startUtc and endUtc must be UTC date-times")

        def inside(record: dict) -> bool:
            try:
                when = parse(record["dateTimeUtc"])
            except (KeyError, TypeError, ValueError):
                return start is None and end is None
            return (start is None or when >= start) and (end is None or when <= end)

        matches = [r for r in self.calls if inside(r)]
        matches.reverse()  # newest first, as MightyCall lists them
        return self._offset(matches, query, "calls")

    def _journal(self, query: dict) -> Response:
        try:
            page = int(query.get("page", 1))
            size = int(query.get("pageSize", 10))
        except ValueError:
            return self._bad("page and pageSize must be integers")
        if page < 1 or not 1 <= size <= MAX_PAGE:
            return self._bad(f"page must be at least 1 and pageSize at most {MAX_PAGE}")
        kind = (query.get("type") or "").lower()
        start = parse(query["from"]) if query.get("from") else None
        end = parse(query["to"]) if query.get("to") else None
        matches = []
        for record in self.journal:
            if kind and str(record.get("type", "")).lower() != kind:
                continue
            try:
                when = parse(record["created"])
            except (KeyError, TypeError, ValueError):
                when = None
            if when is not None and (
                (start is not None and when < start) or (end is not None and when > end)
            ):
                continue
            matches.append(record)
        chunk = matches[(page - 1) * size : page * size]
        return self._ok({"requests": chunk, "currentPage": page})
