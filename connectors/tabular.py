"""Tables (uploaded files, published sheets) into our models: column matching and row checks.

Shared by the CSV/Excel upload connector and the Google Sheet connector. A header row is
matched to our columns (the connection's `mapping`, else the same name ignoring case,
spaces and underscores), then every row is validated on its own — required cells,
whole numbers, decimals, dates, allowed values, lengths our columns hold — so a bad
row fails alone, named by the row number a person sees in Excel or Sheets (the header
is row 1). A table has no change cursor: each sync reads it all and the upsert counts
what did not change.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from connectors.base import (
    ConfigField,
    Connector,
    ConnectorError,
    FieldSpec,
    MappingContext,
    Page,
    ReadRequest,
    RecordError,
    Stream,
    parse_time,
)
from models.records import (
    CALL_STATUSES,
    CASE_STATUSES,
    DIRECTIONS,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    Call,
    Case,
    Contact,
    Ticket,
)

MODELS = ("contacts", "calls", "cases", "tickets")
TABLES = {"contacts": Contact, "calls": Call, "cases": Case, "tickets": Ticket}
EXTERNAL_ID_LENGTH = 200
DELIMITERS = ",;\t|"


@dataclass
class Field(FieldSpec):
    """One of our columns as read from a table cell."""

    #: written for an empty cell when our column cannot be NULL (None: leave it to the DB)
    default: Any = None
    #: not a column of ours: resolved through the MappingContext (numbers, agents, offices)
    lookup: bool = False
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    #: other header names that mean this column (exports of our own demo data use them)
    aliases: tuple[str, ...] = ()


FIELDS: dict[str, tuple[Field, ...]] = {
    "contacts": (
        Field("id", required=True),
        Field("first_name", default=""),
        Field("last_name", default=""),
        Field("email"),
        Field("phone"),
        Field("company"),
        Field("lifecycle_stage", aliases=("stage",)),
        Field("created_at", kind="datetime"),
        Field("updated_at", kind="datetime"),
    ),
    "calls": (
        Field("id", required=True),
        Field("started_at", required=True, kind="datetime"),
        Field("status", required=True, choices=CALL_STATUSES),
        Field("direction", required=True, choices=DIRECTIONS),
        Field("from_number", default="", aliases=("from",)),
        Field("to_number", default="", aliases=("to",)),
        Field("ended_at", kind="datetime"),
        Field("duration_seconds", kind="int", minimum=0, aliases=("duration",)),
        Field("recording_url"),
        Field("phone_number", lookup=True, max_length=32),
        Field("agent_email", lookup=True),
    ),
    "cases": (
        Field("id", required=True),
        Field("title", required=True),
        Field("reported_at", required=True, kind="datetime"),
        Field("description", default=""),
        Field("status", choices=CASE_STATUSES, default="new"),
        Field("category"),
        Field("reporter_name"),
        Field("reporter_phone"),
        Field("address"),
        Field("latitude", kind="float", minimum=-90, maximum=90),
        Field("longitude", kind="float", minimum=-180, maximum=180),
        Field("updated_at", kind="datetime"),
        Field("resolved_at", kind="datetime"),
        Field("office", lookup=True, max_length=200),
        Field("cluster", lookup=True, max_length=200),
        Field("tags", lookup=True),
    ),
    "tickets": (
        Field("id", required=True),
        Field("subject", required=True),
        Field("status", choices=TICKET_STATUSES, default="open"),
        Field("priority", choices=TICKET_PRIORITIES, default="normal"),
        Field("created_at", kind="datetime"),
        Field("updated_at", kind="datetime"),
        Field("due_at", kind="datetime"),
        Field("resolved_at", kind="datetime"),
        Field("sla_breached", kind="bool", default=False),
        Field("assignee_email", lookup=True),
    ),
}
TRUE = {"true", "yes", "y", "1", "t", "x", "ja", "oui", "sí", "si"}
FALSE = {"false", "no", "n", "0", "f", "nein", "non"}


def required_columns(model: str) -> list[str]:
    return [f.column for f in FIELDS[model] if f.required]


def normalize(name: Any) -> str:
    """Header matching ignores case, spaces, underscores and hyphens: 'Started At' == started_at."""
    return re.sub(r"[\s_\-]+", "", str(name if name is not None else "")).lower()


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a spurious '.0', dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def plain_cell(value: Any) -> Any:
    """A cell as JSON can keep it in `raw` (Excel hands us datetimes; PostgreSQL refuses NULs)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


