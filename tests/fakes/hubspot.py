"""A fake HubSpot CRM v3 objects API that follows HubSpot's published OpenAPI description.

Source: github.com/HubSpot/HubSpot-public-api-spec-collection, the v3 descriptions
PublicApiSpecs/CRM/{Contacts,Companies,Deals}/Rollouts/424/v3/{contacts,companies,deals}.json
(deals are listed there as object type `0-3`; `deals` is the same type by name):

- `GET /crm/v3/objects/{objectType}`: query `after` (string cursor from `paging.next.after`),
  `limit` (int32, default 10), `properties` (comma separated), `archived` (boolean, default
  false: only archived records when true), `associations`, `propertiesWithHistory`; answers
  CollectionResponseSimplePublicObjectWithAssociationsForwardPaging `{results, paging}`;
- `POST /crm/v3/objects/{objectType}/search`: body PublicObjectSearchRequest, whose required
  fields are `after` (string), `filterGroups`, `limit` ("up to 200"), `properties` (strings)
  and `sorts` (an array of *strings*: a property name, `-name` for descending); `query` is
  optional; a Filter needs `propertyName` and an `operator` from the declared enum and carries
  `value`/`highValue` strings or `values`. Answers CollectionResponseWithTotalSimplePublicObject
  `{total, results, paging}`;
- records are SimplePublicObject `{id, properties, createdAt, updatedAt, archived[, archivedAt]}`;
- errors use the Error schema `{message, correlationId, category}` plus `status: "error"`,
  as HubSpot sends them.

Cursors are opaque tokens (not integers), bound to the query that issued them, like the
spec's example `NTI1Cg%3D%3D`; the first page of a search asks `after: "0"`. From HubSpot's
guides, not the spec: a list page holds at most 100 records, a search cannot page past its
first 10,000 results (400), and a rate limit answers 429 with
`{status, message, errorType: "RATE_LIMIT", correlationId, policyName, requestId}`
(developers.hubspot.com/docs/api/usage-details). Every request the spec does not allow is
answered 400 and kept in `rejected`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

from tests.fakes.base import FakeApi, Request, Response

MODIFIED = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
}
TYPE_IDS = {"0-1": "contacts", "0-2": "companies", "0-3": "deals"}
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
LIST_PARAMS = {"after", "limit", "properties", "archived", "associations", "propertiesWithHistory"}
SEARCH_FIELDS = {"after", "filterGroups", "limit", "properties", "query", "sorts"}
SEARCH_REQUIRED = ("after", "filterGroups", "limit", "properties", "sorts")
OPERATORS = {
    "BETWEEN",
    "CONTAINS_TOKEN",
    "EQ",
    "GT",
    "GTE",
    "HAS_PROPERTY",
    "IN",
    "LT",
    "LTE",
    "NEQ",
    "NOT_CONTAINS_TOKEN",
    "NOT_HAS_PROPERTY",
    "NOT_IN",
}
FIRST_PAGE = "0"
LIST_MAX = 100
SEARCH_MAX = 200
MAX_FILTER_GROUPS = 6
DATE_PROPERTIES = {"createdate", "lastmodifieddate", "hs_lastmodifieddate"}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def millis(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


class Invalid(Exception):
    """A request the published spec does not allow (answered 400 VALIDATION_ERROR)."""


class FakeHubSpot(FakeApi):
    def __init__(self, token: str = "pat-good", contacts: int = 0):
        super().__init__()
        self.token = token
        self.objects: dict[str, list[dict]] = {"contacts": [], "companies": [], "deals": []}
        self.clock = EPOCH
        self.search_ceiling = 10_000
        #: Off: search never returns archived records. On: they come back flagged
        #: `archived: true` (the search result schema carries the flag).
        self.archived_in_search = False
        #: On: `sorts` is accepted but not applied (results in id order), as some SDK issues
        #: report for sorts HubSpot could not read; the connector must notice, not lose records.
        self.sorts_ignored = False
        self.rejected: list[tuple[Request, str]] = []
        self.rate_limited = 0
        self._version = 0
        self._sorted: dict[tuple, list[dict]] = {}
        self.add_contacts(contacts)

    # data ---------------------------------------------------------------------------------
    def tick(self, seconds: float = 1) -> datetime:
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def add_contacts(self, count: int) -> list[dict]:
        added = []
        start = len(self.objects["contacts"])
        for n in range(start, start + count):
            when = self.tick()
            record = {
                "id": str(1000 + n),
                "properties": {
                    "firstname": f"First{n}",
                    "lastname": f"Last{n}",
                    "email": f"person{n}@example.com",
                    "phone": f"+1555{n:07d}",
                    "company": f"Company {n % 17}",
                    "lifecyclestage": "lead" if n % 3 else "customer",
                    "createdate": iso(when),
                    "lastmodifieddate": iso(when),
                    "hs_object_id": str(1000 + n),
                },
                "createdAt": iso(when),
                "updatedAt": iso(when),
                "archived": False,
            }
            self.objects["contacts"].append(record)
            added.append(record)
        self._changed()
        return added

    def add_raw(self, kind: str, record: dict) -> None:
        self.objects[kind].append(record)
        self._changed()

    def _find(self, kind: str, record_id: str) -> dict:
        for record in self.objects[kind]:
            if record.get("id") == record_id:
                return record
        raise KeyError(record_id)

    def modify(self, kind: str, record_id: str, **properties) -> None:
        self.touch(kind, [record_id], **properties)

    def touch(self, kind: str, ids: list[str], *, per_tick: int = 1, **properties) -> None:
        """Modify records in order, `per_tick` of them sharing each modification time."""
        for n, record_id in enumerate(ids):
            if n % per_tick == 0:
                when = self.tick(0.001)
            record = self._find(kind, record_id)
            record["properties"].update(properties)
            record["properties"][MODIFIED[kind]] = iso(when)
            record["updatedAt"] = iso(when)
            # HubSpot's list endpoint stays ordered by id, not by modification.
        self._changed()

    def archive(self, kind: str, record_id: str) -> None:
        when = self.tick()
        record = self._find(kind, record_id)
        record.update(archived=True, archivedAt=iso(when), updatedAt=iso(when))
        record["properties"][MODIFIED[kind]] = iso(when)
        self._changed()

    def rate_limit_next(self, count: int, policy: str = "SECONDLY") -> None:
        """The next `count` requests answer 429 with HubSpot's documented rate-limit body."""
        with self.lock:
            self.rate_limited += count
            self._policy = policy

    def _changed(self) -> None:
        self._version += 1
        self._sorted.clear()

    # protocol -----------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        with self.lock:
            limited = self.rate_limited > 0
            self.rate_limited -= 1 if limited else 0
        if limited:
            policy = getattr(self, "_policy", "SECONDLY")
            return Response(
                429,
                {
                    "status": "error",
                    "message": f"You have reached your {policy.lower()} limit.",
                    "errorType": "RATE_LIMIT",
                    "correlationId": str(uuid.uuid4()),
                    "policyName": policy,
                    "requestId": str(uuid.uuid4()),
                },
            )
        self.require_auth(request, f"Bearer {self.token}")
        parts = request.path.strip("/").split("/")
        kind = TYPE_IDS.get(parts[3], parts[3]) if len(parts) > 3 else None
        if parts[:3] != ["crm", "v3", "objects"] or kind not in self.objects:
            return self._error(404, "OBJECT_NOT_FOUND", "resource not found")
        try:
            if len(parts) == 5 and parts[4] == "search" and request.method == "POST":
                return self._search(kind, request.body)
            if len(parts) == 4 and request.method == "GET":
                return self._list(kind, request.query)
        except Invalid as exc:
            self.rejected.append((request, str(exc)))
            return self._error(400, "VALIDATION_ERROR", str(exc))
        return self._error(405, "METHOD_NOT_ALLOWED", "method not allowed")

    def _error(self, status: int, category: str, message: str) -> Response:
        return Response(
            status,
            {
                "status": "error",
                "message": message,
                "correlationId": str(uuid.uuid4()),
                "category": category,
            },
        )

    def unauthorized(self) -> Response:
        return self._error(
            401,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
        )

    # cursors: opaque to the client, bound to the query that issued them -------------------
    def _cursor(self, scope: str, offset: int) -> str:
        raw = json.dumps({"s": scope, "o": offset}).encode()
        return base64.urlsafe_b64encode(raw).decode()

    def _offset(self, scope: str, after) -> int:
        if after == FIRST_PAGE:
            return 0
        if not isinstance(after, str) or not after:
            raise Invalid("after must be a paging cursor string")
        try:
            data = json.loads(base64.urlsafe_b64decode(after.encode()))
            offset = int(data["o"])
        except (ValueError, KeyError, TypeError):
            raise Invalid(
                f"after {after[:40]!r} is not a paging cursor this server issued"
            ) from None
        if data.get("s") != scope:
            raise Invalid("after is a cursor of another query")
        return offset

    def _paging(self, scope: str, total: int, offset: int, limit: int) -> dict:
        nxt = offset + limit
        if nxt >= total:
            return {}
        after = self._cursor(scope, nxt)
        return {"paging": {"next": {"after": after, "link": f"?after={after}"}}}

    # list ---------------------------------------------------------------------------------
    def _list(self, kind: str, query: dict) -> Response:
        unknown = set(query) - LIST_PARAMS
        if unknown:
            raise Invalid(f"unknown query parameter(s): {', '.join(sorted(unknown))}")
        limit = _int(query.get("limit", "10"), "limit")
        if not 1 <= limit <= LIST_MAX:
            raise Invalid(f"limit must be between 1 and {LIST_MAX}")
        archived = query.get("archived", "false")
        if archived not in ("true", "false"):
            raise Invalid("archived must be true or false")
        wanted = _names(query.get("properties"))
        rows = [r for r in self.objects[kind] if bool(r.get("archived")) == (archived == "true")]
        scope = f"list:{kind}:{archived}"
        offset = self._offset(scope, query["after"]) if "after" in query else 0
        chunk = [self._shaped(kind, r, wanted) for r in rows[offset : offset + limit]]
        return Response(200, {"results": chunk} | self._paging(scope, len(rows), offset, limit))

    def _shaped(self, kind: str, record: dict, wanted: list[str] | None) -> dict:
        """A record with the properties asked for (and HubSpot's defaults); malformed as given."""
        props = record.get("properties")
        if not isinstance(props, dict) or wanted is None:
            return record
        keep = set(wanted) | {"hs_object_id", "createdate", MODIFIED[kind]}
        return record | {"properties": {k: v for k, v in props.items() if k in keep}}

    # search -------------------------------------------------------------------------------
    def _search(self, kind: str, body) -> Response:
        if not isinstance(body, dict):
            raise Invalid("the body must be a PublicObjectSearchRequest object")
        missing = [name for name in SEARCH_REQUIRED if name not in body]
        if missing:
            raise Invalid(f"missing required field(s): {', '.join(missing)}")
        unknown = set(body) - SEARCH_FIELDS
        if unknown:
            raise Invalid(f"unknown field(s): {', '.join(sorted(unknown))}")
        limit = body["limit"]
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= SEARCH_MAX:
            raise Invalid(f"limit must be an integer between 1 and {SEARCH_MAX}")
        properties = body["properties"]
        if not isinstance(properties, list) or not all(isinstance(p, str) for p in properties):
            raise Invalid("properties must be an array of strings")
        sorts = body["sorts"]
        if not isinstance(sorts, list) or not all(isinstance(s, str) for s in sorts):
            raise Invalid("sorts must be an array of strings (property names)")
        if "query" in body and not isinstance(body["query"], str):
            raise Invalid("query must be a string")
        groups = body["filterGroups"]
        if not isinstance(groups, list) or len(groups) > MAX_FILTER_GROUPS:
            raise Invalid(f"filterGroups must be an array of at most {MAX_FILTER_GROUPS} groups")
        for group in groups:
            _check_group(group)
        scope = (
            "search:"
            + hashlib.sha256(
                json.dumps([kind, groups, sorts, body.get("query")], sort_keys=True).encode()
            ).hexdigest()[:16]
        )
        offset = self._offset(scope, body["after"])
        if offset + limit > self.search_ceiling:
            raise Invalid(
                f"Search results are limited to {self.search_ceiling:,}: "
                "narrow the query instead of paging further"
            )
        matches = self._matches(kind, groups, sorts)
        chunk = [self._shaped(kind, r, properties) for r in matches[offset : offset + limit]]
        answer = {"total": len(matches), "results": chunk}
        return Response(200, answer | self._paging(scope, len(matches), offset, limit))

    def _matches(self, kind: str, groups: list[dict], sorts: list[str]) -> list[dict]:
        key = (kind, json.dumps(groups, sort_keys=True), tuple(sorts), self._version)
        if key in self._sorted:
            return self._sorted[key]
        rows = [
            r
            for r in self.objects[kind]
            if (self.archived_in_search or not r.get("archived"))
            and isinstance(r.get("properties"), dict)
            and (not groups or any(_matches_group(r, g) for g in groups))
        ]
        for spec in reversed(["hs_object_id"] if self.sorts_ignored else sorts or ["hs_object_id"]):
            name = spec.lstrip("-")
            rows.sort(key=lambda r, n=name: _sort_key(r, n), reverse=spec.startswith("-"))
        self._sorted[key] = rows
        return rows


