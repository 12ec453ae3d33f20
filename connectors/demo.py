"""Demo connector: realistic contacts and calls made at sync time, with no network.

A new user can add it, press Sync and watch a run progress. Records are generated
deterministically from the connection's `seed` setting, `updated_at` advances with
each sync so an incremental run brings only what "changed".
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from connectors.base import (
    ConfigField,
    Connector,
    MappingContext,
    Page,
    ReadRequest,
    RecordError,
    Stream,
    parse_time,
    register,
)

FIRST = [
    "Ana",
    "Ben",
    "Chloe",
    "Diego",
    "Ella",
    "Farah",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lena",
]
LAST = [
    "Ortiz",
    "Nguyen",
    "Smith",
    "Kowalski",
    "Haddad",
    "Okafor",
    "Rossi",
    "Tanaka",
    "Silva",
    "Berg",
]
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne"]
STAGES = ["lead", "marketingqualifiedlead", "opportunity", "customer"]


@register
class DemoConnector(Connector):
    key = "demo"
    label = "Demo data"
    icon = "magic"
    streams = (
        Stream(
            "contacts",
            "contacts",
            cursor_field="updated_at",
            sorted_by_cursor=True,
            description="People, generated on the fly",
        ),
        Stream(
            "calls",
            "calls",
            cursor_field="started_at",
            sorted_by_cursor=True,
            description="Inbound and outbound calls over the last 30 days",
        ),
    )
    config_fields = (
        ConfigField(
            "records",
            "Records per stream",
            "integer",
            required=False,
            minimum=1,
            maximum=1_000_000,
            placeholder="2000",
        ),
        ConfigField(
            "delay_ms",
            "Delay per page (ms)",
            "number",
            required=False,
            minimum=0,
            maximum=60_000,
            placeholder="50",
            help="Slows each page down, to watch a run progress.",
        ),
    )
    docs = "Generates contacts and calls locally, with no network."

    @property
    def size(self) -> int:
        return int(self.settings.get("records", 2000))

    def test_connection(self) -> str:
        return f"Demo data is ready: {self.size:,} records per stream."

    def read(self, request: ReadRequest) -> Iterator[Page]:
        rng = random.Random(int(self.settings.get("seed", 7)))
        delay = float(self.settings.get("delay_ms", 50)) / 1000
        # Anchored to midnight so that syncs on the same day see the same records.
        now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        epoch = now - timedelta(days=30)
        step = (now - epoch) / max(self.size, 1)
        records = []
        for i in range(self.size):
            when = epoch + step * i
            if request.since is not None and when < request.since:
                rng.random()
                continue
            records.append(self._make(request.stream.name, i, when, rng))
        size = request.page_size
        for start in range(0, len(records), size):
            if delay:
                time.sleep(delay)
            self.stats.pages += 1
            yield Page(records[start : start + size], total=len(records))

    def _make(self, stream: str, i: int, when: datetime, rng: random.Random) -> dict:
        if stream == "contacts":
            first, last = rng.choice(FIRST), rng.choice(LAST)
            return {
                "id": f"demo-contact-{i}",
                "first_name": first,
                "last_name": last,
                "email": f"{first}.{last}{i}@example.com".lower(),
                "phone": f"+1555{i:07d}",
                "company": rng.choice(COMPANIES),
                "stage": rng.choice(STAGES),
                "updated_at": when.isoformat(),
            }
        answered = rng.random() < 0.78
        return {
            "id": f"demo-call-{i}",
            "direction": "inbound" if rng.random() < 0.75 else "outbound",
            "from": f"+1555{rng.randrange(10**7):07d}",
            "to": f"+1800555{rng.randrange(4):04d}",
            "status": "answered" if answered else rng.choice(["missed", "voicemail"]),
            "started_at": when.isoformat(),
            "duration": int(rng.lognormvariate(5.3, 0.6)) if answered else 0,
        }

    def map_record(self, stream: Stream, raw: dict, ctx: MappingContext) -> dict:
        if stream.name == "contacts":
            updated = parse_time(raw.get("updated_at"), field_name="updated_at")
            return {
                "first_name": raw.get("first_name") or "",
                "last_name": raw.get("last_name") or "",
                "email": raw.get("email"),
                "phone": raw.get("phone"),
                "company": raw.get("company"),
                "lifecycle_stage": raw.get("stage"),
                "created_at": updated,
                "updated_at": updated,
                "_cursor": updated,
            }
        started = parse_time(raw.get("started_at"), field_name="started_at")
        status = raw.get("status")
        if status not in ("answered", "missed", "voicemail"):
            raise RecordError(f"unknown call status {status!r}")
        duration = int(raw.get("duration") or 0)
        return {
            "direction": raw.get("direction", "inbound"),
            "from_number": raw.get("from", ""),
            "to_number": raw.get("to", ""),
            "status": status,
            "started_at": started,
            "ended_at": started + timedelta(seconds=duration),
            "duration_seconds": duration,
            "phone_number_id": ctx.phone_number_id(raw.get("to"), label="Demo line"),
            "_cursor": started,
        }
