"""Overview: KPI cards and charts of the current organisation, filtered from the URL."""

from datetime import timedelta

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from models.base import utcnow
from pages._dates import date_note, date_range
from pages._figures import chart_card, loading_figure
from pages._overview_ids import (
    AGENT,
    AGENT_CHART,
    AUTO,
    CALL_CHARTS,
    CARDS,
    CASE_OFFICE_CHART,
    CASE_STATUS_CHART,
    CELL_BADGE,
    CELL_CLEAR,
    CELL_TEXT,
    CUSTOM,
    DATES,
    DATES_WRAP,
    DAY_CHART,
    DEFAULT_DAYS,
    DIRECTION,
    EMPTY,
    FILTERS,
    HEATMAP,
    INTERVAL,
    NUMBER_CHART,
    PERIOD_TEXT,
    PHONE,
    RANGE,
    RANGES,
    REFRESH,
    REFRESH_MS,
    RESET,
    TICKET_CHART,
    UPDATED,
    URL,
    OverviewFilters,
    cell_label,
    dates_class,
)
from pages._shell import page_guard

dash.register_page(
    __name__, path="/", name="Overview", order=0, icon="speedometer2", min_role="agent"
)

GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}


#: While a callback runs, what it will replace stays visible, dimmed, under a spinner.
DIMMED = {"visibility": "visible", "opacity": 0.45}


def _chart(graph_id: str, title: str, hint: str = "", height: int = 300) -> dbc.Card:
    return chart_card(
        graph_id,
        title,
        hint,
        dcc.Loading(
            dcc.Graph(
                id=graph_id,
                config=GRAPH_CONFIG,
                figure=loading_figure(),
                style={"height": f"{height}px"},
            ),
            type="dot",
            delay_show=150,
            overlay_style=DIMMED,
        ),
    )


def _skeleton_cards(count: int = 10) -> list:
    """Grey cards the shape of the KPI cards, shown until the first answer arrives."""
    return [
        html.Span("Loading the KPI cards…", className="visually-hidden"),
        *(
            html.Div(
                [
                    html.Div(className="skeleton-line w-50"),
                    html.Div(className="skeleton-line skeleton-value"),
                    html.Div(className="skeleton-line w-75"),
                ],
                className="card kpi-card kpi-skeleton",
                **{"aria-hidden": "true"},
            )
            for _ in range(count)
        ),
    ]


def _placeholder(value: int | None, label: str) -> list[dict]:
    """One option for the value from the URL until the real choices load (else the
    dropdown would clear a value it does not know yet)."""
    return [{"label": f"{label} #{value}", "value": value}] if value is not None else []


def _filter_bar(f: OverviewFilters, problems: tuple[str, ...] = ()) -> dbc.Card:
    today = utcnow().date()
    start = f.start or today - timedelta(days=DEFAULT_DAYS - 1)
    end = f.end or today
    weekday, hour = f.cell
    cell_set = weekday is not None or hour is not None
    return dbc.Card(
        dbc.CardBody(
            [
                dbc.RadioItems(
                    id=RANGE,
                    options=[{"label": label, "value": days} for days, label in RANGES]
                    + [{"label": "Custom", "value": CUSTOM}],
                    value=f.range,
                    inline=True,
                    className="btn-group range-picker",
                    inputClassName="btn-check",
                    labelClassName="btn btn-outline-primary btn-sm",
                    labelCheckedClassName="active",
                ),
                date_range(
                    DATES,
                    start,
                    end,
                    label="Custom dates",
                    latest=today,
                    note=False,
                    wrap_id=DATES_WRAP,
                    class_name=dates_class(f.range == CUSTOM),
                ),
                dcc.Dropdown(
                    id=PHONE,
                    options=_placeholder(f.phone, "Number"),
                    value=f.phone,
                    placeholder="All numbers",
                    className="overview-select",
                ),
                dcc.Dropdown(
                    id=AGENT,
                    options=_placeholder(f.agent, "Agent"),
                    value=f.agent,
                    placeholder="All agents",
                    className="overview-select",
                ),
                dcc.Dropdown(
                    id=DIRECTION,
                    options=[
                        {"label": "Inbound", "value": "inbound"},
                        {"label": "Outbound", "value": "outbound"},
                    ],
                    value=f.direction,
                    placeholder="Both directions",
                    searchable=False,
                    className="overview-select overview-select-sm",
                ),
                html.Span(
                    [
                        html.I(className="bi bi-grid-3x3-gap me-1"),
                        html.Span(cell_label(weekday, hour), id=CELL_TEXT),
                        html.Button(
                            html.I(className="bi bi-x"),
                            id=CELL_CLEAR,
                            className="btn-close-badge",
                            title="Remove the weekday/hour filter",
                            **{"aria-label": "Remove the weekday/hour filter"},
                        ),
                    ],
                    id=CELL_BADGE,
                    className="badge rounded-pill text-bg-primary overview-cell"
                    + ("" if cell_set else " d-none"),
                ),
                dbc.Button("Clear filters", id=RESET, color="link", size="sm", className="ms-auto"),
                date_note(DATES, problems),
            ],
            className="overview-filters",
        ),
        className="mb-3 filter-card",
    )


