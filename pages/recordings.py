"""Recordings: calls that have a recording, each playable in the page."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from pages._calls_ids import (
    REC_COUNT,
    REC_DATES,
    REC_LIST,
    REC_PAGER,
    REC_PHONE,
    REC_RESET,
    REC_ROOT,
    REC_SEARCH,
)
from pages._dates import date_range
from pages._shell import page_guard

dash.register_page(
    __name__, path="/recordings", name="Recordings", order=11, icon="mic", min_role="agent"
)


def layout(**_kwargs):
    refusal = page_guard("agent")
    if refusal is not None:
        return refusal
    filters = dbc.Card(
        dbc.CardBody(
            [
                html.Label("Search recordings", htmlFor=REC_SEARCH, className="visually-hidden"),
                dbc.Input(
                    id=REC_SEARCH,
                    type="search",
                    placeholder="Search number, agent or contact…",
                    debounce=True,
                    className="table-search",
                ),
                date_range(REC_DATES, None, None, label="Recording dates"),
                dcc.Dropdown(id=REC_PHONE, placeholder="All numbers", className="records-select"),
                dbc.Button("Clear filters", id=REC_RESET, color="link", size="sm"),
                html.Span(id=REC_COUNT, className="table-count small ms-auto", role="status"),
            ],
            className="records-filters",
        ),
        className="mb-3 records-card",
    )
    return html.Div(
        [
            html.Div(
                [
                    html.H1("Recordings", className="h3 mb-0"),
                    html.Div(
                        "Calls with a recording, newest first. Times are UTC.",
                        className="text-muted small",
                    ),
                ],
                className="mb-3",
            ),
            filters,
            dcc.Loading(html.Div(id=REC_LIST), type="dot", delay_show=300),
            dbc.Pagination(
                id=REC_PAGER,
                max_value=1,
                active_page=1,
                first_last=True,
                previous_next=True,
                fully_expanded=False,
                size="sm",
                className="mt-3 justify-content-end",
            ),
        ],
        id=REC_ROOT,
        className="records-page",
    )
