"""Callbacks of a stream's page: latest run summary, recent errors, and its records table."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html, no_update

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
from pages._table import count_id, count_text, export_id, read_request, record_table, search_id
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
                record_table(
                    PREFIX,
                    stream_columns(summary["model"]),
                    search_placeholder=f"Search {summary['stream']}…",
                ),
            ]
        ),
        className="kpi-card",
    )


@callback(
    Output(table_of(PREFIX), "data"),
    Output(table_of(PREFIX), "page_count"),
    Output(count_id(PREFIX), "children"),
    Output(export_id(PREFIX), "href"),
    Input(table_of(PREFIX), "page_current"),
    Input(table_of(PREFIX), "page_size"),
    Input(table_of(PREFIX), "sort_by"),
    Input(search_id(PREFIX), "value"),
    State(STREAM_KEY, "data"),
)
def table_data(page_current, page_size, sort_by, search, key):
    """One server-side page of the stream's records (sorted and searched in SQL)."""
    viewer = current_viewer()
    source_id, stream = _key(key)
    page, size, sort, descending = read_request(page_current, page_size, sort_by)
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
        return [], 1, "No records", no_update
    return (
        result.rows,
        result.page_count,
        count_text(result.total),
        export_href(source_id, stream, search),
    )