def layout(**kwargs):
    refusal = page_guard("agent")
    if refusal is not None:
        return refusal
    f, problems = OverviewFilters.read(kwargs)
    return html.Div(
        [
            dcc.Location(id=URL, refresh=False, search=f.to_search()),
            dcc.Store(id=FILTERS, data=f.as_dict()),
            dcc.Interval(id=INTERVAL, interval=REFRESH_MS, disabled=True),
            html.Div(
                [
                    html.Div(
                        [
                            html.H1("Overview", className="h3 mb-0"),
                            html.Div(id=PERIOD_TEXT, className="text-muted small"),
                        ]
                    ),
                    html.Div(
                        [
                            html.Span(id=UPDATED, className="text-muted small"),
                            dbc.Switch(
                                id=AUTO,
                                label="Auto-refresh",
                                value=False,
                                className="mb-0 small",
                            ),
                            dbc.Button(
                                [
                                    html.I(className="bi bi-arrow-clockwise"),
                                    html.Span("Refresh now", className="visually-hidden"),
                                ],
                                id=REFRESH,
                                color="light",
                                size="sm",
                                title="Refresh now",
                            ),
                        ],
                        className="d-flex align-items-center gap-3",
                    ),
                ],
                className="d-flex flex-wrap justify-content-between align-items-center gap-2 mb-3",
            ),
            _filter_bar(f, problems),
            dcc.Loading(
                html.Div(_skeleton_cards(), id=CARDS, className="kpi-grid overview-kpis"),
                type="dot",
                delay_show=150,
                overlay_style=DIMMED,
            ),
            html.Div(id=EMPTY),
            html.Div(
                [
                    dbc.Row(
                        [
                            dbc.Col(
                                _chart(DAY_CHART, "Calls per day", "click a day to open it"),
                                xl=8,
                            ),
                            dbc.Col(
                                _chart(AGENT_CHART, "Answer rate by agent", "click to filter"),
                                xl=4,
                            ),
                        ],
                        className="g-3 mb-3",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(
                                _chart(HEATMAP, "Busiest hours (UTC)", "click a cell to filter"),
                                xl=8,
                            ),
                            dbc.Col(
                                _chart(NUMBER_CHART, "Top phone numbers", "click to filter"),
                                xl=4,
                            ),
                        ],
                        className="g-3 mb-3",
                    ),
                ],
                id=CALL_CHARTS,
                className="mt-3",
            ),
            html.H2(
                [
                    "Cases and tickets",
                    html.Span(" · whole organisation", className="text-muted fw-normal"),
                ],
                className="h6 section-title",
            ),
            dbc.Row(
                [
                    dbc.Col(_chart(CASE_STATUS_CHART, "Cases by status", height=260), lg=4),
                    dbc.Col(_chart(CASE_OFFICE_CHART, "Cases by office", height=260), lg=4),
                    dbc.Col(_chart(TICKET_CHART, "Tickets by status", height=260), lg=4),
                ],
                className="g-3 mb-3",
            ),
        ],
        className="overview",
    )
