"""Sync history: every run of the organisation, filtered and paged on the server."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from models.params import id_or_none
from pages._shell import page_guard
from pages._sources_ids import (
    STATUSES,
    SYNCS_CONNECTION,
    SYNCS_COUNT,
    SYNCS_FROM,
    SYNCS_PAGER,
    SYNCS_STATUS,
    SYNCS_STREAM,
    SYNCS_TABLE,
    SYNCS_TO,
)
from pages._sync_modal import sync_console

dash.register_page(
    __name__,
    path="/syncs",
    name="Sync history",
    order=61,
    icon="clock-history",
    min_role="agent",
)


def _first(value) -> str | None:
    value = value[0] if isinstance(value, list) and value else value
    return str(value)[:100] if value not in (None, "") else None


def layout(connection=None, stream=None, status=None, **_kwargs):
    refusal = page_guard("agent")
    if refusal is not None:
        return refusal
    connection = _first(connection)
    status = _first(status)
    filters = html.Div(
        [
            dcc.Dropdown(
                id=SYNCS_CONNECTION,
                placeholder="All connections",
                value=id_or_none(connection),
                className="syncs-filter",
            ),
            dcc.Dropdown(
                id=SYNCS_STREAM,
                placeholder="All streams",
                value=_first(stream),
                className="syncs-filter",
            ),
            dcc.Dropdown(
                id=SYNCS_STATUS,
                options=[{"label": s, "value": s} for s in STATUSES],
                placeholder="Any status",
                value=status if status in STATUSES else None,
                className="syncs-filter",
            ),
            # Native date inputs: labelled, and usable by keyboard and screen readers.
            dbc.Label("From", html_for=SYNCS_FROM, class_name="visually-hidden"),
            dbc.Input(id=SYNCS_FROM, type="date", class_name="syncs-date", min="2000-01-01"),
            dbc.Label("To", html_for=SYNCS_TO, class_name="visually-hidden"),
            dbc.Input(id=SYNCS_TO, type="date", class_name="syncs-date", min="2000-01-01"),
        ],
        className="d-flex flex-wrap align-items-center gap-2 mb-3",
    )
    return html.Div(
        [
            html.Div(
                [
                    html.H1("Sync history", className="h3 mb-0 me-auto"),
                    html.Span(id=SYNCS_COUNT, className="text-muted small"),
                ],
                className="d-flex align-items-center gap-2 mb-3",
            ),
            filters,
            dbc.Card(
                dbc.CardBody(
                    dcc.Loading(
                        html.Div(id=SYNCS_TABLE),
                        type="dot",
                        delay_show=300,
                        target_components={SYNCS_TABLE: "children"},
                    )
                ),
                className="kpi-card mb-3",
            ),
            dbc.Pagination(
                id=SYNCS_PAGER,
                max_value=1,
                active_page=1,
                fully_expanded=False,
                first_last=True,
                previous_next=True,
                size="sm",
            ),
            sync_console(),
        ],
        className="console-page",
    )
