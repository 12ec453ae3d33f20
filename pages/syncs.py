"""Sync history: every run of the organisation in a record grid, filtered, sorted and paged
on the server, with the progress of running runs refreshed in place."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from models.params import id_or_none
from pages._shell import page_guard
from pages._sources_ids import (
    STATUSES,
    SYNCS_ACTIVE,
    SYNCS_CONNECTION,
    SYNCS_FROM,
    SYNCS_LIVE,
    SYNCS_PAGE_SIZE,
    SYNCS_PREFIX,
    SYNCS_STATUS,
    SYNCS_STREAM,
    SYNCS_TO,
    SYNCS_WATCH,
)
from pages._sync_modal import sync_console
from pages._syncs_view import HISTORY_COLUMNS
from pages._table import record_grid

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
        className="d-flex flex-wrap align-items-center gap-2 mb-3 syncs-filters",
    )
    return html.Div(
        [
            html.H1("Sync history", className="h3 mb-3"),
            filters,
            dbc.Card(
                dbc.CardBody(
                    [
                        # The poll's seeds for the runs active on the shown page; the grid's
                        # own callback writes them (callbacks/syncs.py).
                        html.Div(id=SYNCS_WATCH, hidden=True),
                        dcc.Store(id=SYNCS_ACTIVE, data=[]),
                        dcc.Store(id=SYNCS_LIVE),
                        record_grid(
                            SYNCS_PREFIX,
                            HISTORY_COLUMNS,
                            page_size=SYNCS_PAGE_SIZE,
                            export=False,
                            search=False,
                            sort=("started", True),
                            label="Sync runs",
                        ),
                    ]
                ),
                className="kpi-card mb-3 syncs-card",
            ),
            sync_console(),
        ],
        className="console-page",
    )
