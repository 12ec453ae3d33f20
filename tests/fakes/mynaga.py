"""A fake MyNaga reports API, following the contract in connectors/mynaga.py's docstring."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from tests.fakes.base import FakeApi, Request, Response

MANILA = timezone(timedelta(hours=8))
EPOCH = datetime(2024, 3, 1, 8, 0, tzinfo=MANILA)
STATUSES = (
    "submitted",
    "acknowledged",
    "in_progress",
    "resolved",
    "closed",
    "rejected",
    "duplicate",
)
OFFICES = (
    ("City Engineering Office", "Infrastructure"),
    ("City Environment and Natural Resources Office", "Environment"),
    ("Public Safety Office", "Public Safety"),
    ("City Health Office", "Health"),
    ("Traffic Management Office", "Public Safety"),
)
CATEGORIES = ("Roads", "Garbage", "Safety", "Health", "Traffic")
TAGS = ("flooding", "pothole", "garbage", "streetlight", "stray-animals", "noise")
BARANGAYS = ("Abella", "Bagumbayan Norte", "Calauag", "Concepcion Pequeña", "Dinaga", "Sabang")
CHANNELS = ("app", "sms", "hotline")


def iso(moment: datetime) -> str:
    """MyNaga writes timestamps in the city's zone, with the offset."""
    return moment.astimezone(MANILA).isoformat()


