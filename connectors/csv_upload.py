"""CSV / Excel upload: rows of an uploaded file loaded as contacts, calls, cases or tickets.

Follows the formats spreadsheets write, not an HTTP API (nothing is fetched):
- CSV per RFC 4180 (double-quoted fields, `""` inside quotes, CRLF or LF lines), in UTF-8
  with or without the byte-order mark Excel's "CSV UTF-8" writes; the delimiter (`,`, or
  `;` as Excel writes in decimal-comma locales, tab, `|`) is sniffed with csv.Sniffer
  from the first 64 KiB, or set by `settings["delimiter"]`; `settings["encoding"]`
  reads other encodings (e.g. cp1252);
- .xlsx (Office Open XML, ECMA-376) through openpyxl in read-only mode with cached
  values (`data_only`): the first worksheet or `settings["sheet"]`, header in row 1;
  the row count comes from the sheet's dimension (`max_row`).
- where: `settings["path"]`, the stored upload under the instance directory's `uploads/`
  (a relative path is taken from the instance directory; anything outside `uploads/` is
  refused, so a connection cannot read the secret key, the database or other files);
- "paging": rows are streamed in pages of the engine's page size, so memory stays flat
  whatever the file's size; there is no cursor, each sync reads the whole file and the
  upsert counts unchanged rows. Column matching and row checks: connectors/tabular.py.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path
from typing import BinaryIO

from connectors.base import ConfigField, ConnectorError, register
from connectors.tabular import (
    TABLE_FIELDS,
    Table,
    TabularConnector,
    numbered_rows,
    sniff_dialect,
    unique_headers,
)
from settings import get_settings

SNIFF_CHARS = 64 * 1024
#: A workbook part other than a worksheet (shared strings, styles) is read into memory whole.
MAX_PART_BYTES = 64 * 1024 * 1024
#: Worksheets are streamed, but a file that inflates past this is not a spreadsheet.
MAX_WORKBOOK_BYTES = 1024 * 1024 * 1024
#: Ordinary XML deflates 5-30x; a part that inflates beyond this is a zip bomb.
MAX_RATIO = 200
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")


@register
class CsvUploadConnector(TabularConnector):
    key = "csv"
    label = "CSV / Excel upload"
    icon = "file-earmark-spreadsheet"
    uploads_file = True
    config_fields = (
        *TABLE_FIELDS,
        ConfigField("sheet", "Worksheet (.xlsx)", required=False, help="Default: the first one."),
        ConfigField(
            "delimiter", "Delimiter (CSV)", required=False, help="Default: told from the file."
        ),
        ConfigField(
            "encoding", "Encoding (CSV)", required=False, placeholder="utf-8", help="e.g. cp1252"
        ),
    )
    docs = "Upload a .csv (UTF-8, comma or semicolon) or .xlsx file with a header row."

    def source_name(self) -> str:
        return Path(str(self.settings.get("path") or "the file")).name

    def file_path(self) -> Path:
        """The uploaded file, checked: inside the instance directory, a supported kind, readable."""
        given = str(self.settings.get("path") or "").strip()
        if not given:
            raise ConnectorError("No file has been uploaded for this connection yet.")
        instance = get_settings().instance_dir.resolve()
        path = Path(given)
        path = (path if path.is_absolute() else instance / path).resolve()
        if not path.is_relative_to(instance / "uploads"):
            # Not the whole instance directory: it also holds secret_key and the database.
            raise ConnectorError(
                f"The file {given} is outside the instance directory's uploads; upload it again."
            )
        suffix = path.suffix.lower()
        if suffix == ".xls":
            raise ConnectorError(
                f"{path.name} is an old .xls workbook; save it as .xlsx or CSV UTF-8 and upload it again."
            )
        if suffix not in CSV_SUFFIXES + XLSX_SUFFIXES:
            raise ConnectorError(f"{path.name} is not a .csv or .xlsx file.")
        if not path.is_file():
            raise ConnectorError(
                f"The uploaded file {path.name} is missing ({path}); upload it again."
            )
        return path

    def open_table(self, *, count: bool = False) -> Table:
        path = self.file_path()
        if path.suffix.lower() in XLSX_SUFFIXES:
            return self._open_xlsx(path, count)
        return self._open_csv(path)

    # CSV ---------------------------------------------------------------------------------
    def _text(self, path: Path):
        encoding = self.settings.get("encoding") or "utf-8-sig"
        try:
            return path.open(encoding=encoding, newline="")
        except LookupError as exc:
            raise ConnectorError(f"Unknown encoding {encoding!r}") from exc
        except OSError as exc:
            raise ConnectorError(f"{path.name} cannot be read: {exc.strerror or exc}") from exc

    def _open_csv(self, path: Path) -> Table:
        handle = self._text(path)
        try:
            try:
                sample = handle.read(SNIFF_CHARS)
            except UnicodeDecodeError as exc:
                raise ConnectorError(
                    f"{path.name} is not UTF-8 text; save it as 'CSV UTF-8' "
                    "or set the connection's encoding"
                ) from exc
            default = "\t" if path.suffix.lower() == ".tsv" else None
            dialect = sniff_dialect(sample, self.settings.get("delimiter") or default)
            handle.seek(0)
            rows = numbered_rows(csv.reader(handle, dialect), path.name, first=1)
            first = next(rows, None)
            if first is None:
                raise ConnectorError(f"{path.name} is empty: it has no header row.")
            total = self._count_csv(path, dialect)
        except BaseException:
            handle.close()
            raise
        return Table(unique_headers(first[1]), rows, total, handle.close)

    def _count_csv(self, path: Path, dialect: type[csv.Dialect]) -> int:
        """Data rows, counted by streaming the file once more (constant memory)."""
        with self._text(path) as handle:
            return max(sum(1 for _ in numbered_rows(csv.reader(handle, dialect), path.name)) - 1, 0)

    # Excel -------------------------------------------------------------------------------
    def _open_xlsx(self, path: Path, count: bool) -> Table:
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            with path.open("rb") as handle:
                check_workbook(handle, path.name)
            workbook = load_workbook(path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise ConnectorError(f"{path.name} is not a readable .xlsx workbook: {exc}") from exc
        except OSError as exc:
            raise ConnectorError(f"{path.name} cannot be read: {exc.strerror or exc}") from exc
        try:
            name = self.settings.get("sheet")
            if name:
                if name not in workbook.sheetnames:
                    raise ConnectorError(
                        f"{path.name} has no sheet {name!r}; it has {', '.join(workbook.sheetnames)}"
                    )
                sheet = workbook[name]
            elif workbook.worksheets:
                sheet = workbook.worksheets[0]
            else:
                raise ConnectorError(f"{path.name} has no worksheet.")
            # The dimension gives the row count cheaply, but some writers store a wrong one
            # ("A1"), and read-only iteration stops at it: read past it, count when unsure.
            max_row = sheet.max_row
            sheet.reset_dimensions()
            rows = numbered_rows(sheet.iter_rows(values_only=True), path.name, first=1)
            first = next(rows, None)
            if first is None:
                raise ConnectorError(f"{path.name} is empty: it has no header row.")
            total = max_row - first[0] if max_row and max_row > first[0] else None
            if total is None and count:
                counted = numbered_rows(sheet.iter_rows(values_only=True), path.name)
                total = max(sum(1 for _ in counted) - 1, 0)
        except BaseException:
            workbook.close()
            raise
        return Table(unique_headers(first[1]), rows, total, workbook.close)


def check_workbook(file: BinaryIO, name: str) -> None:
    """Refuse an .xlsx whose parts would inflate absurdly, from the zip directory alone.

    openpyxl holds the shared-strings and styles parts in memory, so a 154 KB file could
    grow to 157 MB while syncing; the sizes each zip entry declares are checked first,
    and zipfile stops reading an entry at its declared size.
    """
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ConnectorError(f"{name} is not a readable .xlsx workbook ({exc}).") from exc
    total = 0
    for member in members:
        total += member.file_size
        sheet = member.filename.startswith("xl/worksheets/")
        ratio = member.file_size / max(member.compress_size, 1)
        if (not sheet and member.file_size > MAX_PART_BYTES) or (
            member.file_size > 1024 * 1024 and ratio > MAX_RATIO
        ):
            raise ConnectorError(
                f"{name} looks damaged or malicious: its part {member.filename} would unpack "
                f"to {member.file_size // (1024 * 1024):,} MB. Save it again from Excel, or as CSV."
            )
    if total > MAX_WORKBOOK_BYTES:
        raise ConnectorError(
            f"{name} would unpack to {total // (1024 * 1024):,} MB, more than "
            f"{MAX_WORKBOOK_BYTES // (1024 * 1024):,} MB; split it or save it as CSV."
        )


__all__ = ["CsvUploadConnector", "check_workbook"]
