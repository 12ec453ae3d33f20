"""Callbacks of the sync history page: filter choices and the server-side paged table."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, ctx, html

from connectors.catalog import connector_facts
from models.db import session_scope
from models.params import date_or_none, id_or_none, int_or_none
from models.run_views import history_filters, history_page
from pages._sources_ids import (
    STATUSES,
    SYNCS_CONNECTION,
    SYNCS_COUNT,
    SYNCS_FROM,
    SYNCS_PAGE_SIZE,
    SYNCS_PAGER,
    SYNCS_STATUS,
    SYNCS_STREAM,
    SYNCS_TABLE,
    SYNCS_TO,
)
from pages._sync_modal import (
    ACTIVE,
    FINISHED,
    STARTED,
    TRIGGER_LABEL,
    ago,
    duration_text,
    run_progress,
    status_badge,
    when,
)
from web.viewer import current_viewer

FILTERS = (SYNCS_CONNECTION, SYNCS_STREAM, SYNCS_STATUS, SYNCS_FROM, SYNCS_TO)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def history_table(rows: list[dict[str, Any]]) -> Any:
    """The runs as a table whose rows link to their detail page; a pure function."""
    if not rows:
        return html.Div("No sync runs match these filters.", className="empty-state")
    body = []
    for run in rows:
        href = dash.get_relative_path(f"/syncs/{run['id']}")
        status = run_progress(run) if run["status"] in ACTIVE else status_badge(run["status"])
        body.append(
            html.Tr(
                [
                    html.Td(html.A(f"#{run['id']}", href=href, className="fw-semibold")),
                    html.Td(run["connection"]),
                    html.Td(run["stream"] or html.Span("all", className="text-muted")),
                    html.Td(TRIGGER_LABEL.get(run["trigger"], run["trigger"])),
                    html.Td(status, className="history-status"),
                    html.Td(ago(run["created_at"]), title=when(run["created_at"])),
                    html.Td(duration_text(run["duration"])),
                    html.Td(f"{run['processed']:,}", className="text-end"),
                    html.Td(f"{run['created']:,}", className="text-end"),
                    html.Td(f"{run['updated']:,}", className="text-end"),
                    html.Td(
                        f"{run['failed']:,}",
                        className="text-end" + (" text-danger" if run["failed"] else ""),
                    ),
                    html.Td(html.A("Details", href=href, className="small")),
                ],
                id=f"history-row-{run['id']}",
            )
        )
    head = html.Thead(
        html.Tr(
            [
                html.Th("Run"),
                html.Th("Connection"),
                html.Th("Stream"),
                html.Th("Trigger"),
                html.Th("Status"),
                html.Th("Started"),
                html.Th("Duration"),
                html.Th("Processed", className="text-end"),
                html.Th("Created", className="text-end"),
                html.Th("Updated", className="text-end"),
                html.Th("Failed", className="text-end"),
                html.Th(""),
            ]
        )
    )
    return dbc.Table([head, html.Tbody(body)], hover=True, responsive=True, className="mb-0")


@callback(
    Output(SYNCS_CONNECTION, "options"),
    Output(SYNCS_STREAM, "options"),
    Input(SYNCS_CONNECTION, "id"),
)
def filter_options(_id):
    viewer = current_viewer()
    with session_scope() as db:
        choices = history_filters(db, viewer, catalogue=connector_facts())
    return (
        [{"label": name, "value": cid} for cid, name in choices["connections"]],
        [{"label": name, "value": name} for name in choices["streams"]],
    )


@callback(
    Output(SYNCS_TABLE, "children"),
    Output(SYNCS_PAGER, "max_value"),
    Output(SYNCS_PAGER, "active_page"),
    Output(SYNCS_COUNT, "children"),
    Input(SYNCS_CONNECTION, "value"),
    Input(SYNCS_STREAM, "value"),
    Input(SYNCS_STATUS, "value"),
    Input(SYNCS_FROM, "value"),
    Input(SYNCS_TO, "value"),
    Input(SYNCS_PAGER, "active_page"),
    Input(STARTED, "data"),
    Input(FINISHED, "data"),
)
def history(connection, stream, status, start_date, end_date, active_page, _started, _finished):
    """One page of runs; a filter change goes back to page 1."""
    viewer = current_viewer()
    trigger = ctx.triggered_id
    page = 1 if trigger in FILTERS else int_or_none(active_page, low=1) or 1
    start, end = date_or_none(start_date), date_or_none(end_date)
    query = dict(
        connection_id=id_or_none(connection),
        stream=str(stream)[:100] if stream else None,
        status=status if status in STATUSES else None,
        start=_midnight(start) if start else None,
        end=_midnight(end + timedelta(days=1)) if end else None,
        page_size=SYNCS_PAGE_SIZE,
    )
    with session_scope() as db:
        rows, total = history_page(db, viewer, page=page - 1, **query)
        pages = max((total + SYNCS_PAGE_SIZE - 1) // SYNCS_PAGE_SIZE, 1)
        if page > pages:
            page = pages
            rows, total = history_page(db, viewer, page=page - 1, **query)
    count = f"{total:,} run{'s' if total != 1 else ''}" if total else "No runs"
    return history_table(rows), pages, page, count
