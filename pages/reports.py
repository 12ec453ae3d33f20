"""Reports: pick metrics, a grouping and a range; see a table and a chart; export and save them.

The definition lives in the URL (`?metrics=calls_total,answer_rate&group=number&range=30d`,
or `&from=2026-01-01&to=2026-01-31` for custom days), so a report can be bookmarked.
"""

from datetime import timedelta
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from models.base import utcnow
from models.reports import GROUPINGS, METRICS, RANGES, ReportSpec, spec_from_url
from pages._dates import date_range, dates_note
from pages._reports_ids import (
    CHART,
    CONFIRM,
    CONFIRM_NO,
    CONFIRM_TEXT,
    CONFIRM_YES,
    DATES,
    DATES_WRAP,
    DEFAULT_SPEC,
    DELETE,
    ERROR,
    GRID,
    GROUP,
    METRIC_LISTS,
    NAME,
    PAGE_SIZE,
    RANGE,
    ROOT,
    SAVE,
    SAVED,
    STATUS,
    SUMMARY,
    TABLE_CARD,
    URL,
    report_columns,
)
from pages._shell import page_guard
from pages._table import record_grid

dash.register_page(
    __name__, path="/reports", name="Reports", order=20, icon="bar-chart-line", min_role="manager"
)

FAMILY_TITLES = {"calls": "Calls", "cases": "Cases", "tickets": "Tickets"}


def _label(text: str, html_for: str | None = None) -> dbc.Label:
    return dbc.Label(text, html_for=html_for, className="report-label")


def _builder(spec: ReportSpec, problems: tuple[str, ...]) -> dbc.Card:
    today = utcnow().date()
    custom = spec.range == "custom"
    metric_lists = [
        html.Div(
            [
                html.Div(title, className="report-family"),
                dbc.Checklist(
                    id=METRIC_LISTS[family],
                    options=[
                        {"label": m.label, "value": key}
                        for key, m in METRICS.items()
                        if m.family == family
                    ],
                    value=[k for k in spec.metrics if METRICS[k].family == family],
                    className="report-checks",
                ),
            ]
        )
        for family, title in FAMILY_TITLES.items()
    ]
    return dbc.Card(
        dbc.CardBody(
            [
                _label("Saved reports", SAVED),
                html.Div(
                    [
                        html.Div(
                            dcc.Dropdown(id=SAVED, placeholder="Choose…", clearable=False),
                            className="report-saved",
                        ),
                        dbc.Button(
                            html.I(className="bi bi-trash"),
                            id=DELETE,
                            color="danger",
                            outline=True,
                            disabled=True,
                            title="Delete the selected saved report",
                        ),
                    ],
                    className="d-flex gap-2 mb-3",
                ),
                html.Hr(className="my-3"),
                _label("Metrics"),
                html.Div(metric_lists, className="report-metrics mb-3"),
                _label("Group by", GROUP),
                dbc.Select(
                    id=GROUP,
                    options=[{"label": label, "value": key} for key, label in GROUPINGS.items()],
                    value=spec.group,
                    className="mb-3",
                ),
                _label("Range", RANGE),
                dbc.Select(
                    id=RANGE,
                    options=[{"label": label, "value": key} for key, (label, _d) in RANGES.items()],
                    value=spec.range,
                    className="mb-2",
                ),
                date_range(
                    DATES,
                    spec.start if custom else today - timedelta(days=29),
                    spec.end if custom else today,
                    label="Report dates",
                    wrap_id=DATES_WRAP,
                    class_name="mt-2" if custom else "d-none",
                ),
                html.Hr(className="my-3"),
                _label("Save as", NAME),
                dbc.InputGroup(
                    [
                        dbc.Input(id=NAME, placeholder="Report name", maxLength=200),
                        dbc.Button([html.I(className="bi bi-save me-1"), "Save"], id=SAVE),
                    ]
                ),
                # What the URL asked for that could not be shown, until something is done.
                html.Div(dates_note(problems), id=STATUS, className="small mt-2", role="status"),
            ]
        ),
        className="records-card report-builder",
    )


def _results() -> html.Div:
    grid = record_grid(
        GRID,
        report_columns(None),
        page_size=PAGE_SIZE,
        search=False,
        label="Report table",
    )
    return html.Div(
        [
            dbc.Alert(id=ERROR, color="warning", is_open=False, className="mb-3"),
            dbc.Card(
                [
                    dbc.CardHeader(
                        html.H2(id=SUMMARY, className="chart-title mb-0"),
                        className="report-header",
                    ),
                    dbc.CardBody(
                        dcc.Loading(
                            dcc.Graph(
                                id=CHART,
                                config={"displayModeBar": False, "responsive": True},
                                style={"height": "320px"},
                            ),
                            type="dot",
                            delay_show=300,
                        ),
                        className="p-2",
                    ),
                ],
                className="records-card mb-3",
            ),
            dbc.Card(dbc.CardBody(grid), id=TABLE_CARD, className="records-card"),
        ]
    )


def layout(**kwargs):
    refusal = page_guard("manager")
    if refusal is not None:
        return refusal
    spec, problems = spec_from_url(kwargs, DEFAULT_SPEC)
    query = spec.to_url()
    return html.Div(
        [
            # What the page shows; assets/url.js puts it in the address bar.
            dcc.Location(id=URL, refresh=False, search="?" + urlencode(query, safe=",")),
            html.Div(
                [
                    html.H1("Reports", className="h3 mb-0"),
                    html.Div(
                        "Pick what to count and how to group it. Days are UTC.",
                        className="text-muted small",
                    ),
                ],
                className="mb-3",
            ),
            dbc.Row(
                [
                    # Side by side from 1200 px; a tablet gives the results the whole width.
                    dbc.Col(_builder(spec, problems), xl=4, xxl=3, className="mb-3"),
                    dbc.Col(_results(), xl=8, xxl=9),
                ]
            ),
            dbc.Modal(
                [
                    dbc.ModalHeader(dbc.ModalTitle("Delete saved report")),
                    dbc.ModalBody(id=CONFIRM_TEXT),
                    dbc.ModalFooter(
                        [
                            dbc.Button("Cancel", id=CONFIRM_NO, color="secondary", outline=True),
                            dbc.Button("Delete", id=CONFIRM_YES, color="danger"),
                        ]
                    ),
                ],
                id=CONFIRM,
                is_open=False,
                centered=True,
            ),
        ],
        id=ROOT,
        className="records-page",
    )
