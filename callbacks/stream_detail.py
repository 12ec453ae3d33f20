"""Callbacks of a stream's page: latest run summary, recent errors, and its records table."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html, no_update

from callbacks._table import refresh_on
from connectors.catalog import connector_facts
from models.db import session_scope
from models.stream_views import stream_columns, stream_records, stream_summary
from models.sync_errors import NotFound
from pages._sources_ids import (
    STREAM_ERRORS,
    STREAM_HEADER,
    STREAM_KEY,
    STREAM_RECORDS,
    STREAM_SUMMARY,
    STREAM_TABLE_PREFIX,
)
from pages._sync_modal import (
    ACTIVE,
    FINISHED,
    STARTED,
    TRIGGER_LABEL,
    ago,
    counts_text,
    duration_text,
    open_button,
    run_progress,
    status_badge,
    when,
)
from pages._table import (
    Column,
    count_id,
    count_text,
    export_id,
    read_rows_request,
    record_grid,
    rows_response,
    search_id,
)
from pages._table import table_id as table_of
from web.viewer import current_viewer

PREFIX = STREAM_TABLE_PREFIX


def _key(data: Any) -> tuple[str, str]:
    data = data if isinstance(data, dict) else {}
    return str(data.get("source") or ""), str(data.get("stream") or "")


def export_href(source_id: Any, stream: str, search: str | None = None) -> str:
    path = f"/export/sources/{quote(str(source_id))}/{quote(stream)}.csv"
    query = urlencode({"q": search}) if search else ""
    return dash.get_relative_path(path) + (f"?{query}" if query else "")


def _scope_note(latest: dict[str, Any] | None) -> str:
    """Whose figures the card shows: an all-streams run gives this stream's share when known."""
    if latest is None or latest["stream"]:
        return ""
    if latest.get("stream_figures"):
        return " (this stream's part of a sync of all streams)"
    return " (all streams)"


def summary_card(summary: dict[str, Any], *, admin: bool) -> dbc.Card:
    latest = summary["latest"]
    if latest is None:
        body = [html.P("This stream has never been synced.", className="text-muted mb-2")]
    elif latest["status"] in ACTIVE:
        body = [run_progress(latest)]
    else:
        body = [
            html.Div(
                [status_badge(latest["status"]), html.Span(counts_text(latest), className="small")],
                className="d-flex flex-wrap align-items-center gap-2 mb-2",
            ),
            html.Div(
                [
                    f"Finished {ago(latest['finished_at'])}",
                    f" · took {duration_text(latest['duration'])}",
                    f" · started by {TRIGGER_LABEL.get(latest['trigger'], latest['trigger'])}",
                ],
                className="small text-muted",
                title=when(latest["finished_at"]),
            ),
        ]
    links = []
    if latest is not None:
        links.append(
            dbc.Button(
                "Run details",
                href=dash.get_relative_path(f"/syncs/{latest['id']}"),
                size="sm",
                color="secondary",
                outline=True,
            )
        )
    if admin:
        links.append(open_button(summary["connection"], summary["stream"], "Sync this stream"))
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2("Latest run" + _scope_note(latest), className="h6"),
                *body,
                html.Div(links, className="d-flex gap-2 mt-3"),
            ]
        ),
        className="kpi-card h-100",
        id="stream-latest",
    )


def errors_card(errors: list[dict[str, Any]]) -> dbc.Card:
    if not errors:
        content: Any = html.P(
            "No errors in the recent runs of this stream.", className="text-muted mb-0"
        )
    else:
        rows = [
            html.Tr(
                [
                    html.Td(
                        html.A(f"#{e['run']}", href=dash.get_relative_path(f"/syncs/{e['run']}"))
                    ),
                    html.Td(ago(e["when"]), title=when(e["when"])),
                    html.Td(e["record"] or "—"),
                    html.Td(e["reason"], className="error-reason"),
                ]
            )
            for e in errors
        ]
        head = html.Thead(
            html.Tr([html.Th("Run"), html.Th("When"), html.Th("Record"), html.Th("Error")])
        )
        content = html.Div(
            dbc.Table([head, html.Tbody(rows)], size="sm", className="mb-0"),
            className="errors-scroll",
        )
    return dbc.Card(
        dbc.CardBody([html.H2("Recent errors", className="h6"), content]),
        className="kpi-card h-100",
        id="stream-recent-errors",
    )


