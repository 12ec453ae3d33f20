"""MyNaga: citizens' reports from the city's reporting app, synced into cases.

MyNaga's reports API is private (there is no public host or published reference), so
this docstring is the contract an on-premise install exposes and tests/fakes/mynaga.py
follows. The base URL is the install's API root and must be set on the connection;
`https://mynaga.example.gov/api/v1` is a placeholder, refused before any request.

Auth: `Authorization: Bearer <token>` (a token issued by the MyNaga admin console).
401 `{"message": "Unauthenticated."}` for a missing or wrong token, 403 for a token
without the reports scope, 429 with `Retry-After` (seconds) when rate limited.

`GET /me` → `{"name": "...", "office": "...", ...}`: who the token belongs to
(test_connection).

`GET /reports?page=N&per_page=M&updated_since=ISO8601&sort=updated_at&order=asc`
→ `{"data": [report, ...], "meta": {"page": N, "per_page": M, "total": T, "last_page": L}}`
- `page` starts at 1, `per_page` is at most 100;
- `updated_since` is inclusive (`updated_at >= value`), so records that share a
  timestamp are never skipped; `sort=updated_at&order=asc` orders by (updated_at, id);
- `total` and `last_page` describe the query as filtered.

A report (timestamps are ISO 8601 with an offset, the city's is +08:00):
`id` (int), `reference_no` ("NC-2024-000123"), `title`, `description`, `category`,
`subcategory`, `status` (submitted, acknowledged, in_progress, resolved, closed, rejected,
duplicate), `priority` (low, normal, high, urgent), `office` (name), `cluster` (name),
`tags` (list of strings), `reporter` {`name`, `mobile`, `email`} (null when anonymous),
`anonymous` (bool), `barangay`, `street`, `landmark`, `address` (free text),
`latitude`, `longitude` (WGS 84 degrees or null), `photos` (list of URLs), `channel`
(app, sms, hotline), `assigned_to` (staff name), `sla_hours`, `created_at`,
`updated_at`, `acknowledged_at`, `resolved_at`, `closed_at`, `rating` (1-5 or null),
`feedback`, `status_history` [{`status`, `at`, `note`}].

Paging: an ascending `updated_at` order is not stable while citizens and staff keep
editing reports (an edited report jumps to the end and every later one slides back a
place, so plain page numbers would skip one). So each next page is asked for as page 1
of `updated_since=<newest updated_at seen>`, dropping the reports already read at
that instant; page numbers only advance when a whole page shares one timestamp.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
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
    optional_time,
    parse_time,
    register,
    short_label,
)

PLACEHOLDER_URL = "https://mynaga.example.gov/api/v1"
MAX_PER_PAGE = 100
#: MyNaga's statuses → ours (models.records.CASE_STATUSES).
STATUSES = {
    "submitted": "new",
    "acknowledged": "acknowledged",
    "in_progress": "in_progress",
    "resolved": "resolved",
    "closed": "closed",
    "rejected": "rejected",
    "duplicate": "rejected",
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _utc(value: Any, field_name: str) -> datetime:
    # Cursors are compared as ISO text by the engine, so they must all be in one zone.
    return parse_time(value, field_name=field_name).astimezone(UTC)


def _updated(raw: Any) -> datetime | None:
    try:
        return _utc(raw.get("updated_at"), "updated_at") if isinstance(raw, dict) else None
    except RecordError:
        return None


def _text(value: Any, limit: int) -> str | None:
    text = str(value).strip() if value not in (None, "") else ""
    return text[:limit] or None


def _coordinate(raw: dict, name: str, bound: float) -> float | None:
    value = raw.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise RecordError(f"{name} {value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise RecordError(f"{name} {value!r} is not a number") from exc
    if not math.isfinite(number) or not -bound <= number <= bound:
        raise RecordError(f"{name} {value!r} is outside -{bound:g}..{bound:g}")
    return number


@register
class MyNagaConnector(Connector):
    key = "mynaga"
    label = "MyNaga"
    icon = "phone"
    default_base_url = PLACEHOLDER_URL
    streams = (
        Stream(
            "reports",
            "cases",
            primary_key="id",
            cursor_field="updated_at",
            sorted_by_cursor=True,
            description="Citizens' reports from the MyNaga app, with offices, clusters and tags",
        ),
    )
    config_fields = (
        ConfigField(
            "token",
            "API token",
            "secret",
            help="MyNaga admin console > Integrations > API tokens (reports scope).",
        ),
    )
    docs = (
        "Set the base URL to your MyNaga server's API root (e.g. https://mynaga.<city>.gov.ph"
        "/api/v1) and paste an API token with the reports scope."
    )

    def _require_base_url(self) -> None:
        if self.base_url in ("", PLACEHOLDER_URL):
            raise ConnectorError(
                "MyNaga has no public server: set the connection's base URL to your "
                "MyNaga install's API address (like https://mynaga.<city>.gov.ph/api/v1)."
            )

    def test_connection(self) -> str:
        self._require_base_url()
        me = self.client.get_json("/me")
        if not isinstance(me, dict) or not me.get("name"):
            raise ConnectorError(
                f"{self.client.host} answered /me without a name: is the base URL the "
                "MyNaga API root (ending in /api/v1)?"
            )
        office = short_label(me.get("office"))
        return f"Connected to MyNaga as {short_label(me['name'])}" + (
            f" ({office})" if office else ""
        )

    def read(self, request: ReadRequest) -> Iterator[Page]:
        self._require_base_url()
        per_page = max(1, min(request.page_size, MAX_PER_PAGE))
        floor = request.since.astimezone(UTC) if request.since else None
        seen: set[str] = set()  # reports already yielded whose updated_at == floor
        page = 1
        first = True
        yielded = 0
        while True:
            params: dict[str, Any] = {
                "page": page,
                "per_page": per_page,
                "sort": "updated_at",
                "order": "asc",
            }
            if floor is not None:
                params["updated_since"] = _iso(floor)
            body = self.client.get_json("/reports", params)
            self.stats.pages += 1
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise ConnectorError(
                    f"{self.client.host} answered /reports without a data list: is the base "
                    "URL the MyNaga API root?"
                )
            records = body["data"]
            meta = body.get("meta") or {}
            stamps = [(s, self._key(r)) for r in records if (s := _updated(r)) is not None]
            self._check_order([s for s, _ in stamps], floor)
            fresh = [r for r in records if self._key(r) not in seen]
            yield Page(fresh, meta.get("total") if first else None)
            first = False
            yielded += len(fresh)
            if request.max_records and yielded >= request.max_records:
                return
            last_page = meta.get("last_page")
            if len(records) < per_page or (isinstance(last_page, int) and page >= last_page):
                return
            top = max((s for s, _ in stamps), default=None)
            if top is not None and (floor is None or top > floor):
                floor, page = top, 1
                seen = {key for s, key in stamps if s == top}
            else:
                # a whole page at one instant: page on within it
                seen |= {self._key(r) for r in records}
                page += 1

    def _check_order(self, stamps: list[datetime], floor: datetime | None) -> None:
        """Paging by updated_since is only safe when the server filters and sorts as asked."""
        if floor is not None and stamps and min(stamps) < floor:
            raise ConnectorError(
                f"{self.client.host} ignored updated_since={_iso(floor)} (it sent a report "
                f"updated at {_iso(min(stamps))}); MyNaga's reports API must filter by it"
            )
        if any(later < earlier for earlier, later in zip(stamps, stamps[1:], strict=False)):
            raise ConnectorError(
                f"{self.client.host} did not sort reports by updated_at ascending "
                "(sort=updated_at&order=asc); syncing without it could skip reports"
            )

    @staticmethod
    def _key(raw: Any) -> str:
        if isinstance(raw, dict) and raw.get("id") not in (None, ""):
            return str(raw["id"])
        return json.dumps(raw, sort_keys=True, default=str)

    def map_record(self, stream: Stream, raw: dict, ctx: MappingContext) -> dict:
        # Validate everything before any lookup, so a bad report creates no office or tag.
        title = _text(raw.get("title"), 300)
        if not title:
            raise RecordError("title is missing")
        status = raw.get("status")
        if status not in STATUSES:
            raise RecordError(f"unknown status {status!r}")
        updated = _utc(raw.get("updated_at"), "updated_at")
        created = _utc(raw.get("created_at"), "created_at")
        resolved = optional_time(raw.get("resolved_at"), field_name="resolved_at")
        latitude = _coordinate(raw, "latitude", 90)
        longitude = _coordinate(raw, "longitude", 180)
        if (latitude is None) != (longitude is None):
            raise RecordError("latitude and longitude must be given together")
        tags = raw.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise RecordError(f"tags must be a list of strings, not {tags!r}"[:200])
        reporter = raw.get("reporter") or {}
        if not isinstance(reporter, dict):
            raise RecordError("reporter must be an object")
        anonymous = bool(raw.get("anonymous"))
        phone = None if anonymous else _text(reporter.get("mobile"), 1000)
        if phone and len(phone) > 32:
            raise RecordError(f"reporter mobile {phone[:40]!r} is too long for a phone number")
        parts = [_text(raw.get("street"), 500), _text(raw.get("barangay"), 500)]
        address = ", ".join(p for p in parts if p) or _text(raw.get("address"), 500)
        office = _text(raw.get("office"), 200)
        cluster = _text(raw.get("cluster"), 200)
        return {
            "title": title,
            "description": str(raw.get("description") or ""),
            "status": STATUSES[status],
            "category": _text(raw.get("category"), 100),
            "office_id": ctx.office_id(office, cluster=cluster),
            "cluster_id": ctx.cluster_id(cluster),
            "tag_ids": ctx.tag_ids(tags),
            "reporter_name": None if anonymous else _text(reporter.get("name"), 200),
            "reporter_phone": phone,
            "address": address[:500] if address else None,
            "latitude": latitude,
            "longitude": longitude,
            "reported_at": created,
            "updated_at": updated,
            "resolved_at": resolved.astimezone(UTC) if resolved else None,
            "_cursor": updated,
        }