def _int(value, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Invalid(f"{name} must be an integer") from None


def _names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [n.strip() for n in value.split(",") if n.strip()]


def _check_group(group) -> None:
    if (
        not isinstance(group, dict)
        or set(group) != {"filters"}
        or not isinstance(group["filters"], list)
    ):
        raise Invalid("a filter group is an object with a filters array")
    for flt in group["filters"]:
        if not isinstance(flt, dict):
            raise Invalid("a filter is an object")
        if not isinstance(flt.get("propertyName"), str) or flt.get("operator") not in OPERATORS:
            raise Invalid("a filter needs propertyName and an operator HubSpot declares")
        for name in ("value", "highValue"):
            if name in flt and not isinstance(flt[name], str):
                raise Invalid(f"a filter's {name} is a string")
        unknown = set(flt) - {"propertyName", "operator", "value", "highValue", "values"}
        if unknown:
            raise Invalid(f"unknown filter field(s): {', '.join(sorted(unknown))}")


def _value(record: dict, name: str):
    """A property as a comparable value: dates in epoch ms, ids as numbers, else text."""
    props = record.get("properties") or {}
    value = record.get("id") if name == "hs_object_id" else props.get(name)
    if value in (None, ""):
        return None
    if name in DATE_PROPERTIES:
        try:
            return millis(str(value))
        except ValueError:
            return None
    if name == "hs_object_id":
        try:
            return int(value)
        except ValueError:
            return None
    return str(value)


def _operand(name: str, text) -> int | str:
    """A filter's value typed like the property (epoch ms or ISO for dates, numbers for ids)."""
    try:
        if name in DATE_PROPERTIES:
            return int(text) if str(text).lstrip("-").isdigit() else millis(str(text))
        return int(text) if name == "hs_object_id" else str(text)
    except (TypeError, ValueError):
        raise Invalid(f"{text!r} is not a value {name} can be compared with") from None


def _compare(op: str, have, flt: dict, name: str) -> bool:
    want = _operand(name, flt.get("value"))
    if op == "EQ":
        return have == want
    if op == "NEQ":
        return have != want
    if op == "GT":
        return have > want
    if op == "GTE":
        return have >= want
    if op == "LT":
        return have < want
    if op == "LTE":
        return have <= want
    if op == "BETWEEN":
        return want <= have <= _operand(name, flt.get("highValue"))
    contains = str(want).lower() in str(have).lower()
    return contains if op == "CONTAINS_TOKEN" else not contains


def _matches_group(record: dict, group: dict) -> bool:
    for flt in group["filters"]:
        name, op = flt["propertyName"], flt["operator"]
        have = _value(record, name)
        if op == "HAS_PROPERTY":
            ok = have is not None
        elif op == "NOT_HAS_PROPERTY":
            ok = have is None
        elif op in ("IN", "NOT_IN"):
            ok = (have in [_operand(name, v) for v in flt.get("values") or []]) == (op == "IN")
        else:
            ok = have is not None and _compare(op, have, flt, name)
        if not ok:
            return False
    return True


def _sort_key(record: dict, name: str):
    value = _value(record, name)
    return (value is None, value if value is not None else 0)