@callback(
    Output("stream-breadcrumb", "children"),
    Output(STREAM_HEADER, "children"),
    Output(STREAM_SUMMARY, "children"),
    Output(STREAM_ERRORS, "children"),
    Input(STREAM_KEY, "data"),
    Input(STARTED, "data"),
    Input(FINISHED, "data"),
)
def render(key, _started, _finished):
    viewer = current_viewer()
    source_id, stream = _key(key)
    back = [
        html.A("Sources", href=dash.get_relative_path("/sources")),
        html.Span(" / "),
    ]
    try:
        with session_scope() as db:
            summary = stream_summary(db, viewer, source_id, stream, catalogue=connector_facts())
    except NotFound as exc:
        missing = html.Div(
            [html.H2("Stream not found", className="h4"), html.P(str(exc), className="text-muted")],
            className="empty-state",
            id="stream-missing",
        )
        return back, missing, None, None
    back += [
        html.A(
            summary["connection_name"],
            href=dash.get_relative_path(f"/sources/{summary['connection']}"),
        )
    ]
    header = html.Div(
        [
            html.H1(summary["stream"], className="h3 mb-0", id="stream-title"),
            html.Div(
                " · ".join(
                    part
                    for part in (summary["description"], f"stored in {summary['model']}")
                    if part
                ),
                className="text-muted small",
            ),
        ]
    )
    return (
        back,
        header,
        summary_card(summary, admin=viewer.can_manage_syncs),
        errors_card(summary["errors"]),
    )


#: Columns that describe where a record came from: the first to go on a narrow screen.
META_COLUMNS = ("source", "external_id", "synced_at", "created_at", "updated_at")


def grid_columns(columns: list[tuple[str, str]]) -> list[Column]:
    """A stream's columns with priorities: its first few always shown, then the rest, the
    record's provenance last (hidden on narrow screens, pages/_table.py)."""
    shown: list[Column] = []
    for position, (key, label) in enumerate(columns):
        priority = 3 if key in META_COLUMNS else 1 if position < 3 or key == "status" else 2
        shown.append((key, label, {"priority": priority}))
    return shown


@callback(Output(STREAM_RECORDS, "children"), Input(STREAM_KEY, "data"))
def render_table(key):
    """The record table, with columns read from the stream's model."""
    viewer = current_viewer()
    source_id, stream = _key(key)
    try:
        with session_scope() as db:
            summary = stream_summary(
                db, viewer, source_id, stream, catalogue=connector_facts(), recent=0
            )
    except NotFound:
        return None
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2("Records in our database", className="h6"),
                record_grid(
                    PREFIX,
                    grid_columns(stream_columns(summary["model"])),
                    search_placeholder=f"Search {summary['stream']}…",
                    label=f"Records of {summary['stream']}",
                ),
            ]
        ),
        className="kpi-card",
    )


@callback(
    Output(table_of(PREFIX), "getRowsResponse"),
    Output(count_id(PREFIX), "children"),
    Output(export_id(PREFIX), "href"),
    Input(table_of(PREFIX), "getRowsRequest"),
    State(search_id(PREFIX), "value"),
    State(STREAM_KEY, "data"),
    prevent_initial_call=True,
)
def table_data(request, search, key):
    """One block of the stream's records for the grid (sorted, searched and paged in SQL)."""
    viewer = current_viewer()
    source_id, stream = _key(key)
    page, size, sort, descending = read_rows_request(request)
    search = str(search or "")[:200]
    try:
        with session_scope() as db:
            result = stream_records(
                db,
                viewer,
                source_id,
                stream,
                catalogue=connector_facts(),
                search=search,
                sort=sort,
                descending=descending,
                page=page,
                page_size=size,
            )
    except NotFound:
        return rows_response([], 0), "No records", no_update
    return (
        rows_response(result.rows, result.total),
        count_text(result.total),
        export_href(source_id, stream, search),
    )


# A new search drops the grid's cached blocks and asks again from the first page.
refresh_on(PREFIX, Input(search_id(PREFIX), "value"))