# --- matching a header row to our columns -------------------------------------------------


@dataclass
class Layout:
    """Which header holds each of our columns, for one table and one model."""

    model: str
    headers: list[str]
    columns: dict[str, int]  # our column -> position in the row
    missing: list[str]  # required columns (with the header we looked for) not found

    def header_of(self, column: str) -> str | None:
        index = self.columns.get(column)
        return None if index is None else self.headers[index]


def unique_headers(cells: Iterable[Any]) -> list[str]:
    """Header texts; blanks become column_N and repeats get ' (2)' so `raw` keeps every cell."""
    seen: set[str] = set()
    headers = []
    for n, cell in enumerate(cells, start=1):
        name = cell_text(cell).replace("\x00", "") or f"column_{n}"
        candidate, k = name, 2
        while candidate in seen:
            candidate, k = f"{name} ({k})", k + 1
        seen.add(candidate)
        headers.append(candidate)
    return headers


def resolve(
    model: str, headers: list[str], mapping: dict[str, str], id_column: str | None
) -> Layout:
    """Match our columns to the header: explicit mapping first, then names, then aliases."""
    fields = {f.column: f for f in FIELDS[model]}
    unknown = sorted(set(mapping) - set(fields))
    if unknown:
        raise ConnectorError(
            f"The column mapping names {', '.join(unknown)}, which {model} do not have; "
            f"known columns: {', '.join(fields)}"
        )
    wanted = dict(mapping)
    if id_column:
        wanted["id"] = id_column
    positions: dict[str, int] = {}
    for n, header in enumerate(headers):
        positions.setdefault(normalize(header), n)
    columns: dict[str, int] = {}
    missing: list[str] = []
    for name, spec in fields.items():
        if name in wanted:
            found = positions.get(normalize(wanted[name]))
            if found is None and spec.required:
                missing.append(f"{name} (mapped to {wanted[name]!r})")
        else:
            found = positions.get(normalize(name))
            for alias in spec.aliases:
                if found is None:
                    found = positions.get(normalize(alias))
            if found is None and spec.required:
                missing.append(name)
        if found is not None:
            columns[name] = found
    return Layout(model, headers, columns, missing)


def guess_model(headers: list[str], mapping: dict[str, str], id_column: str | None) -> str:
    """The most specific model whose required columns the header has (calls before contacts)."""
    for model in sorted(MODELS, key=lambda m: -len(required_columns(m))):
        try:
            layout = resolve(model, headers, mapping, id_column)
        except ConnectorError:
            continue
        if not layout.missing:
            return model
    raise ConnectorError(
        f"Cannot tell what these rows are: the columns {describe_columns(headers)} do not hold "
        "the required columns of contacts (id), calls (id, started_at, status, direction), "
        "cases (id, title, reported_at) or tickets (id, subject). Set the model and the mapping."
    )


def describe_columns(headers: list[str], limit: int = 12) -> str:
    shown = ", ".join(headers[:limit])
    return shown + (f", … ({len(headers) - limit} more)" if len(headers) > limit else "")


# --- one row into our columns -------------------------------------------------------------


class SheetRow(dict):
    """One table row as the vendor record: {header: cell}, plus where it sits in the table."""

    __slots__ = ("layout", "number")

    def __init__(self, data: dict, *, number: int, layout: Layout):
        super().__init__(data)
        self.number = number
        self.layout = layout

    def cell(self, column: str) -> Any:
        header = self.layout.header_of(column)
        return None if header is None else self.get(header)

    def external_id(self) -> str | None:
        text = cell_text(self.cell("id"))
        return text or None


_EMPTY = object()


def _limit(model: str, field: Field) -> int | None:
    if field.max_length is not None:
        return field.max_length
    column = TABLES[model].__table__.c.get(field.column)
    return getattr(column.type, "length", None) if column is not None else None


