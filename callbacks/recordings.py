"""Callbacks of the recordings page: a paged list of calls with an audio player each."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, ctx, html

from callbacks._dates import date_feedback_on
from callbacks.calls import choices, number_text
from models.calls import CallFilters, FilterError, playable_url, recording_page
from models.db import session_scope
from models.kpis import phone_choices
from models.reports import format_duration
from pages._calls_ids import (
    REC_COUNT,
    REC_DATES,
    REC_DATES_FROM,
    REC_DATES_TO,
    REC_LIST,
    REC_PAGE_SIZE,
    REC_PAGER,
    REC_PHONE,
    REC_RESET,
    REC_ROOT,
    REC_SEARCH,
    STATUS_LABELS,
)
from pages._table import count_text
from settings import get_settings
from web.viewer import current_viewer

UNPLAYABLE = "This recording could not be loaded."


def player(url: str | None, call_id: int) -> html.Div | html.Span:
    """An audio player for http(s) links and the app's own files only (a javascript: or data:
    link is never rendered), with the message assets/recordings.js shows when it fails."""
    src = playable_url(url, get_settings().url_prefix)
    if src is None:
        return html.Span(
            [html.I(className="bi bi-exclamation-circle me-1"), "Recording link not playable"],
            className="recording-error small",
        )
    return html.Div(
        [
            html.Audio(
                src=src,
                controls=True,
                preload="none",
                className="recording-player",
                id=f"recording-{call_id}",
                **{"aria-label": "Recording of this call"},
            ),
            html.Span(
                [html.I(className="bi bi-exclamation-circle me-1"), UNPLAYABLE],
                className="recording-error small",
                hidden=True,
                **{"aria-live": "polite"},
            ),
        ],
        className="recording-audio",
    )


def recording_items(rows: list[dict[str, Any]]) -> html.Div:
    """One line per call: when, which number, who, how long, and the player."""
    if not rows:
        return html.Div(
            [
                html.I(className="bi bi-mic-mute empty-icon"),
                html.H2("No recordings", className="h5 mt-2"),
                html.P(
                    "Calls appear here when the phone system that a connector syncs "
                    "keeps a recording of them.",
                    className="text-muted mb-0",
                ),
            ],
            className="empty-state records-empty",
        )
    items = []
    for r in rows:
        people = " → ".join(p for p in (r["from_number"], r["to_number"]) if p)
        details = [
            people,
            r["contact"] or None,
            r["agent"] or None,
            STATUS_LABELS.get(r["status"], r["status"]),
            format_duration(r["duration_seconds"]),
        ]
        items.append(
            dbc.ListGroupItem(
                [
                    html.Div(
                        [
                            html.Div(
                                [
                                    html.Span(
                                        r["started_at"].strftime("%Y-%m-%d %H:%M"),
                                        className="fw-semibold me-2",
                                    ),
                                    html.Span(
                                        number_text(r["number_label"], r["number"]),
                                        className="text-muted",
                                    ),
                                ]
                            ),
                            html.Div(
                                " · ".join(d for d in details if d), className="small text-muted"
                            ),
                        ],
                        className="recording-meta",
                    ),
                    player(r["recording_url"], r["id"]),
                ],
                className="recording-row",
            )
        )
    return dbc.ListGroup(items, className="records-card recording-list")


@callback(Output(REC_PHONE, "options"), Input(REC_ROOT, "id"))
def load_numbers(_root):
    viewer = current_viewer()
    with session_scope() as db:
        return choices(phone_choices(db, viewer))


@callback(
    Output(REC_LIST, "children"),
    Output(REC_PAGER, "max_value"),
    Output(REC_PAGER, "active_page"),
    Output(REC_PAGER, "className"),
    Output(REC_COUNT, "children"),
    Input(REC_SEARCH, "value"),
    Input(REC_DATES_FROM, "value"),
    Input(REC_DATES_TO, "value"),
    Input(REC_PHONE, "value"),
    Input(REC_PAGER, "active_page"),
)
def update_recordings(search, start, end, phone, active_page):
    viewer = current_viewer()
    page = active_page - 1 if isinstance(active_page, int) and active_page > 0 else 0
    if ctx.triggered_id not in (None, REC_PAGER):
        page = 0
    try:
        filters = CallFilters.from_params(
            {"q": search, "from": start or None, "to": end or None, "phone": phone}
        )
    except FilterError as exc:
        return recording_items([]), 1, 1, "d-none", str(exc)
    with session_scope() as db:
        result = recording_page(db, viewer, filters, page=page, page_size=REC_PAGE_SIZE)
    hidden = " d-none" if result.page_count <= 1 else ""
    return (
        recording_items(result.rows),
        result.page_count,
        page + 1,
        "mt-3 justify-content-end" + hidden,
        count_text(result.total, "recordings"),
    )


@callback(
    Output(REC_SEARCH, "value"),
    Output(REC_DATES_FROM, "value"),
    Output(REC_DATES_TO, "value"),
    Output(REC_PHONE, "value"),
    Input(REC_RESET, "n_clicks"),
    prevent_initial_call=True,
)
def clear_recording_filters(_clicks):
    return "", None, None, None


date_feedback_on(REC_DATES)
