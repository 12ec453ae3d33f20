"""Streamed CSV responses: constant memory, UTF-8 (optional BOM for Excel), formula-injection safe.

The formula rule (`neutralise`): a spreadsheet evaluates a cell whose text starts with
`=`, `+`, `-` or `@`, and some also after a leading tab or carriage return (OWASP's "CSV
Injection" list; ASVS 1.2.10). Such a cell gets a leading `'`, which Excel, LibreOffice and
Google Sheets read as "this is text" and do not show. One exception keeps data readable:
a cell that is a plain number, optionally signed, with digits and at most one decimal point
(`+15555919122`, `-42.5`, `+44`), is written unchanged. A spreadsheet reads it as that
number and nothing else: no operator, name or function follows the sign. Everything
else with a risky first character is neutralised: `=1+1`, `@SUM(A1)`, `-2+3` (an
expression), `+1+cmd|' /C calc'!A0`, `+1 555 0100` (a space is Excel's intersection
operator), `-` alone. Text that merely contains those characters (`a=b`, ` =1`) is left
alone: only the first character makes a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from flask import Response, stream_with_context

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_DANGEROUS_FIRST = frozenset(DANGEROUS)
#: A signed plain number: what a phone number in E.164 (`+15555919122`) or an amount looks like.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def _neutral_text(value: str) -> str:
    if value[:1] in _DANGEROUS_FIRST and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise(value: Any) -> Any:
    """A cell as a spreadsheet may open it: risky text quoted (see the module's rule), dates
    as ISO 8601, anything else as it is."""
    if isinstance(value, str):
        return _neutral_text(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def safe_filename(*parts: str) -> str:
    name = "-".join(p for p in parts if p)
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:150] + ".csv"


def csv_lines(
    header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = False
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if bom:
        yield "\ufeff"
    writer.writerow(header)
    dangerous, plain = _DANGEROUS_FIRST, _PLAIN_NUMBER.fullmatch
    for count, row in enumerate(rows, start=1):
        # neutralise() inlined for text, the common case: a million rows is 11 million cells
        writer.writerow(
            [
                ("'" + v if v[:1] in dangerous and not plain(v) else v)
                if v.__class__ is str
                else neutralise(v)
                for v in row
            ]
        )
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(
    header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str, *, bom: bool = False
) -> Response:
    """A streamed download; `rows` should itself stream (e.g. a server-side cursor)."""
    return Response(
        stream_with_context(csv_lines(header, rows, bom=bom)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