def convert(model: str, field: Field, value: Any, *, date_format: str | None = None) -> Any:
    """A cell as the value our column holds, or _EMPTY; RecordError says what is wrong."""
    text = cell_text(value)
    name = field.column
    if not text:
        if field.required:
            raise RecordError(f"{name} is empty")
        return _EMPTY
    if field.kind == "datetime":
        return _to_datetime(name, value, text, date_format)
    if field.kind in ("int", "float"):
        number = _to_number(text)
        if number is None or (field.kind == "int" and not number.is_integer()):
            what = "a whole number" if field.kind == "int" else "a number"
            raise RecordError(f"{name} {text!r} is not {what}")
        if field.minimum is not None and number < field.minimum:
            raise RecordError(f"{name} {text!r} is below {field.minimum:g}")
        if field.maximum is not None and number > field.maximum:
            raise RecordError(f"{name} {text!r} is above {field.maximum:g}")
        return int(number) if field.kind == "int" else number
    if field.kind == "bool":
        word = text.lower()
        if word in TRUE or word in FALSE:
            return word in TRUE
        raise RecordError(f"{name} {text!r} is not yes or no")
    if field.choices:
        choice = re.sub(r"[\s\-]+", "_", text.lower())
        if choice not in field.choices:
            raise RecordError(f"{name} {text!r} is not one of {', '.join(field.choices)}")
        return choice
    limit = _limit(model, field)
    if limit is not None and len(text) > limit:
        raise RecordError(f"{name} is longer than {limit} characters")
    return text.replace("\x00", "")


