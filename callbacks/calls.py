"""Callbacks of the calls page: the paged table, the URL and the CSV link follow the filters."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    html,
    no_update,
)

from callbacks._dates import date_feedback_on
from callbacks._table import refresh_on
from models.calls import CallFilters, FilterError, call_page
from models.db import session_scope
from models.kpis import agent_choices, has_calls, phone_choices
from models.reports import format_duration
from models.scope import Viewer
from pages._calls_ids import (
    CALLS,
    CALLS_AGENT,
    CALLS_COUNT,
    CALLS_DATES,
    CALLS_DATES_FROM,
    CALLS_DATES_TO,
    CALLS_DIRECTION,
    CALLS_EMPTY,
    CALLS_EXPORT,
    CALLS_PHONE,
    CALLS_RESET,
    CALLS_ROOT,
    CALLS_SEARCH,
    CALLS_STATUS,
    CALLS_TABLE,
    CALLS_URL,
    DIRECTION_LABELS,
    STATUS_LABELS,
)
from pages._table import count_text, read_rows_request, rows_response
from web.exports import CALLS_PATH, export_href
from web.viewer import current_viewer


def number_text(label: str | None, number: str | None) -> str:
    return f"{label} · {number}" if label and number else (label or number or "—")


def call_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Table rows a person reads: UTC time, m:ss durations, labels instead of codes."""
    return [
        {
            "id": r["id"],
            "time": r["started_at"].strftime("%Y-%m-%d %H:%M"),
            # The label alone: the number itself is in From or To on the same row.
            "number": r["number_label"] or r["number"] or "—",
            "from": r["from_number"],
            "to": r["to_number"],
            "contact": r["contact"] or "",
            "direction": DIRECTION_LABELS.get(r["direction"], r["direction"]),
            "status": STATUS_LABELS.get(r["status"], r["status"]),
            "duration": format_duration(r["duration_seconds"]),
            "agent": r["agent"] or "—",
        }
        for r in rows
    ]


def choices(pairs: list[tuple[int, str]]) -> list[dict[str, Any]]:
    return [{"label": label, "value": value} for value, label in pairs]


@callback(
    Output(CALLS_PHONE, "options"),
    Output(CALLS_AGENT, "options"),
    Input(CALLS_ROOT, "id"),
)
def load_choices(_root):
    """The numbers and agents the viewer may filter on (an agent: their own numbers)."""
    viewer = current_viewer()
    with session_scope() as db:
        return choices(phone_choices(db, viewer)), choices(agent_choices(db, viewer))


def no_calls(viewer: Viewer, filters: CallFilters, any_calls: bool) -> html.Div:
    """Why the table is empty, truthfully: no numbers, nothing synced, or nothing that matches."""
    if viewer.role == "agent" and not viewer.phone_number_ids:
        title = "No phone numbers assigned to you yet"
        hint = (
            "An org admin assigns phone numbers on the Team page; ask one of your organisation's."
        )
    elif not any_calls:
        title, hint = "No calls yet", "Calls appear here once a call-tracking source has synced."
    elif replace(filters, start=None, end=None, sort=None, descending=False) != CallFilters():
        title = " ".join(("No calls match these filters", filters.range_text())).strip()
        hint = "Try clearing some of them."
    elif filters.start or filters.end:
        title = f"No calls {filters.range_text()}"
        hint = "There are calls on other days; widen the dates or clear them."
    else:
        title, hint = "No calls", ""
    return html.Div(
        [html.H2(title, className="h6 mb-1"), html.P(hint, className="empty-hint small mb-0")],
        className="records-empty-note",
        id="calls-empty-state",
        role="status",
    )


@callback(
    Output(CALLS_TABLE, "getRowsResponse"),
    Output(CALLS_COUNT, "children"),
    Output(CALLS_URL, "search"),
    Output(CALLS_EXPORT, "href"),
    Output(CALLS_EMPTY, "children"),
    Input(CALLS_TABLE, "getRowsRequest"),
    State(CALLS_SEARCH, "value"),
    State(CALLS_DATES_FROM, "value"),
    State(CALLS_DATES_TO, "value"),
    State(CALLS_PHONE, "value"),
    State(CALLS_AGENT, "value"),
    State(CALLS_DIRECTION, "value"),
    State(CALLS_STATUS, "value"),
    prevent_initial_call=True,
)
def update_calls(request, search, start, end, phone, agent, direction, status):
    """One block of rows for the grid, with the count, the URL and the CSV link of the
    filters it was asked with (the grid asks again whenever a filter changes)."""
    viewer = current_viewer()
    page, size, sort, descending = read_rows_request(request)
    params = {
        "q": search,
        "from": start or None,  # an emptied date input says ""
        "to": end or None,
        "phone": phone,
        "agent": agent,
        "direction": direction,
        "status": status,
        "sort": sort,
        "desc": "1" if descending else "",
    }
    try:
        filters = CallFilters.from_params(params)
    except FilterError as exc:
        # What can be used still shows (the note beside the inputs says what is wrong): a
        # zero-row answer here, followed by two quick changes, left the grid's infinite row
        # model waiting for an answer it had swallowed (dash-ag-grid 35), stuck on old rows.
        filters = CallFilters.from_params(params, strict=False)
        with session_scope() as db:
            result = call_page(db, viewer, filters, page=page, page_size=size)
        return rows_response(call_rows(result.rows), result.total), str(exc), no_update, "", None
    with session_scope() as db:
        result = call_page(db, viewer, filters, page=page, page_size=size)
        empty = None
        if result.total == 0:
            empty = no_calls(viewer, filters, has_calls(db, viewer))
    query = filters.to_params()
    return (
        rows_response(call_rows(result.rows), result.total),
        count_text(result.total, "calls"),
        "?" + urlencode(query) if query else "",
        export_href(CALLS_PATH, query),
        empty,
    )


refresh_on(
    CALLS,
    Input(CALLS_SEARCH, "value"),
    Input(CALLS_DATES_FROM, "value"),
    Input(CALLS_DATES_TO, "value"),
    Input(CALLS_PHONE, "value"),
    Input(CALLS_AGENT, "value"),
    Input(CALLS_DIRECTION, "value"),
    Input(CALLS_STATUS, "value"),
)


# Dates typed by hand replace what the URL asked for: its note gives way to theirs.
date_feedback_on(CALLS_DATES)


# The address bar shows the filters used (a corrected URL is replaced, not pushed).
clientside_callback(
    ClientsideFunction(namespace="syncboardUrl", function_name="replaceSearch"),
    Output(CALLS_URL, "href"),
    Input(CALLS_URL, "search"),
)


@callback(
    Output(CALLS_SEARCH, "value"),
    Output(CALLS_DATES_FROM, "value"),
    Output(CALLS_DATES_TO, "value"),
    Output(CALLS_PHONE, "value"),
    Output(CALLS_AGENT, "value"),
    Output(CALLS_DIRECTION, "value"),
    Output(CALLS_STATUS, "value"),
    Input(CALLS_RESET, "n_clicks"),
    prevent_initial_call=True,
)
def clear_filters(_clicks):
    return "", None, None, None, None, None, None
