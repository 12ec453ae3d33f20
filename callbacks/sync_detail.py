"""Callbacks of a run's page: everything the run recorded, and Retry for org admins."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html, no_update

from connectors.base import ConnectorError
from models.db import session_scope
from models.run_views import run_detail
from models.runs import get_run
from models.scope import MANAGE_SYNCS
from models.sync_errors import NotFound, SyncConflict
from models.sync_options import OptionsError
from pages._sources_ids import RUN_BODY, RUN_ID, RUN_LOCATION, RUN_MESSAGE, RUN_RETRY
from pages._sync_modal import (
    ACTIVE,
    FINISHED,
    TRIGGER_LABEL,
    cancelled_by_text,
    duration_text,
    run_progress,
    status_badge,
    when,
)
from web.viewer import current_viewer
from workers.queue import QueueUnavailable
from workers.service import start_sync

#: Only a run that did not finish cleanly is worth retrying; a successful one is not offered it.
RETRYABLE = ("failed", "partial", "cancelled")

OPTION_LABEL = {
    "full": "Full",
    "force": "Force",
    "since": "Since",
    "dry_run": "Dry run",
    "max_records": "Max records",
    "batch_size": "Batch size",
    "debug": "Debug",
}


def _figure(label: str, value: str, key: str) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(label, className="kpi-label"),
                html.Div(value, className="kpi-value run-figure", id=f"run-{key}"),
            ]
        ),
        className="kpi-card",
    )


def _number(value: Any, fmt: str = "{:,}") -> str:
    return fmt.format(value) if isinstance(value, int | float) else "—"


def figures(run: dict[str, Any]) -> html.Div:
    items = [
        ("Duration", duration_text(run["duration"]), "duration"),
        ("Processed", _number(run["processed"]), "processed"),
        ("Created", _number(run["created"]), "created"),
        ("Updated", _number(run["updated"]), "updated"),
        ("Unchanged", _number(run["unchanged"]), "unchanged"),
        ("Failed", _number(run["failed"]), "failed"),
        ("Records/s", _number(run["records_per_second"], "{:,.1f}"), "rate"),
        ("Pages", _number(run["pages"]), "pages"),
        ("Retries", _number(run["retries"]), "retries"),
        ("HTTP time", _number(run["http_seconds"], "{:,.2f} s"), "http"),
    ]
    return html.Div([_figure(*item) for item in items], className="kpi-grid run-figures mb-3")


def options_block(run: dict[str, Any]) -> dbc.Card:
    options = run["options"] or {}
    rows = [
        html.Tr(
            [html.Th(OPTION_LABEL.get(k, k), className="fw-normal text-muted"), html.Td(str(v))]
        )
        for k, v in sorted(options.items())
    ]
    table = (
        dbc.Table(html.Tbody(rows), size="sm", className="mb-2 options-table")
        if rows
        else html.P("Default options.", className="text-muted")
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2("Options", className="h6"),
                table,
                html.Div("Equivalent command", className="small text-muted"),
                html.Pre(run["command"] or "—", className="sync-command mb-0", id="run-command"),
            ]
        ),
        className="kpi-card h-100",
    )


def timing_block(run: dict[str, Any]) -> dbc.Card:
    items = [
        ("Trigger", TRIGGER_LABEL.get(run["trigger"], run["trigger"])),
        ("Queued", when(run["created_at"])),
        ("Started", when(run["started_at"])),
        ("Finished", when(run["finished_at"])),
        ("Requests", _number(run["requests"])),
    ]
    if run.get("cancelled_by"):
        items.append(("Cancelled by", run["cancelled_by"]))
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2("Timing", className="h6"),
                html.Dl(
                    [
                        part
                        for term, value in items
                        for part in (html.Dt(term), html.Dd(value, className="mb-1"))
                    ],
                    className="settings-list mb-0",
                ),
            ]
        ),
        className="kpi-card h-100",
    )


def samples_block(samples: list[dict[str, Any]]) -> Any:
    if not samples:
        return None
    rows = [
        html.Tr(
            [
                html.Td(s.get("stream") or "—"),
                html.Td(s.get("record") or "—"),
                html.Td(s.get("reason") or "", className="error-reason"),
            ]
        )
        for s in samples
    ]
    head = html.Thead(html.Tr([html.Th("Stream"), html.Th("Record"), html.Th("Error")]))
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(f"Record errors (sample of {len(samples)})", className="h6"),
                dbc.Table([head, html.Tbody(rows)], size="sm", className="mb-0"),
            ]
        ),
        className="kpi-card mb-3",
        id="run-samples",
    )


def debug_block(log: str | None) -> Any:
    if not log:
        return None
    lines = log.count("\n") + 1
    return html.Details(
        [
            html.Summary(f"Debug log ({lines:,} lines)", className="fw-semibold"),
            html.Pre(log, className="debug-log mt-2 mb-0"),
        ],
        className="card kpi-card p-3 mb-3",
        id="run-debug",
    )


def run_page(run: dict[str, Any], *, admin: bool) -> list:
    """The whole run page body; a pure function so tests can read it."""
    links = [
        html.A(
            run["connection_name"],
            href=dash.get_relative_path(f"/sources/{run['connection_id']}"),
        )
    ]
    if run["stream"]:
        links += [
            " / ",
            html.A(
                run["stream"],
                href=dash.get_relative_path(f"/sources/{run['connection_id']}/{run['stream']}"),
            ),
        ]
    else:
        links.append(html.Span(" · all streams", className="text-muted"))
    cancelled = cancelled_by_text(run)
    header = html.Div(
        [
            html.Div(
                [
                    html.H1(
                        [
                            f"Run #{run['id']} ",
                            html.Span(status_badge(run["status"]), className="fs-5 align-middle"),
                        ],
                        className="h3 mb-0",
                        id="run-title",
                    ),
                    html.Div(links, className="small"),
                    html.Div(cancelled, className="small run-cancelled-by", id="run-cancelled-by")
                    if cancelled
                    else None,
                ],
                className="me-auto",
            ),
            dbc.Button(
                [html.I(className="bi bi-arrow-repeat me-1"), "Retry"],
                id=RUN_RETRY,
                color="primary",
                n_clicks=0,
            )
            if admin and run["status"] in RETRYABLE
            else None,
        ],
        className="d-flex flex-wrap align-items-center gap-2 mb-3",
    )
    active = run["status"] in ACTIVE
    error = (
        dbc.Alert(
            [html.I(className="bi bi-exclamation-octagon me-2"), run["error"]],
            color="danger" if run["status"] == "failed" else "warning",
            id="run-error",
        )
        if run["error"]
        else None
    )
    return [
        header,
        html.Div(run_progress(run, show_status=False), className="mb-3") if active else None,
        error,
        html.P(
            "Counters update live above; the performance figures appear when the run ends.",
            className="small text-muted",
        )
        if active
        else figures(run),
        dbc.Row(
            [
                dbc.Col(options_block(run), lg=7, className="mb-3"),
                dbc.Col(timing_block(run), lg=5, className="mb-3"),
            ]
        ),
        samples_block(run["error_samples"]),
        debug_block(run["debug_log"]),
    ]


@callback(Output(RUN_BODY, "children"), Input(RUN_ID, "data"), Input(FINISHED, "data"))
def render(run_id, _finished):
    viewer = current_viewer()
    try:
        with session_scope() as db:
            run = run_detail(db, viewer, run_id)
    except NotFound as exc:
        return html.Div(
            [html.H2("Run not found", className="h4"), html.P(str(exc), className="text-muted")],
            className="empty-state",
            id="run-missing",
        )
    return run_page(run, admin=viewer.can_manage_syncs)


@callback(
    Output(RUN_LOCATION, "href"),
    Output(RUN_MESSAGE, "children"),
    Input(RUN_RETRY, "n_clicks"),
    State(RUN_ID, "data"),
    prevent_initial_call=True,
)
def retry(clicks, run_id):
    """A new run with the same connection, stream and options (org admins)."""
    viewer = current_viewer()
    viewer.require_to(MANAGE_SYNCS)
    if not clicks:
        return no_update, no_update
    try:
        with session_scope() as db:
            old = get_run(db, viewer, run_id)
            connection_id, stream, options = old.connection_id, old.stream, dict(old.options or {})
            status = old.status
        if status not in RETRYABLE:
            # a forged click, or a page older than the run's end
            text = f"Run {old.id} ended {status}: there is nothing to retry."
            if status in ACTIVE:
                text = f"Run {old.id} is still {status}."
            return no_update, dbc.Alert(text, color="warning", id="run-retry-error")
        run = start_sync(viewer, connection_id, stream, options, trigger="user")
    except SyncConflict as exc:
        return no_update, dbc.Alert(str(exc), color="warning", id="run-conflict")
    except (NotFound, OptionsError, ConnectorError, QueueUnavailable) as exc:
        return no_update, dbc.Alert(str(exc), color="danger", id="run-retry-error")
    return dash.get_relative_path(f"/syncs/{run.id}"), None