def _to_number(text: str) -> float | None:
    text = text.replace(" ", "").replace("\u00a0", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # a decimal comma (semicolon-separated European files)
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _to_datetime(name: str, value: Any, text: str, date_format: str | None) -> datetime:
    if date_format and not isinstance(value, datetime):
        try:
            parsed = datetime.strptime(text, date_format)
        except ValueError as exc:
            raise RecordError(f"{name} {text!r} is not a date like {date_format}") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        return parse_time(value if isinstance(value, datetime) else text, field_name=name)
    except RecordError:
        raise
    except (OverflowError, OSError, ValueError) as exc:
        raise RecordError(f"{name} {text!r} is not a date") from exc


def map_row(row: SheetRow, ctx: MappingContext, *, date_format: str | None = None) -> dict:
    """Our model's columns for one row; RecordError('row 17: …') names the row and the reason."""
    layout = row.layout
    try:
        values: dict[str, Any] = {}
        for field in FIELDS[layout.model]:
            if field.column not in layout.columns:
                continue
            value = convert(layout.model, field, row.cell(field.column), date_format=date_format)
            if value is _EMPTY:
                value = field.default
                column = TABLES[layout.model].__table__.c.get(field.column)
                if value is None and column is not None and not column.nullable:
                    continue  # the database default holds (created_at, updated_at)
            values[field.column] = value
        ext = values.pop("id")
        if len(ext) > EXTERNAL_ID_LENGTH:
            raise RecordError(f"id is longer than {EXTERNAL_ID_LENGTH} characters")
        row_values = _MODEL_RULES[layout.model](values, ctx)
    except RecordError as exc:
        raise RecordError(
            f"row {row.number}: {exc.reason}", row.external_id() or f"row {row.number}"
        ) from exc
    row_values["raw"] = dict(row)
    return row_values


def _contacts(values: dict, ctx: MappingContext) -> dict:
    email = values.get("email")
    if email and "@" not in email:
        raise RecordError(f"email {email!r} is not an email address")
    return values


def _calls(values: dict, ctx: MappingContext) -> dict:
    started: datetime = values["started_at"]
    ended = values.get("ended_at")
    duration = values.get("duration_seconds")
    if ended is not None and ended < started:
        raise RecordError("ended_at is before started_at")
    if duration is None and ended is not None:
        values["duration_seconds"] = int((ended - started).total_seconds())
    elif duration is not None and ended is None:
        values["ended_at"] = started + timedelta(seconds=duration)
    if "phone_number" in values:
        values["phone_number_id"] = ctx.phone_number_id(values.pop("phone_number"))
    if "agent_email" in values:
        values["agent_id"] = ctx.agent_id(values.pop("agent_email"))
    return values


def _cases(values: dict, ctx: MappingContext) -> dict:
    resolved = values.get("resolved_at")
    if resolved is not None and resolved < values["reported_at"]:
        raise RecordError("resolved_at is before reported_at")
    has_tags = "tags" in values
    names = [t.strip() for t in (values.pop("tags", None) or "").split(",") if t.strip()]
    if any(len(t) > 100 for t in names):
        raise RecordError("a tag is longer than 100 characters")
    # lookups last: they create offices, clusters and tags, which a bad row must not leave
    if "cluster" in values:
        cluster = values.pop("cluster")
        values["cluster_id"] = ctx.cluster_id(cluster)
    else:
        cluster = None
    if "office" in values:
        values["office_id"] = ctx.office_id(values.pop("office"), cluster=cluster)
    if has_tags:
        values["tag_ids"] = ctx.tag_ids(names)
    return values


def _tickets(values: dict, ctx: MappingContext) -> dict:
    if "assignee_email" in values:
        values["assignee_id"] = ctx.agent_id(values.pop("assignee_email"))
    return values


_MODEL_RULES: dict[str, Callable[[dict, MappingContext], dict]] = {
    "contacts": _contacts,
    "calls": _calls,
    "cases": _cases,
    "tickets": _tickets,
}


# --- reading CSV text ---------------------------------------------------------------------


def sniff_dialect(sample: str, delimiter: str | None = None) -> type[csv.Dialect]:
    """Excel's CSV with the delimiter csv.Sniffer finds (or the one configured).

    Only the delimiter is taken from the sniffer: its quoting guesses go wrong when the
    sample has no quotes, while every spreadsheet writes standard double-quoting.
    """
    if delimiter:
        chosen = "\t" if delimiter.lower() in ("\\t", "tab") else delimiter
    else:
        lines = sample.splitlines()
        complete = "\n".join(lines[:-1] if len(lines) > 1 else lines)
        try:
            chosen = csv.Sniffer().sniff(complete, delimiters=DELIMITERS).delimiter
        except csv.Error:
            chosen = ","
        header = lines[0] if lines else ""
        if chosen not in header:
            counts = {d: header.count(d) for d in DELIMITERS}
            best = max(counts, key=counts.__getitem__)
            chosen = best if counts[best] else ","

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = chosen
    return Dialect


#: The most rows Excel holds in one sheet. A table known to be longer is refused before
#: loading; one whose length shows only while reading stops at this row.
MAX_ROWS = 1_048_576


def numbered_rows(
    rows: Iterable[list[Any]], what: str, first: int = 2
) -> Iterator[tuple[int, list[Any]]]:
    """(sheet row number, cells) for the non-blank rows; read errors name the row."""
    number = first - 1
    try:
        for number, cells in enumerate(rows, start=first):
            if number > MAX_ROWS:
                raise ConnectorError(
                    f"{what} has more than {MAX_ROWS:,} rows, the most a sheet holds; "
                    "split it into smaller files."
                )
            if any(cell not in (None, "") for cell in cells):
                yield number, list(cells)
    except UnicodeDecodeError as exc:
        raise ConnectorError(
            f"{what} is not UTF-8 text (after row {number}); save it as 'CSV UTF-8' "
            "or set the connection's encoding"
        ) from exc
    except csv.Error as exc:
        raise ConnectorError(f"{what} cannot be read as CSV near row {number + 1}: {exc}") from exc


@dataclass
class Table:
    """A header and a lazy iterator of (row number, cells) over the rest."""

    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    total: int | None = None
    close: Callable[[], None] = lambda: None


# --- the connector base both table connectors share ---------------------------------------


#: The settings both table connectors share (each adds its own after these).
TABLE_FIELDS = (
    ConfigField(
        "model",
        "Load the rows as",
        "choice",
        required=False,
        choices=tuple((m, m.capitalize()) for m in MODELS),
        help="Leave empty to tell from the header row.",
    ),
    ConfigField(
        "mapping",
        "Column mapping",
        "json",
        required=False,
        placeholder='{"started_at": "Start time"}',
        help="Our column → your header; by default headers match our column names.",
    ),
    ConfigField(
        "id_column",
        "ID column",
        required=False,
        help="The header of the column that identifies a row (default: id).",
    ),
    ConfigField(
        "date_format",
        "Date format",
        required=False,
        placeholder="%d/%m/%Y %H:%M",
        help="How dates typed as text are read (strftime codes); ISO 8601 always works.",
    ),
)


class TabularConnector(Connector):
    """One stream per model; `settings["model"]` says which one this table fills."""

    streams = tuple(Stream(model, model, description=f"Rows loaded as {model}") for model in MODELS)
    config_fields: ClassVar[tuple[ConfigField, ...]] = TABLE_FIELDS

    def auth_headers(self) -> dict[str, str]:
        return {}

    # what a subclass provides ------------------------------------------------------------
    def open_table(self, *, count: bool = False) -> Table:
        """The header and the rows; with count=True `total` must be known (test_connection)."""
        raise NotImplementedError

    def source_name(self) -> str:
        raise NotImplementedError

    def checked_table(self, *, count: bool = False) -> Table:
        """`open_table`, refused before any row loads when it is known to be longer than a sheet."""
        table = self.open_table(count=count)
        if table.total is not None and table.total > MAX_ROWS:
            table.close()
            raise ConnectorError(
                f"{self.source_name()} has {table.total:,} rows, more than the {MAX_ROWS:,} a "
                "sheet holds; split it into smaller files."
            )
        return table

    # settings ----------------------------------------------------------------------------
    @property
    def mapping(self) -> dict[str, str]:
        mapping = self.settings.get("mapping") or {}
        if isinstance(mapping, str):
            try:
                mapping = json.loads(mapping)
            except ValueError as exc:
                raise ConnectorError("The column mapping is not valid JSON") from exc
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise ConnectorError(
                'The column mapping must map our columns to your headers: {"started_at": "Start"}'
            )
        return {k: v for k, v in mapping.items() if v.strip()}

    @property
    def id_column(self) -> str | None:
        value = self.settings.get("id_column")
        return (str(value).strip() or None) if value is not None else None

    def model_for(self, headers: list[str]) -> str:
        model = self.settings.get("model")
        if not model:
            return guess_model(headers, self.mapping, self.id_column)
        if model not in MODELS:
            raise ConnectorError(f"model must be one of {', '.join(MODELS)}, not {model!r}")
        return model

    def layout(self, model: str, headers: list[str]) -> Layout:
        return resolve(model, headers, self.mapping, self.id_column)

    # the connector interface -------------------------------------------------------------
    def test_connection(self) -> str:
        table = self.checked_table(count=True)
        try:
            headers = table.headers
            rows = table.total or 0
            found = (
                f"Found {rows:,} row{'' if rows == 1 else 's'} with columns: "
                + describe_columns(headers)
            )
            model = self.model_for(headers)
            layout = self.layout(model, headers)
        finally:
            table.close()
        if layout.missing:
            raise ConnectorError(
                f"{found}. Missing required column(s) for {model}: {', '.join(layout.missing)}"
            )
        return f"{found}. They load as {model}."

    def read(self, request: ReadRequest) -> Iterator[Page]:
        stream = request.stream.name
        chosen = self.settings.get("model")
        if chosen and chosen != stream:
            self._note(f"{stream}: this table loads {chosen}; nothing to read")
            return
        table = self.checked_table()
        try:
            model = self.model_for(table.headers)
            if model != stream:
                self._note(f"{stream}: the columns say these rows are {model}; nothing to read")
                return
            layout = self.layout(model, table.headers)
            if layout.missing:
                raise ConnectorError(
                    f"{self.source_name()}: missing required column(s) for {model}: "
                    + ", ".join(layout.missing)
                )
            size = max(1, request.page_size)
            page: list[dict] = []
            width = len(layout.headers)
            for taken, (number, cells) in enumerate(table.rows, start=1):
                data = {
                    header: plain_cell(cells[i] if i < len(cells) else None)
                    for i, header in enumerate(layout.headers)
                }
                if len(cells) > width and any(c not in (None, "") for c in cells[width:]):
                    data["_extra"] = [plain_cell(c) for c in cells[width:]]
                page.append(SheetRow(data, number=number, layout=layout))
                if len(page) >= size:
                    self.stats.pages += 1
                    yield Page(page, table.total)
                    page = []
                if request.max_records and taken >= request.max_records:
                    break
            if page:
                self.stats.pages += 1
                yield Page(page, table.total)
        finally:
            table.close()

    def external_id(self, stream: Stream, raw: dict) -> str:
        if isinstance(raw, SheetRow):
            ext = raw.external_id()
            if ext is None:
                raise RecordError(f"row {raw.number}: id is empty", f"row {raw.number}")
            return ext
        return super().external_id(stream, raw)

    def map_record(self, stream: Stream, raw: dict, ctx: MappingContext) -> dict:
        if not isinstance(raw, SheetRow):
            raise RecordError("not a table row")
        return map_row(raw, ctx, date_format=self.settings.get("date_format") or None)

    def _note(self, message: str) -> None:
        if self.debug:
            self.debug(message)


__all__ = [
    "FIELDS",
    "MODELS",
    "Field",
    "Layout",
    "SheetRow",
    "Table",
    "TabularConnector",
    "guess_model",
    "map_row",
    "numbered_rows",
    "required_columns",
    "resolve",
    "sniff_dialect",
]
