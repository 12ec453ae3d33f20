"""HubSpot CRM v3: contacts, companies and deals.

Follows HubSpot's published OpenAPI descriptions (github.com/HubSpot/
HubSpot-public-api-spec-collection, PublicApiSpecs/CRM/{Contacts,Companies,Deals}/Rollouts/
424/v3/*.json) and its CRM search guide (developers.hubspot.com/docs/api/crm/search):
- auth: a private app access token, `Authorization: Bearer <token>`;
- full reads: `GET /crm/v3/objects/{type}?limit=100&properties=a,b&archived=false&after=<cursor>`
  (a list page holds at most 100), paged by `paging.next.after`
  (CollectionResponseSimplePublicObjectWithAssociationsForwardPaging);
- incremental reads: `POST /crm/v3/objects/{type}/search` with a PublicObjectSearchRequest,
  whose required fields are all sent: `filterGroups` (one `GTE` filter on the modification
  property — `lastmodifieddate` for contacts, `hs_lastmodifieddate` for companies and deals —
  in epoch milliseconds), `sorts` (declared as an array of strings: the property name, which
  sorts ascending), `properties`, `limit` (the spec allows up to 200) and `after` (`"0"` for
  the first page, as HubSpot's SDK examples send it, then `paging.next.after`). The answer
  (CollectionResponseWithTotalSimplePublicObject) carries `total`;
- cursors are opaque strings (the spec's example is `NTI1Cg%3D%3D`): they are passed back
  as received, never parsed or counted;
- the 10,000-result ceiling: a search cannot page past its first 10,000 results (HubSpot
  answers 400). Before the next page would cross it, the search starts again with the
  window narrowed to `modified >= the newest modification seen`; the records at exactly
  that moment that were already handed over are skipped by id. Should more than 10,000
  records share one modification time, that moment is read on its own, ordered and
  narrowed by `hs_object_id`, and the search goes on after it;
- records: SimplePublicObject `{id, properties, createdAt, updatedAt, archived}`; records
  flagged `archived: true` (deleted in HubSpot) are skipped, never stored;
- errors: 401 `INVALID_AUTHENTICATION`; 429 `{errorType: "RATE_LIMIT", policyName}` (secondly
  and daily limits; search allows a few requests per second) is retried with backoff by the
  shared client (developers.hubspot.com/docs/api/usage-details).
`test_connection` reads one contact: `GET /crm/v3/objects/contacts?limit=1`.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.base import (
    ConfigField,
    Connector,
    ConnectorError,
    MappingContext,
    Page,
    ReadRequest,
    RecordError,
    Stream,
    cursor_pages,
    optional_time,
    parse_time,
    register,
)

SEARCH_CEILING = 10_000
LIST_LIMIT = 100
SEARCH_LIMIT = 200
FIRST_PAGE = "0"
PROPERTIES = {
    "contacts": [
        "firstname",
        "lastname",
        "email",
        "phone",
        "company",
        "lifecyclestage",
        "lastmodifieddate",
    ],
    "companies": ["name", "domain", "industry", "phone", "city", "country", "hs_lastmodifieddate"],
    "deals": ["dealname", "dealstage", "pipeline", "amount", "closedate", "hs_lastmodifieddate"],
}
MODIFIED = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
}


def _after(body: dict) -> str | None:
    after = (((body or {}).get("paging") or {}).get("next") or {}).get("after")
    return str(after) if after not in (None, "") else None


def _active(records: list[dict]) -> list[dict]:
    """Records HubSpot has not archived (malformed ones pass, for the mapper to report)."""
    return [r for r in records if not (isinstance(r, dict) and r.get("archived") is True)]


def _filter(name: str, operator: str, value: int) -> dict:
    return {"propertyName": name, "operator": operator, "value": str(value)}


@dataclass
class _Window:
    """What one search query handed over: the newest modification and the ids at it."""

    floor: int
    newest: int = 0
    at_newest: set[str] = field(default_factory=set)
    last_id: int | None = None

    def __post_init__(self) -> None:
        self.newest = max(self.newest, self.floor)

    def saw(self, record_id: str, modified: int | None) -> None:
        if record_id.isdigit():
            self.last_id = max(self.last_id or 0, int(record_id))
        if modified is None:
            return
        if modified > self.newest:
            self.newest, self.at_newest = modified, {record_id}
        elif modified == self.newest:
            self.at_newest.add(record_id)


@register
class HubSpotConnector(Connector):
    key = "hubspot"
    label = "HubSpot"
    icon = "people"
    default_base_url = "https://api.hubapi.com"
    max_page_size = LIST_LIMIT
    streams = (
        Stream("contacts", "contacts", cursor_field="updatedAt", description="CRM contacts"),
        Stream("companies", "companies", cursor_field="updatedAt", description="CRM companies"),
        Stream("deals", "deals", cursor_field="updatedAt", description="CRM deals"),
    )
    config_fields = (
        ConfigField(
            "token",
            "Private app access token",
            "secret",
            help="HubSpot → Settings → Integrations → Private apps (pat-…).",
        ),
    )
    docs = "A private app token with the crm.objects.contacts/companies/deals.read scopes."

    def test_connection(self) -> str:
        body = self.client.get_json("/crm/v3/objects/contacts", {"limit": 1})
        if not isinstance(body, dict) or "results" not in body:
            return "Connected to HubSpot, but the answer did not look like the CRM API."
        return "Connected to HubSpot: token accepted, contacts are readable."

    def read(self, request: ReadRequest) -> Iterator[Page]:
        kind = request.stream.name
        if request.since is None:
            params = {
                "limit": max(1, min(request.page_size, LIST_LIMIT)),
                "properties": ",".join(PROPERTIES[kind]),
                "archived": "false",
            }
            for page in cursor_pages(
                self.client,
                f"/crm/v3/objects/{kind}",
                params,
                records_key="results",
                next_cursor=_after,
            ):
                yield Page(_active(page.records), page.total)
            return
        yield from self._search(kind, request.since, max(1, min(request.page_size, SEARCH_LIMIT)))

    # incremental: search by modification, narrowing the window at the ceiling ----------------
    def _ceiling(self) -> int:
        try:
            return max(int(self.settings.get("search_limit", SEARCH_CEILING)), 1)
        except (TypeError, ValueError) as exc:
            raise ConnectorError("search_limit must be a whole number") from exc

    def _search(self, kind: str, since: datetime, limit: int) -> Iterator[Page]:
        """Every record modified at or after `since`, each once, past the 10,000-result ceiling."""
        prop = MODIFIED[kind]
        floor = int(since.timestamp() * 1000)
        handed: set[str] = set()  # ids modified exactly at `floor` that were already handed over
        operator = "GTE"
        total: list[int | None] = [None]
        while True:
            window = _Window(floor)
            finished = yield from self._query(
                kind, [_filter(prop, operator, floor)], prop, limit, handed, window, total
            )
            if finished:
                return
            if window.newest > floor:
                floor, handed, operator = window.newest, window.at_newest, "GTE"
                continue
            # More records than the ceiling share the modification time `floor`: read that
            # moment by id, then go on strictly after it.
            yield from self._same_moment(kind, floor, limit, window.at_newest, total)
            handed, operator = set(), "GT"

    def _same_moment(
        self, kind: str, moment: int, limit: int, handed: set[str], total: list[int | None]
    ) -> Iterator[Page]:
        prop = MODIFIED[kind]
        after_id = 0
        while True:
            window = _Window(moment)
            filters = [_filter(prop, "EQ", moment), _filter("hs_object_id", "GT", after_id)]
            finished = yield from self._query(
                kind, filters, "hs_object_id", limit, handed, window, total
            )
            if finished:
                return
            if window.last_id is None or window.last_id <= after_id:
                raise ConnectorError(
                    f"HubSpot's search of {kind} made no progress past record {after_id}"
                )
            after_id = window.last_id

    def _query(
        self,
        kind: str,
        filters: list[dict],
        sort: str,
        limit: int,
        handed: set[str],
        window: _Window,
        total: list[int | None],
    ) -> Generator[Page, None, bool]:
        """Page one search; True when it ended, False when the next page would pass the ceiling."""
        prop = MODIFIED[kind]
        ceiling = self._ceiling()
        page_limit = min(limit, ceiling)
        body: dict[str, Any] = {
            "filterGroups": [{"filters": filters}],
            "sorts": [sort],
            "properties": PROPERTIES[kind],
            "limit": page_limit,
            "after": FIRST_PAGE,
        }
        received = 0
        last_key: int | None = None
        ordered = True  # narrowing the window at the ceiling relies on the order asked for
        while True:
            answer = self.client.post_json(f"/crm/v3/objects/{kind}/search", body)
            self.stats.pages += 1
            if not isinstance(answer, dict):
                raise ConnectorError(f"{self.client.host} answered the search with no JSON object")
            results = answer.get("results") or []
            if not isinstance(results, list):
                raise ConnectorError("expected a list under 'results'")
            if total[0] is None and isinstance(answer.get("total"), int):
                total[0] = answer["total"]
            fresh = []
            for record in results:
                record_id = str(record.get("id")) if isinstance(record, dict) else ""
                modified = _modified_ms(record, prop)
                window.saw(record_id, modified)
                key = (
                    modified if sort == prop else (int(record_id) if record_id.isdigit() else None)
                )
                if key is not None:
                    ordered = ordered and (last_key is None or key >= last_key)
                    last_key = key
                if record_id in handed and modified == window.floor:
                    continue  # handed over by the previous window, at the moment this one starts
                fresh.append(record)
            yield Page(_active(fresh), total[0])
            received += len(results)
            cursor = _after(answer)
            if not cursor or not results:
                return True
            if received + page_limit > ceiling:
                if not ordered:
                    # restarting from the newest record seen would skip older unseen ones
                    raise ConnectorError(
                        f"HubSpot did not sort the {kind} search by {sort}, so it cannot be "
                        f"continued past {ceiling:,} results; run a full sync (--full) instead"
                    )
                return False
            body["after"] = cursor

    def map_record(self, stream: Stream, raw: dict, ctx: MappingContext) -> dict:
        props = raw.get("properties")
        if not isinstance(props, dict):
            raise RecordError("record has no properties object")
        updated = parse_time(
            raw.get("updatedAt") or props.get(MODIFIED[stream.name]), field_name="updatedAt"
        )
        created = optional_time(raw.get("createdAt"), field_name="createdAt") or updated
        common = {"created_at": created, "updated_at": updated, "_cursor": updated}
        if stream.name == "contacts":
            email = props.get("email")
            if email and "@" not in email:
                raise RecordError(f"email {email!r} is not an email address")
            return common | {
                "first_name": (props.get("firstname") or "")[:200],
                "last_name": (props.get("lastname") or "")[:200],
                "email": email or None,
                "phone": props.get("phone") or None,
                "company": props.get("company") or None,
                "lifecycle_stage": props.get("lifecyclestage") or None,
            }
        if stream.name == "companies":
            return common | {
                "name": props.get("name") or "",
                "domain": props.get("domain") or None,
                "industry": props.get("industry") or None,
                "phone": props.get("phone") or None,
                "city": props.get("city") or None,
                "country": props.get("country") or None,
            }
        amount = props.get("amount")
        try:
            amount = float(amount) if amount not in (None, "") else None
        except (TypeError, ValueError) as exc:
            raise RecordError(f"amount {amount!r} is not a number") from exc
        return common | {
            "name": props.get("dealname") or "",
            "stage": props.get("dealstage") or None,
            "pipeline": props.get("pipeline") or None,
            "amount": amount,
            "close_date": optional_time(props.get("closedate"), field_name="closedate"),
        }


def _modified_ms(record, prop: str) -> int | None:
    """A search result's modification time in epoch milliseconds (None when unreadable)."""
    if not isinstance(record, dict):
        return None
    stamp = (record.get("properties") or {}).get(prop) or record.get("updatedAt")
    try:
        return int(parse_time(stamp).timestamp() * 1000)
    except RecordError:
        return None
