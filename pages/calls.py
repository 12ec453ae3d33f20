"""Calls: every call the viewer may see, paged, searched, sorted and filtered from the URL."""

from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from models.calls import CALL_SORTABLE, CallFilters
from pages._calls_ids import (
    CALLS,
    CALLS_AGENT,
    CALLS_COLUMNS,
    CALLS_DATES,
    CALLS_DIRECTION,
    CALLS_EMPTY,
    CALLS_PAGE_SIZE,
    CALLS_PHONE,
    CALLS_RESET,
    CALLS_ROOT,
    CALLS_SEARCH,
    CALLS_STATUS,
    CALLS_URL,
    DIRECTION_LABELS,
    STATUS_LABELS,
    component,
)
from pages._dates import date_range
from pages._shell import page_guard
from pages._table import record_grid

dash.register_page(
    __name__, path="/calls", name="Calls", order=10, icon="telephone", min_role="agent"
)


def _placeholder(value: int | None, label: str) -> list[dict]:
    """One option for the value from the URL until the real choices load (a dropdown
    clears a value it has no option for)."""
    return [{"label": f"{label} #{value}", "value": value}] if value is not None else []


def _filters(f: CallFilters, problems: tuple[str, ...]) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                date_range(CALLS_DATES, f.start, f.end, label="Call dates", problems=problems),
                dcc.Dropdown(
                    id=CALLS_PHONE,
                    options=_placeholder(f.phone, "Number"),
                    value=f.phone,
                    placeholder="All numbers",
                    className="records-select",
                ),
                dcc.Dropdown(
                    id=CALLS_AGENT,
                    options=_placeholder(f.agent, "Agent"),
                    value=f.agent,
                    placeholder="All agents",
                    className="records-select",
                ),
                dcc.Dropdown(
                    id=CALLS_DIRECTION,
                    options=[{"label": v, "value": k} for k, v in DIRECTION_LABELS.items()],
                    value=f.direction,
                    placeholder="Both directions",
                    searchable=False,
                    className="records-select records-select-sm",
                ),
                dcc.Dropdown(
                    id=CALLS_STATUS,
                    options=[{"label": v, "value": k} for k, v in STATUS_LABELS.items()],
                    value=f.status,
                    placeholder="Any status",
                    searchable=False,
                    className="records-select records-select-sm",
                ),
                dbc.Button(
                    "Clear filters", id=CALLS_RESET, color="link", size="sm", className="ms-auto"
                ),
            ],
            className="records-filters",
        ),
        className="mb-3 records-card",
    )


def _table(f: CallFilters) -> html.Div:
    sort = (f.sort, f.descending) if f.sort in CALL_SORTABLE else None
    block = record_grid(
        CALLS,
        CALLS_COLUMNS,
        page_size=CALLS_PAGE_SIZE,
        search_placeholder="Search number, agent or contact…",
        sort=sort,
        label="Calls",
    )
    component(block, CALLS_SEARCH).value = f.search
    return block


def layout(**kwargs):
    refusal = page_guard("agent")
    if refusal is not None:
        return refusal
    f, problems = CallFilters.from_url(kwargs)
    query = f.to_params()
    return html.Div(
        [
            # What the page uses; assets/url.js puts it in the address bar.
            dcc.Location(
                id=CALLS_URL, refresh=False, search="?" + urlencode(query) if query else ""
            ),
            html.Div(
                [
                    html.H1("Calls", className="h3 mb-0"),
                    html.Div(
                        "Times are UTC. Export CSV downloads every call that matches.",
                        className="text-muted small",
                    ),
                ],
                className="mb-3",
            ),
            _filters(f, problems),
            html.Div(id=CALLS_EMPTY),
            dbc.Card(dbc.CardBody(_table(f)), className="records-card"),
        ],
        id=CALLS_ROOT,
        className="records-page",
    )