def parse(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class FakeMyNaga(FakeApi):
    def __init__(self, token: str = "mn-good", reports: int = 0):
        super().__init__()
        self.token = token
        self.reports: list[dict] = []
        self.clock = EPOCH
        self.me = {"id": 7, "name": "Integration Bot", "office": "City Mayor's Office"}
        #: called with each served /reports request (tests edit reports mid-sync with it)
        self.on_reports: Callable[[Request], None] | None = None
        #: a broken server that drops the updated_since filter (the connector must notice)
        self.ignore_updated_since = False
        self.add_reports(reports)

    # data ------------------------------------------------------------------------------
    def tick(self, seconds: int = 1) -> datetime:
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def make_report(self, n: int, when: datetime) -> dict:
        office, cluster = OFFICES[n % len(OFFICES)]
        status = STATUSES[n % len(STATUSES)]
        anonymous = n % 7 == 3
        created = when - timedelta(hours=1)
        done = status in ("resolved", "closed")
        return {
            "id": n,
            "reference_no": f"NC-2024-{n:06d}",
            "title": f"Report {n}: {CATEGORIES[n % len(CATEGORIES)].lower()} problem",
            "description": f"Citizen description of problem {n}.",
            "category": CATEGORIES[n % len(CATEGORIES)],
            "subcategory": f"Sub {n % 3}",
            "status": status,
            "priority": ("low", "normal", "high", "urgent")[n % 4],
            "office": office,
            "cluster": cluster,
            "tags": [] if n % 4 == 0 else [TAGS[n % len(TAGS)], TAGS[(n + 2) % len(TAGS)]],
            "reporter": None
            if anonymous
            else {
                "name": f"Juan Dela Cruz {n}",
                "mobile": f"+63917{n:07d}",
                "email": f"citizen{n}@example.ph",
            },
            "anonymous": anonymous,
            "barangay": BARANGAYS[n % len(BARANGAYS)],
            "street": f"{n} Rizal St." if n % 5 else "",
            "landmark": "near the chapel",
            "address": f"{n} Rizal St., {BARANGAYS[n % len(BARANGAYS)]}, Naga City",
            "latitude": round(13.62 + (n % 50) / 1000, 6),
            "longitude": round(123.18 + (n % 40) / 1000, 6),
            "photos": [f"https://cdn.example.gov/reports/{n}/1.jpg"],
            "channel": CHANNELS[n % len(CHANNELS)],
            "assigned_to": "Engr. Santos" if status != "submitted" else None,
            "sla_hours": 72,
            "created_at": iso(created),
            "updated_at": iso(when),
            "acknowledged_at": iso(created + timedelta(minutes=10))
            if status != "submitted"
            else None,
            "resolved_at": iso(when) if done else None,
            "closed_at": iso(when) if status == "closed" else None,
            "rating": 4 if done else None,
            "feedback": "Thank you" if done else None,
            "status_history": [{"status": "submitted", "at": iso(created), "note": ""}]
            + ([{"status": status, "at": iso(when), "note": "by staff"}] if n % 7 else []),
        }

    def add_reports(self, count: int, *, same_instant: bool = False) -> list[dict]:
        """`count` new reports, each a second newer (or all at one instant)."""
        added = []
        start = max((r["id"] for r in self.reports if isinstance(r.get("id"), int)), default=0)
        when = self.tick()
        for n in range(start + 1, start + count + 1):
            record = self.make_report(n, when)
            self.reports.append(record)
            added.append(record)
            if not same_instant:
                when = self.tick()
        return added

    def add_raw(self, record: dict) -> dict:
        """A malformed report as the server might hold it (stamped now unless given)."""
        record.setdefault("updated_at", iso(self.tick()))
        self.reports.append(record)
        return record

    def get(self, report_id: int) -> dict:
        for record in self.reports:
            if record.get("id") == report_id:
                return record
        raise KeyError(report_id)

    def modify(self, report_id: int, **fields) -> dict:
        """Edit a report as staff would: updated_at moves on, status changes go to history."""
        record = self.get(report_id)
        when = self.tick()
        if "status" in fields and fields["status"] != record["status"]:
            record["status_history"].append(
                {"status": fields["status"], "at": iso(when), "note": "updated"}
            )
            if fields["status"] in ("resolved", "closed"):
                record["resolved_at"] = iso(when)
        record.update(fields)
        record["updated_at"] = iso(when)
        return record

    # protocol --------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        self.require_auth(request, f"Bearer {self.token}")
        if request.method != "GET":
            return Response(405, {"message": "The method is not supported for this route."})
        if request.path == "/me":
            return Response(200, dict(self.me))
        if request.path == "/reports":
            response = self._reports(request.query)
            if self.on_reports is not None:
                self.on_reports(request)
            return response
        return Response(404, {"message": "Not found."})

    def _reports(self, query: dict) -> Response:
        errors: dict[str, list[str]] = {}
        try:
            page = int(query.get("page", 1))
            per_page = int(query.get("per_page", 15))
        except ValueError:
            return invalid({"page": ["The page and per page must be integers."]})
        if page < 1:
            errors["page"] = ["The page must be at least 1."]
        if not 1 <= per_page <= 100:
            errors["per_page"] = ["The per page must be between 1 and 100."]
        sort, order = query.get("sort", "id"), query.get("order", "asc")
        if sort not in ("id", "updated_at", "created_at"):
            errors["sort"] = ["The selected sort is invalid."]
        if order not in ("asc", "desc"):
            errors["order"] = ["The selected order is invalid."]
        since = None
        if query.get("updated_since"):
            try:
                since = parse(query["updated_since"])
            except ValueError:
                errors["updated_since"] = ["The updated since is not a valid date."]
        if errors:
            return invalid(errors)
        matches = [
            r
            for r in self.reports
            if since is None or self.ignore_updated_since or parse(r["updated_at"]) >= since
        ]

        def key(record: dict):
            rid = record.get("id") if isinstance(record.get("id"), int) else 0
            if sort == "id":
                return (rid,)
            return (parse(record[sort]) if record.get(sort) else EPOCH, rid)

        matches.sort(key=key, reverse=order == "desc")
        total = len(matches)
        # copies: what was served must not change when a test edits a report afterwards
        chunk = copy.deepcopy(matches[(page - 1) * per_page : page * per_page])
        return Response(
            200,
            {
                "data": chunk,
                "meta": {
                    "page": page,
                    "per_page": per_page,
                    "total": total,
                    "last_page": max(1, -(-total // per_page)),
                },
            },
        )

    def unauthorized(self) -> Response:
        return Response(401, {"message": "Unauthenticated."})


def invalid(errors: dict[str, list[str]]) -> Response:
    first = next(iter(errors.values()))[0]
    return Response(422, {"message": first, "errors": errors})
