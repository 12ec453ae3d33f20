"""The one date-range input: labelled native From/To date inputs, and the note beside them.

Dash 4's `dcc.DatePickerRange` puts `aria-expanded`/`aria-haspopup` on a wrapper without a
role, which axe-core reports as critical, and hides its inputs from labels. A native
`<input type="date">` is labelled, typed or picked from the browser's own calendar, and read
by screen readers. Every page that filters by days draws its range with `date_range`:

- ids come from the range's `prefix`: `from_id(prefix)`, `to_id(prefix)` (the inputs, read
  as their `value`, "" or None when empty) and `note_id(prefix)` (what was wrong);
- the note says why the URL's dates were changed (`models.params.day_range` problems) on a
  first load, and what is wrong with typed dates after a change (`date_feedback`, registered
  by `callbacks._dates.date_feedback_on`), the input at fault is marked invalid, and the
  note is an alert, so a screen reader reads it when it fills;
- the inputs accept 2000-01-01..2100-12-31, the days `models.params` accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from models.params import FIRST_DAY, LAST_DAY, ParamError, first, parse_date
from pages._date_note import dates_note

#: Milliseconds a typed date waits before it is used: typing a year digit by digit passes
#: through days such as 0002-03-01, which would otherwise each run a query and an error.
DEBOUNCE_MS = 600

__all__ = [
    "DEBOUNCE_MS",
    "date_feedback",
    "date_note",
    "date_range",
    "dates_note",
    "from_id",
    "note_id",
    "to_id",
]


def from_id(prefix: str) -> str:
    return f"{prefix}-from"


def to_id(prefix: str) -> str:
    return f"{prefix}-to"


def note_id(prefix: str) -> str:
    return f"{prefix}-note"


def _iso(day: date | str | None) -> str | None:
    if isinstance(day, date):
        return day.isoformat()
    return day or None


def _field(input_id: str, label: str, value: date | str | None, latest: str) -> html.Div:
    return html.Div(
        [
            dbc.Label(label, html_for=input_id, class_name="date-range-label"),
            dbc.Input(
                id=input_id,
                type="date",
                value=_iso(value),
                min=FIRST_DAY.isoformat(),
                max=latest,
                debounce=DEBOUNCE_MS,
                size="sm",
                class_name="date-range-input",
            ),
        ],
        className="date-range-field",
    )


def date_note(prefix: str, problems: Sequence[str] = ()) -> html.Div:
    """The place for what is wrong with the dates (empty when nothing is); `date_range` puts
    it under its inputs, a page that hides the inputs (the overview's presets) places it."""
    # An alert: read out when it fills (dbc.Input cannot carry aria-describedby).
    return html.Div(
        dates_note(problems), id=note_id(prefix), role="alert", className="filter-notes"
    )


def date_range(
    prefix: str,
    start: date | str | None,
    end: date | str | None,
    *,
    label: str = "Dates",
    problems: Sequence[str] = (),
    latest: date | None = None,
    note: bool = True,
    class_name: str = "",
    wrap_id: str | None = None,
) -> html.Div:
    """From and To, labelled, in a group named `label`, with the note under them.

    `latest` caps the browser's calendar (the overview's today); the server still checks
    typed values. `note=False` leaves the note to the page (`date_note`); `wrap_id` names the
    group when a callback shows or hides it."""
    last = (latest or LAST_DAY).isoformat()
    children: list[Any] = [
        html.Div(
            [
                _field(from_id(prefix), "From", start, last),
                _field(to_id(prefix), "To", end, last),
            ],
            id=prefix,
            className="date-range-fields",
            role="group",
            **{"aria-label": label},
        )
    ]
    if note:
        children.append(date_note(prefix, problems))
    classes = dict.fromkeys(("date-range", *class_name.split()))  # a callback may repeat it
    named = {"id": wrap_id} if wrap_id else {}
    return html.Div(children, className=" ".join(classes), **named)


def _checked(name: str, raw: Any) -> tuple[date | None, str | None]:
    raw = first(raw)
    if raw is None or raw == "":
        return None, None
    try:
        return parse_date(name, raw), None
    except ParamError as exc:
        return None, str(exc)


def date_feedback(start: Any, end: Any) -> tuple[html.Div | None, bool, bool]:
    """(note, From invalid, To invalid) for typed values: a day out of range or an end
    before the start is said next to the inputs, and the input at fault is marked."""
    first_day, start_problem = _checked("The start date", start)
    last_day, end_problem = _checked("The end date", end)
    problems = [p for p in (start_problem, end_problem) if p]
    order = bool(first_day and last_day and first_day > last_day)
    if order:
        problems.append("The end date is before the start date.")
    return dates_note(problems), start_problem is not None, end_problem is not None or order
