"""Google Sheet: rows of a sheet published to the web as CSV, loaded as contacts, calls, cases or tickets.

Follows Google Sheets' documented CSV exports (no API key, no OAuth):
- the connection's URL is the sheet's CSV link: "File → Share → Publish to web → .csv"
  gives `https://docs.google.com/spreadsheets/d/e/<PUBLISHED-KEY>/pub?gid=<GID>&single=true&output=csv`;
  a sheet shared "anyone with the link" also serves
  `https://docs.google.com/spreadsheets/d/<ID>/export?format=csv&gid=<GID>`. A pasted
  editor link (`…/d/<ID>/edit#gid=<GID>`) or `pubhtml` link is turned into that export
  link; any other URL is fetched as it is, so any public CSV link works too;
- auth: none. A private sheet redirects to the accounts.google.com sign-in page (HTML,
  HTTP 200 after the redirect) or answers 401/403: both say "not published to the web";
- body: `text/csv`, UTF-8, RFC 4180 quoting, CRLF rows all padded to the header's width,
  the first row is the header; 429 and 5xx (rate limits, backend errors) are retried by
  the shared HTTP client honouring Retry-After;
- paging: none — one GET returns the whole sheet, which is parsed lazily into pages of the
  engine's page size. A body whose last row is shorter than the header (a transfer cut
  short) is fetched again. There is no cursor: each sync reads the whole sheet and the
  upsert counts unchanged rows. Column matching and row checks: connectors/tabular.py.

The link is fetched through the shared HTTP client, so its address is checked like every
connector's (connectors/egress.py). Unlike an uploaded file, the header row is the first
line of whatever that address answered, so Test names our columns it found, never the
header's own text.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from connectors.base import (
    AuthError,
    ConfigField,
    ConnectorError,
    HttpError,
    UnreachableError,
    register,
)
from connectors.tabular import (
    TABLE_FIELDS,
    Table,
    TabularConnector,
    numbered_rows,
    sniff_dialect,
    unique_headers,
)

SHEET_PATH = re.compile(r"^(?P<prefix>.*/spreadsheets/d/(?P<pub>e/)?[A-Za-z0-9_-]+)/(?P<view>\w+)")
PUBLISH_HOW = (
    "in Google Sheets use File → Share → Publish to web, pick the sheet and "
    "'Comma-separated values (.csv)', and paste that link"
)
NOT_PUBLISHED = "The sheet is not published to the web"
CUT_SHORT_REFETCHES = 2
ACCEPT = "text/csv, text/plain;q=0.9, */*;q=0.1"


def export_url(url: str, gid: str | None = None) -> str:
    """The CSV link for a Google Sheets link (editor, pubhtml, pub or export); others unchanged."""
    parts = urlsplit(url.strip())
    match = SHEET_PATH.match(parts.path)
    if not match:
        return url.strip()
    query = dict(parse_qsl(parts.query))
    fragment = dict(parse_qsl(parts.fragment))
    gid = gid or query.get("gid") or fragment.get("gid")
    if match["pub"]:
        path = match["prefix"] + "/pub"
        params = {k: v for k, v in query.items() if k in ("single", "range")}
        params |= {"gid": gid} if gid else {}
        params["output"] = "csv"
    else:
        path = match["prefix"] + "/export"
        params = {"format": "csv"} | ({"gid": gid} if gid else {})
        if "range" in query:
            params["range"] = query["range"]
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(params), ""))


def looks_like_html(content_type: str, text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return "html" in content_type.lower() or head.startswith(("<!doctype html", "<html"))


def cut_short(text: str) -> bool:
    """The last row has fewer fields than the header: the body ended mid-row."""
    body = text.rstrip("\r\n")
    if "\n" not in body:
        return False
    first, last = body.split("\n", 1)[0], body.rsplit("\n", 1)[1]
    try:
        width = len(next(csv.reader([first])))
        return len(next(csv.reader([last]), [])) < width
    except csv.Error:
        return True


@register
class GoogleSheetConnector(TabularConnector):
    key = "gsheet"
    label = "Google Sheet"
    icon = "google"
    config_fields = (
        *TABLE_FIELDS,
        ConfigField(
            "gid", "Sheet gid", required=False, help="The tab to read when the link names none."
        ),
        ConfigField("delimiter", "Delimiter", required=False, help="Default: told from the sheet."),
    )
    docs = (
        "Paste the sheet's 'Publish to web' CSV link (…/pub?output=csv) or its "
        "…/export?format=csv&gid=N link as the URL."
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._text: str | None = None

    def source_name(self) -> str:
        return "The sheet"

    def sheet_url(self) -> str:
        if not self.base_url:
            raise ConnectorError(f"No sheet link yet: {PUBLISH_HOW} as the connection's URL.")
        gid = self.settings.get("gid")
        return export_url(self.base_url, str(gid) if gid not in (None, "") else None)

    def open_table(self, *, count: bool = False) -> Table:
        text = self.download()
        dialect = sniff_dialect(text[:65536], self.settings.get("delimiter"))
        rows = numbered_rows(csv.reader(io.StringIO(text, newline=""), dialect), "The sheet", 1)
        first = next(rows, None)
        if first is None:
            raise ConnectorError("The sheet is empty: it has no header row.")
        counted = numbered_rows(csv.reader(io.StringIO(text, newline=""), dialect), "The sheet")
        total = max(sum(1 for _ in counted) - 1, 0)
        return Table(unique_headers(first[1]), rows, total)

    def test_connection(self) -> str:
        """Rows, columns and the model they load as, in our column names."""
        table = self.checked_table(count=True)
        try:
            rows, width = table.total or 0, len(table.headers)
            found = (
                f"Found {rows:,} row{'' if rows == 1 else 's'} "
                f"in {width} column{'' if width == 1 else 's'}"
            )
            model = self.model_for(table.headers)
            layout = self.layout(model, table.headers)
        finally:
            table.close()
        if layout.missing:
            raise ConnectorError(
                f"{found}. Missing required column(s) for {model}: {', '.join(layout.missing)}"
            )
        return f"{found}. They load as {model} (matched: {', '.join(layout.columns)})."

    def model_for(self, headers: list[str]) -> str:
        try:
            return super().model_for(headers)
        except ConnectorError:
            if self.settings.get("model"):
                raise
            # the guess's own message lists the header's text
            raise ConnectorError(
                "Cannot tell what the sheet's rows are: its columns do not hold the required "
                "columns of contacts (id), calls (id, started_at, status, direction), cases "
                "(id, title, reported_at) or tickets (id, subject). Set the model and the mapping."
            ) from None

    def download(self) -> str:
        """The sheet as CSV text, fetched once per connector (every stream of a run shares it)."""
        if self._text is not None:
            return self._text
        url = self.sheet_url()
        for attempt in range(CUT_SHORT_REFETCHES + 1):
            text = self._fetch(url)
            if not cut_short(text) or attempt == CUT_SHORT_REFETCHES:
                break
            self.stats.retries += 1
            self._note("the sheet's last row is shorter than its header: fetching it again")
        self._text = text
        return text

    def _fetch(self, url: str) -> str:
        try:
            response = self.client.request("GET", url, stream=False, headers={"Accept": ACCEPT})
        except UnreachableError:
            raise
        except AuthError as exc:
            code = re.search(r"\((\d{3})\)", str(exc))
            raise AuthError(
                f"{NOT_PUBLISHED}: Google answered HTTP {code[1] if code else 'denied'}; "
                f"{PUBLISH_HOW}."
            ) from exc
        except HttpError as exc:
            if exc.status in (400, 404):
                raise ConnectorError(
                    f"No such sheet (HTTP {exc.status}): check the link; {PUBLISH_HOW}."
                ) from exc
            raise
        text = self._decode(response)
        if looks_like_html(response.headers.get("Content-Type", ""), text):
            if self._is_sign_in(response, text):
                raise ConnectorError(
                    f"{NOT_PUBLISHED}: Google answered with its sign-in page; {PUBLISH_HOW}."
                )
            raise ConnectorError(
                f"{self.client.host} answered with a web page, not CSV: the link must be the "
                f"sheet's CSV link (…/pub?output=csv or …/export?format=csv); {PUBLISH_HOW}."
            )
        return text

    @staticmethod
    def _decode(response: requests.Response) -> str:
        try:
            return response.content.decode("utf-8-sig")
        except UnicodeDecodeError:
            return response.content.decode(response.encoding or "latin-1", errors="replace")

    @staticmethod
    def _is_sign_in(response: requests.Response, text: str) -> bool:
        where = response.url.lower()
        return (
            "accounts.google.com" in where
            or "servicelogin" in where
            or "/signin" in where
            or "accounts.google.com" in text[:100_000]
        )


__all__ = ["GoogleSheetConnector", "export_url"]
