"""A fake HubSpot CRM v3 API: list with `after` paging, search with GTE filters and `total`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.fakes.base import FakeApi, Request, Response

MODIFIED = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
}
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class FakeHubSpot(FakeApi):
    def __init__(self, token: str = "pat-good", contacts: int = 0):
        super().__init__()
        self.token = token
        self.objects: dict[str, list[dict]] = {"contacts": [], "companies": [], "deals": []}
        self.clock = EPOCH
        self.search_ceiling = 10_000
        self.add_contacts(contacts)

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
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
                    "lastmodifieddate": iso(when),
                },
                "createdAt": iso(when),
                "updatedAt": iso(when),
                "archived": False,
            }
            self.objects["contacts"].append(record)
            added.append(record)
        return added

    def add_raw(self, kind: str, record: dict) -> None:
        self.objects[kind].append(record)

    def modify(self, kind: str, record_id: str, **properties) -> None:
        when = self.tick()
        for record in self.objects[kind]:
            if record["id"] == record_id:
                record["properties"].update(properties)
                record["properties"][MODIFIED[kind]] = iso(when)
                record["updatedAt"] = iso(when)
                # HubSpot's list endpoint is ordered by id, not modification.
                return
        raise KeyError(record_id)

    def handle(self, request: Request) -> Response:
        self.require_auth(request, f"Bearer {self.token}")
        parts = request.path.strip("/").split("/")
        if parts[:3] != ["crm", "v3", "objects"] or len(parts) < 4 or parts[3] not in self.objects:
            return Response(404, {"status": "error", "message": "resource not found"})
        kind = parts[3]
        if len(parts) == 5 and parts[4] == "search" and request.method == "POST":
            return self._search(kind, request.body or {})
        if len(parts) == 4 and request.method == "GET":
            return self._list(kind, request.query)
        return Response(405, {"status": "error", "message": "method not allowed"})

    def _page(self, records: list[dict], after: int, limit: int) -> tuple[list[dict], dict]:
        chunk = records[after : after + limit]
        paging = {}
        if after + limit < len(records):
            paging = {"next": {"after": str(after + limit), "link": "?after=" + str(after + limit)}}
        return chunk, paging

    def _list(self, kind: str, query: dict) -> Response:
        limit = min(int(query.get("limit", 10)), 100)
        after = int(query.get("after", 0))
        chunk, paging = self._page(self.objects[kind], after, limit)
        body = {"results": chunk}
        if paging:
            body["paging"] = paging
        return Response(200, body)

    def _search(self, kind: str, body: dict) -> Response:
        limit = min(int(body.get("limit", 10)), 100)
        after = int(body.get("after", 0))
        if after + limit > self.search_ceiling:
            return Response(
                400, {"status": "error", "message": "Search is limited to 10,000 results"}
            )
        floor = None
        for group in body.get("filterGroups", []):
            for flt in group.get("filters", []):
                if flt["propertyName"] == MODIFIED[kind] and flt["operator"] == "GTE":
                    floor = datetime.fromtimestamp(int(flt["value"]) / 1000, UTC)
        matches = [
            r
            for r in self.objects[kind]
            if floor is None
            or datetime.fromisoformat(r["properties"][MODIFIED[kind]].replace("Z", "+00:00"))
            >= floor
        ]
        matches.sort(key=lambda r: (r["properties"][MODIFIED[kind]], r["id"]))
        chunk, paging = self._page(matches, after, limit)
        answer = {"total": len(matches), "results": chunk}
        if paging:
            answer["paging"] = paging
        return Response(200, answer)

    def unauthorized(self) -> Response:
        return Response(
            401,
            {
                "status": "error",
                "message": "Authentication credentials not found.",
                "category": "INVALID_AUTHENTICATION",
            },
        )
