"""HubSpot CRM v3: contacts, companies and deals.

Follows HubSpot's documented CRM v3 objects API:
- auth: a private app access token, `Authorization: Bearer <token>`;
- full reads: `GET /crm/v3/objects/{type}?limit=100&properties=...&after=<cursor>`, paged by
  `paging.next.after` (envelope `{"results": [...], "paging": {"next": {"after": "..."}}}`);
- incremental reads: `POST /crm/v3/objects/{type}/search` with a `GTE` filter on the
  last-modified property (`lastmodifieddate` for contacts, `hs_lastmodifieddate` for
  companies and deals, epoch milliseconds), sorted ascending, `limit` ≤ 100 and `after`;
  the response carries `total`. Search stops at 10,000 results per query, so past that
  the query restarts from the last modification date seen;
- records: `{"id", "properties": {...}, "createdAt", "updatedAt", "archived"}`;
- errors: 401 `INVALID_AUTHENTICATION`, 429 with `policyName` (secondly/daily limits).
`test_connection` reads one contact: `GET /crm/v3/objects/contacts?limit=1`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from connectors.base import (
    Connector,
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

SEARCH_LIMIT = 10_000
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
    return ((body or {}).get("paging") or {}).get("next", {}).get("after")


@register
class HubSpotConnector(Connector):
    key = "hubspot"
    label = "HubSpot"
    icon = "people"
    default_base_url = "https://api.hubapi.com"
    streams = (
        Stream("contacts", "contacts", cursor_field="updatedAt", description="CRM contacts"),
        Stream("companies", "companies", cursor_field="updatedAt", description="CRM companies"),
        Stream("deals", "deals", cursor_field="updatedAt", description="CRM deals"),
    )
    docs = "Private app token with crm.objects.contacts/companies/deals.read scopes."

    def test_connection(self) -> str:
        body = self.client.get_json("/crm/v3/objects/contacts", {"limit": 1})
        if not isinstance(body, dict) or "results" not in body:
            return "Connected to HubSpot, but the answer did not look like the CRM API."
        return "Connected to HubSpot: token accepted, contacts are readable."

    def read(self, request: ReadRequest) -> Iterator[Page]:
        kind = request.stream.name
        limit = max(1, min(request.page_size, 100))
        if request.since is None:
            params = {"limit": limit, "properties": ",".join(PROPERTIES[kind]), "archived": "false"}
            yield from cursor_pages(
                self.client,
                f"/crm/v3/objects/{kind}",
                params,
                records_key="results",
                next_cursor=_after,
            )
            return
        yield from self._search(kind, request.since, limit)

    def _search(self, kind: str, since: datetime, limit: int) -> Iterator[Page]:
        """Search sorted by modification; restart from the last date seen at the 10k ceiling."""
        floor_ms = int(since.timestamp() * 1000)
        seen_total: int | None = None
        while True:
            body = {
                "filterGroups": [
                    {
                        "filters": [
                            {
                                "propertyName": MODIFIED[kind],
                                "operator": "GTE",
                                "value": str(floor_ms),
                            }
                        ]
                    }
                ],
                "sorts": [{"propertyName": MODIFIED[kind], "direction": "ASCENDING"}],
                "properties": PROPERTIES[kind],
                "limit": limit,
            }
            after = 0
            last_ms = floor_ms
            while True:
                if after:
                    body["after"] = str(after)
                answer = self.client.post_json(f"/crm/v3/objects/{kind}/search", body)
                self.stats.pages += 1
                results = answer.get("results") or []
                if seen_total is None:
                    seen_total = answer.get("total")
                yield Page(results, seen_total)
                for record in results:
                    stamp = (record.get("properties") or {}).get(MODIFIED[kind]) or record.get(
                        "updatedAt"
                    )
                    try:
                        last_ms = max(last_ms, int(parse_time(stamp).timestamp() * 1000))
                    except RecordError:
                        continue
                nxt = _after(answer)
                if not nxt:
                    return
                after = int(nxt)
                if after + limit > int(self.settings.get("search_limit", SEARCH_LIMIT)):
                    break
            if last_ms == floor_ms:
                return
            floor_ms = last_ms

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
