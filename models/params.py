"""Values from outside (query strings, JSON bodies, callback inputs, URL paths), parsed once, here.

Every parser is strict about form: a bool is not a number, `""` is not a value, `1.5` is not
an id, and only ASCII digits count. Every number stays within what SQL can hold (BIGINT), and
every date within a range date arithmetic cannot overflow, so a bad value becomes a message
for a person (`ParamError`), or "not found" for an id, never an overflow deep in a query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, overload

#: Ids are INTEGER columns (int4 on PostgreSQL): a larger id names nothing, and PostgreSQL
#: refuses to compare one instead of finding no row.
MAX_ID = 2**31 - 1
#: LIMIT and OFFSET are BIGINT on both backends.
MAX_OFFSET = 2**63 - 1
#: Dates outside this range are refused: no call or sync is older, and a day or a year added
#: to the last one still fits in `datetime`.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)

_WHOLE = re.compile(r"[+-]?[0-9]{1,40}")
_DAY = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T ][0-9:.+Z-]{0,40})?")


class ParamError(ValueError):
    """A value that cannot be used, said in words for a person (the API answers 400)."""


def first(value: Any) -> Any:
    """Query strings may repeat a key; Dash hands those over as lists: take the first."""
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def _expected(low: int, high: int) -> str:
    if high >= MAX_ID:  # the bound of the column, not of the question
        return "a positive whole number" if low == 1 else f"a whole number, at least {low}"
    return f"a whole number from {low:,} to {high:,}"


@overload
def parse_int(name: str, raw: Any, *, low: int = ..., high: int = ..., default: int) -> int: ...
@overload
def parse_int(
    name: str, raw: Any, *, low: int = ..., high: int = ..., default: None = ...
) -> int | None: ...
def parse_int(
    name: str, raw: Any, *, low: int = 0, high: int = MAX_ID, default: int | None = None
) -> int | None:
    """A whole number in `low..high` from an int or a decimal string; None (absent) → `default`.

    `""`, bools, floats, lists and anything but ASCII digits raise ParamError, as does a
    number out of range: an empty `?offset=` is a mistake to report, not a zero. The
    default `high` is what an INTEGER column holds; offsets pass `high=MAX_OFFSET`.
    """
    if raw is None:
        return default
    message = f"{name} must be {_expected(low, high)}."
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ParamError(message)
    if isinstance(raw, str):
        text = raw.strip()
        if not _WHOLE.fullmatch(text):
            raise ParamError(message)
        raw = int(text)
    if raw < low:
        raise ParamError(message)
    if raw > high:
        raise ParamError(f"{name} must be at most {high:,}.")
    return raw


def int_or_none(raw: Any, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """`parse_int` for inputs that drop what they cannot use (a forged value, an old link)."""
    try:
        return parse_int("value", raw, low=low, high=high)
    except ParamError:
        return None


def id_or_none(raw: Any) -> int | None:
    """A database id (1..MAX_ID, as int or digits), else None: query functions answer
    "not found" for an id that cannot exist instead of letting the driver overflow."""
    return int_or_none(raw, low=1)


def parse_date(name: str, raw: Any, *, default: date | None = None) -> date | None:
    """A day written YYYY-MM-DD (a time after it is ignored), between FIRST_DAY and LAST_DAY.

    None (absent) → `default`; `""` and anything else raise ParamError.
    """
    if raw is None:
        return default
    day: date | None
    if isinstance(raw, date) and not isinstance(raw, datetime):
        day = raw
    else:
        found = _DAY.fullmatch(raw.strip()) if isinstance(raw, str) else None
        try:
            day = date.fromisoformat(found.group(1)) if found else None
        except ValueError:
            day = None
        if day is None:
            raise ParamError(f"{name} must be a date written YYYY-MM-DD.")
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ParamError(
            f"{name} must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}."
        )
    return day


def date_or_none(raw: Any) -> date | None:
    """`parse_date` for inputs that drop what they cannot use."""
    try:
        return parse_date("date", raw)
    except ParamError:
        return None


@dataclass(frozen=True)
class DayRange:
    """Inclusive days read from a URL, and what was wrong with them, in words for a person."""

    start: date | None
    end: date | None
    problems: tuple[str, ...] = ()


def _shown(raw: Any) -> str:
    text = str(first(raw))
    return text if len(text) <= 40 else text[:39] + "…"


def day_range(raw_start: Any, raw_end: Any, *, max_days: int | None = None) -> DayRange:
    """`from`/`to` of a page's URL, read leniently so the page still shows something: a day
    that is not a date or out of range is dropped, an end before the start is swapped with
    it, and a span longer than `max_days` is cut from the start. Each change is a problem
    to show next to the date picker, with the URL rewritten to what is shown."""
    problems: list[str] = []
    days: list[date | None] = []
    for name, raw in (("The start date", raw_start), ("The end date", raw_end)):
        raw = first(raw)
        try:
            days.append(parse_date(name, None if raw == "" else raw))
        except ParamError as exc:
            problems.append(f"{str(exc)[:-1]}, not “{_shown(raw)}”.")
            days.append(None)
    start, end = days
    if start and end and start > end:
        problems.append(
            f"The end date {end.isoformat()} was before the start date {start.isoformat()}, "
            "so the two were swapped."
        )
        start, end = end, start
    if max_days and start and end and (end - start).days >= max_days:
        start = end - timedelta(days=max_days - 1)
        problems.append(f"A range covers at most {max_days} days: it now starts on {start}.")
    return DayRange(start, end, tuple(problems))


def as_text(raw: Any, *, max_length: int = 1000) -> str:
    """A text box's value as text, cut to `max_length`; a forged number or list is empty."""
    return raw[:max_length] if isinstance(raw, str) else ""


def offset_fits(offset: int) -> bool:
    """Whether SQL can skip this many rows."""
    return 0 <= offset <= MAX_OFFSET


MAX_DEPTH = 64


def check_text(value: Any, depth: int = 0) -> None:
    """Refuse text that no database stores, anywhere in a JSON value: NUL characters
    (PostgreSQL refuses them) and lone surrogates (no driver can encode them)."""
    if depth > MAX_DEPTH:
        raise ParamError(f"A value nests at most {MAX_DEPTH} levels deep.")
    if isinstance(value, str):
        if "\x00" in value or not _encodes(value):
            raise ParamError("Text must not hold NUL characters or broken Unicode.")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, depth + 1)
            check_text(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_text(item, depth + 1)


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
