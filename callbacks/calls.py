"""Callbacks of the calls page: the paged table, the URL and the CSV link follow the filters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from dash import Input, Output, State, callback, ctx, no_update

from models.calls import CallFilters, FilterError, call_page
from models.db import session_scope
from models.kpis import agent_choices, phone_choices
from models.reports import format_duration
from pages._calls_ids import (
    CALLS_AGENT,
    CALLS_COUNT,
    CALLS_DATES,
    CALLS_DIRECTION,
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
from pages._table import count_text, read_request
from web.exports import CALLS_PATH, export_href
from web.viewer import current_viewer

# Changing anything but the page number starts again at the first page.
_KEEPS_PAGE = {f"{CALLS_TABLE}.page_current"}


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


@callback(
    Output(CALLS_TABLE, "data"),
    Output(CALLS_TABLE, "page_count"),
    Output(CALLS_TABLE, "page_current"),
    Output(CALLS_COUNT, "children"),
    Output(CALLS_URL, "search"),
    Output(CALLS_EXPORT, "href"),
    Input(CALLS_SEARCH, "value"),
    Input(CALLS_DATES, "start_date"),
    Input(CALLS_DATES, "end_date"),
    Input(CALLS_PHONE, "value"),
    Input(CALLS_AGENT, "value"),
    Input(CALLS_DIRECTION, "value"),
    Input(CALLS_STATUS, "value"),
    Input(CALLS_TABLE, "page_current"),
    Input(CALLS_TABLE, "sort_by"),
    State(CALLS_TABLE, "page_size"),
)
def update_calls(
    search, start, end, phone, agent, direction, status, page_current, sort_by, page_size
):
    viewer = current_viewer()
    page, size, sort, descending = read_request(page_current, page_size, sort_by)
    if ctx.triggered_prop_ids and not set(ctx.triggered_prop_ids) <= _KEEPS_PAGE:
        page = 0
    params = {
        "q": search,
        "from": start,
        "to": end,
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
        return [], 1, 0, str(exc), no_update, ""
    with session_scope() as db:
        result = call_page(db, viewer, filters, page=page, page_size=size)
        if result.rows == [] and page > 0:  # past the end (an old bookmark): the last page
            page = result.page_count - 1
            result = call_page(db, viewer, filters, page=page, page_size=size)
    query = filters.to_params()
    export = export_href(CALLS_PATH, query)
    if page:
        query["page"] = str(page + 1)
    return (
        call_rows(result.rows),
        result.page_count,
        page,
        count_text(result.total, "calls"),
        "?" + urlencode(query) if query else "",
        export,
    )


@callback(
    Output(CALLS_SEARCH, "value"),
    Output(CALLS_DATES, "start_date"),
    Output(CALLS_DATES, "end_date"),
    Output(CALLS_PHONE, "value"),
    Output(CALLS_AGENT, "value"),
    Output(CALLS_DIRECTION, "value"),
    Output(CALLS_STATUS, "value"),
    Input(CALLS_RESET, "n_clicks"),
    prevent_initial_call=True,
)
def clear_filters(_clicks):
    return "", None, None, None, None, None, None
