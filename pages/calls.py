"""Calls: every call the viewer may see, paged, searched, sorted and filtered from the URL."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from models.calls import CALL_SORTABLE, CallFilters
from models.params import first, int_or_none
from pages._calls_ids import (
    CALLS,
    CALLS_AGENT,
    CALLS_COLUMNS,
    CALLS_DATES,
    CALLS_DIRECTION,
    CALLS_PAGE_SIZE,
    CALLS_PHONE,
    CALLS_RESET,
    CALLS_ROOT,
    CALLS_SEARCH,
    CALLS_STATUS,
    CALLS_TABLE,
    CALLS_URL,
    DIRECTION_LABELS,
    STATUS_LABELS,
    component,
)
from pages._shell import page_guard
from pages._table import record_table

dash.register_page(
    __name__, path="/calls", name="Calls", order=10, icon="telephone", min_role="agent"
)

# Status cells read as coloured pills (see assets/records.css); the colour follows the value.
STATUS_COLOURS = {"Answered": "#146c43", "Missed": "#b02a37", "Voicemail": "#997404"}


def _placeholder(value: int | None, label: str) -> list[dict]:
    """One option for the value from the URL until the real choices load (a dropdown
    clears a value it has no option for)."""
    return [{"label": f"{label} #{value}", "value": value}] if value is not None else []


def _page_from(kwargs) -> int:
    """The 0-based page of `?page=` (1-based; anything but 1 to 999,999 is the first page)."""
    return (int_or_none(first(kwargs.get("page")), low=1, high=999_999) or 1) - 1


def _filters(f: CallFilters) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                dcc.DatePickerRange(
                    id=CALLS_DATES,
                    start_date=f.start.isoformat() if f.start else None,
                    end_date=f.end.isoformat() if f.end else None,
                    start_date_placeholder_text="From",
                    end_date_placeholder_text="To",
                    display_format="D MMM YYYY",
                    first_day_of_week=1,
                    minimum_nights=0,
                    clearable=True,
                    updatemode="bothdates",
                    className="records-dates",
                ),
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


def _table(f: CallFilters, page: int) -> html.Div:
    block = record_table(
        CALLS,
        CALLS_COLUMNS,
        page_size=CALLS_PAGE_SIZE,
        search_placeholder="Search number, agent or contact…",
    )
    component(block, CALLS_SEARCH).value = f.search
    grid = component(block, CALLS_TABLE)
    grid.page_current = page
    if f.sort in CALL_SORTABLE:
        grid.sort_by = [{"column_id": f.sort, "direction": "desc" if f.descending else "asc"}]
    grid.style_data_conditional = [
        {"if": {"filter_query": f'{{status}} = "{label}"', "column_id": "status"}, "color": colour}
        for label, colour in STATUS_COLOURS.items()
    ]
    grid.style_cell_conditional = [
        {"if": {"column_id": "duration"}, "textAlign": "right"},
        *(
            {"if": {"column_id": column}, "whiteSpace": "nowrap"}
            for column in ("time", "from", "to", "duration")
        ),
        # Room for every column at a laptop's width: long names end in an ellipsis.
        *(
            {
                "if": {"column_id": column},
                "maxWidth": width,
                "overflow": "hidden",
                "textOverflow": "ellipsis",
            }
            for column, width in (("number", "10rem"), ("contact", "9rem"), ("agent", "9rem"))
        ),
    ]
    return block


def layout(**kwargs):
    refusal = page_guard("agent")
    if refusal is not None:
        return refusal
    f = CallFilters.from_params(kwargs, strict=False)
    return html.Div(
        [
            dcc.Location(id=CALLS_URL, refresh=False),
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
            _filters(f),
            dbc.Card(dbc.CardBody(_table(f, _page_from(kwargs))), className="records-card"),
        ],
        id=CALLS_ROOT,
        className="records-page",
    )
