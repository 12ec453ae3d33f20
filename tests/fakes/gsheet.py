"""A fake Google Sheets CSV export: `/spreadsheets/d/<id>/export?format=csv&gid=N` and `/pub`.

Serves in-memory sheets the way Google does: `text/csv; charset=utf-8`, CRLF rows padded
to the header's width, no trailing newline, no auth. A private sheet redirects to a
sign-in page (HTML, 200) as docs.google.com does for a signed-out visitor; a
"forbidden" one answers 403; unknown ids answer Google's 404 HTML page. The FakeApi
faults (429 storms, 5xx, truncation, drops) apply to every request.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from tests.fakes.base import FakeApi, Request, Response

EXPORT = re.compile(r"^/spreadsheets/d/(?P<id>[A-Za-z0-9_-]+)/export$")
PUBLISHED = re.compile(r"^/spreadsheets/d/e/(?P<key>[A-Za-z0-9_-]+)/pub$")
SIGN_IN_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Google Sheets: Sign-in</title></head><body>
<form action="https://accounts.google.com/v3/signin/identifier" method="post">
<h1>Sign in</h1><p>to continue to Sheets</p><input type="email" name="identifier">
</form></body></html>"""
NOT_FOUND_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Page Not Found</title></head><body><p>Sorry, unable to open the file at this time.</p>
<p>Please check the address and try again.</p></body></html>"""
EPOCH = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
CALL_HEADER = [
    "id",
    "Started At",
    "status",
    "direction",
    "from",
    "to",
    "Duration",
    "phone_number",
    "agent_email",
]


def call_row(n: int) -> list[str]:
    """A well-formed call row as a person would type it into the sheet."""
    started = EPOCH + timedelta(minutes=7 * n)
    return [
        f"call-{n}",
        started.strftime("%Y-%m-%d %H:%M:%S"),
        ("answered", "missed", "voicemail")[n % 3],
        "inbound" if n % 4 else "outbound",
        f"+1555{n:07d}",
        f"+1800555{n % 3:04d}",
        str(60 + n % 300) if n % 3 == 0 else "0",
        f"+1800555{n % 3:04d}",
        "agent@example.com" if n % 5 == 0 else "",
    ]


class Sheet:
    """One spreadsheet: tabs by gid, each a header and rows of cells."""

    def __init__(self, sheet_id: str, published_key: str):
        self.id = sheet_id
        self.published_key = published_key
        self.tabs: dict[int, list[list[str]]] = {}
        self.access = "public"  # public, private (sign-in redirect), forbidden (403)


class FakeGoogleSheets(FakeApi):
    def __init__(self):
        super().__init__()
        self.sheets: dict[str, Sheet] = {}

    # building sheets ---------------------------------------------------------------------
    def add_sheet(
        self, sheet_id: str, header: list[str], rows: list[list[str]], *, gid: int = 0
    ) -> Sheet:
        sheet = self.sheets.get(sheet_id) or Sheet(sheet_id, f"2PACX-{sheet_id}")
        sheet.tabs[gid] = [list(header)] + [list(r) for r in rows]
        self.sheets[sheet_id] = sheet
        return sheet

    def add_call_sheet(self, sheet_id: str, count: int, *, gid: int = 0) -> Sheet:
        return self.add_sheet(sheet_id, CALL_HEADER, [call_row(n) for n in range(count)], gid=gid)

    def append(self, sheet_id: str, *rows: list[str], gid: int = 0) -> None:
        """Rows typed below the last one (malformed ones too: cells are served as they are)."""
        self.sheets[sheet_id].tabs[gid].extend(list(r) for r in rows)

    def edit(self, sheet_id: str, row_id: str, column: str, value: str, *, gid: int = 0) -> None:
        """Change one cell of the row whose first cell is `row_id`."""
        tab = self.sheets[sheet_id].tabs[gid]
        index = tab[0].index(column)
        for row in tab[1:]:
            if row[0] == row_id:
                row[index] = value
                return
        raise KeyError(row_id)

    def export_link(self, sheet_id: str, gid: int = 0) -> str:
        return f"{self.url}/spreadsheets/d/{sheet_id}/export?format=csv&gid={gid}"

    def published_link(self, sheet_id: str, gid: int = 0) -> str:
        key = self.sheets[sheet_id].published_key
        return f"{self.url}/spreadsheets/d/e/{key}/pub?gid={gid}&single=true&output=csv"

    # the protocol ------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.method != "GET":
            return Response(405, NOT_FOUND_PAGE, {"Content-Type": "text/html; charset=utf-8"})
        if request.path.startswith("/v3/signin") or request.path == "/ServiceLogin":
            return Response(200, SIGN_IN_PAGE, {"Content-Type": "text/html; charset=utf-8"})
        sheet, fmt = self._find(request)
        if sheet is None:
            return Response(404, NOT_FOUND_PAGE, {"Content-Type": "text/html; charset=utf-8"})
        if sheet.access == "private":
            target = f"{self.url}/ServiceLogin?continue={self.url}{request.path}"
            return Response(302, "", {"Location": target, "Content-Type": "text/html"})
        if sheet.access == "forbidden":
            return Response(
                403, "<html><body>Forbidden</body></html>", {"Content-Type": "text/html"}
            )
        if fmt != "csv":
            return Response(400, NOT_FOUND_PAGE, {"Content-Type": "text/html; charset=utf-8"})
        gid = int(request.query.get("gid") or 0)
        if gid not in sheet.tabs:
            return Response(400, NOT_FOUND_PAGE, {"Content-Type": "text/html; charset=utf-8"})
        return Response(
            200,
            self.render(sheet.tabs[gid]),
            {
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="sheet-{gid}.csv"',
            },
        )

    def _find(self, request: Request) -> tuple[Sheet | None, str | None]:
        match = EXPORT.match(request.path)
        if match:
            return self.sheets.get(match["id"]), request.query.get("format")
        match = PUBLISHED.match(request.path)
        if match:
            for sheet in self.sheets.values():
                if sheet.published_key == match["key"]:
                    return sheet, request.query.get("output")
        return None, None

    @staticmethod
    def render(tab: list[list[str]]) -> str:
        """Google's CSV: every row as wide as the widest, CRLF between rows, none after the last."""
        width = max(len(row) for row in tab)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for row in tab:
            writer.writerow(list(row) + [""] * (width - len(row)))
        return out.getvalue().removesuffix("\r\n")
