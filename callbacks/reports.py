"""Callbacks of the reports page: run the definition, chart it, link its CSV, save/load/delete it.

Every callback rebuilds the viewer on the server and needs a manager; saved reports are
looked up by (id, this user, this organisation), so a forged id finds nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import plotly.graph_objects as go
from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    html,
    no_update,
)
from plotly.subplots import make_subplots

from callbacks._dates import date_feedback_on
from callbacks._table import refresh_on
from models.db import session_scope
from models.reports import (
    GROUPINGS,
    METRICS,
    TIME_GROUPS,
    ReportError,
    ReportNotFound,
    ReportResult,
    ReportSpec,
    delete_report,
    load_report,
    parse_definition,
    run_report,
    save_report,
    saved_reports,
)
from models.scope import SEE_ORG
from pages._figures import empty_figure, plot_text
from pages._reports_ids import (
    CHART,
    CONFIRM,
    CONFIRM_NO,
    CONFIRM_TEXT,
    CONFIRM_YES,
    COUNT,
    DATES,
    DATES_FROM,
    DATES_TO,
    DATES_WRAP,
    DELETE,
    ERROR,
    EXPORT,
    GRID,
    GROUP,
    METRIC_LISTS,
    NAME,
    RANGE,
    ROOT,
    SAVE,
    SAVED,
    STATUS,
    SUMMARY,
    TABLE,
    TABLE_CARD,
    URL,
    report_columns,
)
from pages._table import column_defs, read_rows_request, rows_response
from web.exports import REPORT_PATH, export_href
from web.viewer import current_viewer

COLOURS = ("#0d6efd", "#198754", "#dc3545", "#6f42c1", "#fd7e14", "#20c997", "#0dcaf0", "#d63384")
PANEL_HEIGHT = 170
FAMILIES = tuple(METRIC_LISTS)
DEFINITION_INPUTS = [
    *(Input(METRIC_LISTS[f], "value") for f in FAMILIES),
    Input(GROUP, "value"),
    Input(RANGE, "value"),
    Input(DATES_FROM, "value"),
    Input(DATES_TO, "value"),
]
DEFINITION_STATE = [
    *(State(METRIC_LISTS[f], "value") for f in FAMILIES),
    State(GROUP, "value"),
    State(RANGE, "value"),
    State(DATES_FROM, "value"),
    State(DATES_TO, "value"),
]


def definition(lists, group, range_, start, end) -> dict[str, Any]:
    """The raw definition from the controls (checked later by `parse_definition`)."""
    metrics: list[Any] = []
    for chosen in lists:
        metrics.extend(chosen if isinstance(chosen, list) else [])
    return {"metrics": metrics, "group": group, "range": range_, "start": start, "end": end}


def _manager():
    viewer = current_viewer()
    viewer.require_to(SEE_ORG)
    return viewer


def note(message: str, ok: bool = True) -> html.Span:
    icon = "check-circle" if ok else "exclamation-triangle"
    return html.Span(
        [html.I(className=f"bi bi-{icon} me-1"), message],
        className="text-success" if ok else "text-danger",
    )


# --- pure builders ------------------------------------------------------------------------


def _plotted(metric: str, value: Any) -> float | None:
    kind = METRICS[metric].kind
    if value is None:
        return None
    if kind == "rate":
        return round(value * 100, 1)
    if kind == "duration":
        return round(value / 60, 1)
    return value


def report_figure(result: ReportResult) -> go.Figure | dict[str, Any]:
    """One small panel per metric (each with its own scale), sharing the groups' axis."""
    metrics = result.spec.metrics
    if not result.rows or all(not row[m] for row in result.rows for m in metrics):
        return empty_figure("Nothing to count in this range")
    timed = result.spec.group in TIME_GROUPS
    fig = make_subplots(
        rows=len(metrics),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.22 / len(metrics) if len(metrics) > 1 else 0,
        subplot_titles=[METRICS[m].label for m in metrics],
    )
    x = [row["group"] if timed else plot_text(row["group"]) for row in result.rows]
    for i, metric in enumerate(metrics, start=1):
        kind = METRICS[metric].kind
        y = [_plotted(metric, row[metric]) for row in result.rows]
        unit = {"rate": "%", "duration": " min"}.get(kind, "")
        colour = COLOURS[(i - 1) % len(COLOURS)]
        hover = "%{x}<br>%{y" + (":.1f" if kind != "count" else ":,") + "}" + unit
        trace = (
            go.Scatter(x=x, y=y, mode="lines+markers", line={"color": colour, "width": 2})
            if timed
            else go.Bar(x=x, y=y, marker={"color": colour})
        )
        trace.update(name=METRICS[metric].label, hovertemplate=hover + "<extra></extra>")
        fig.add_trace(trace, row=i, col=1)
        small = kind == "count" and max((v or 0 for v in y), default=0) <= 5
        fig.update_yaxes(
            ticksuffix=unit, rangemode="tozero", dtick=1 if small else None, row=i, col=1
        )
    fig.update_layout(
        template="plotly_white",
        showlegend=False,
        height=40 + PANEL_HEIGHT * len(metrics),
        margin={"l": 8, "r": 8, "t": 28, "b": 8},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 12},
        bargap=0.3,
    )
    fig.update_annotations(font_size=13, x=0, xanchor="left")
    fig.update_xaxes(gridcolor="#eef0f3", automargin=True)
    fig.update_yaxes(gridcolor="#eef0f3", automargin=True)
    return fig


def summary(result: ReportResult) -> str:
    labels = [METRICS[m].label for m in result.spec.metrics]
    what = ", ".join(labels[:-1]) + " and " + labels[-1] if len(labels) > 1 else labels[0]
    span = f"{result.start:%-d %b %Y} – {result.end:%-d %b %Y}"
    return f"{what} by {GROUPINGS[result.spec.group].lower()}, {span}"


# --- callbacks ----------------------------------------------------------------------------


def _spec(calls, cases, tickets, group, range_, start, end) -> ReportSpec:
    return parse_definition(definition([calls, cases, tickets], group, range_, start, end))


@callback(
    Output(TABLE, "columnDefs"),
    Output(CHART, "figure"),
    Output(CHART, "style"),
    Output(ERROR, "children"),
    Output(ERROR, "is_open"),
    Output(EXPORT, "href"),
    Output(EXPORT, "disabled"),
    Output(SUMMARY, "children"),
    Output(DATES_WRAP, "className"),
    Output(TABLE_CARD, "className"),
    Output(URL, "search"),
    *DEFINITION_INPUTS,
)
def run(calls, cases, tickets, group, range_, start, end):
    """Validate the definition, run it, chart it, and link exactly what the CSV downloads;
    the grid asks for its rows of the same definition itself (`report_rows`)."""
    viewer = _manager()
    dates_class = "date-range mt-2" if range_ == "custom" else "date-range d-none"
    try:
        spec = _spec(calls, cases, tickets, group, range_, start, end)
    except ReportError as exc:
        blank = empty_figure("Fix the definition to see a chart")
        return (
            *(no_update, blank, {"height": "320px"}, str(exc), True, "", True, ""),
            *(dates_class, "d-none", no_update),
        )
    with session_scope() as db:
        result = run_report(db, viewer, spec)
    figure = report_figure(result)
    # An empty report's figure is a plain dict (pages/_figures.empty_figure), a full one a Figure.
    layout = figure.get("layout", {}) if isinstance(figure, dict) else figure.layout
    height = layout["height"] if "height" in layout and layout["height"] else 320
    return (
        column_defs(report_columns(spec)),
        figure,
        {"height": f"{height}px"},
        "",
        False,
        export_href(REPORT_PATH, spec.to_params()),
        False,
        summary(result),
        dates_class,
        "records-card",
        "?" + urlencode(spec.to_url(), safe=","),
    )


@callback(
    Output(TABLE, "getRowsResponse"),
    Output(COUNT, "children"),
    Input(TABLE, "getRowsRequest"),
    *DEFINITION_STATE,
    prevent_initial_call=True,
)
def report_rows(request, calls, cases, tickets, group, range_, start, end):
    """One page of the report's table, sorted on the raw numbers of the column asked for."""
    viewer = _manager()
    page, size, sort, descending = read_rows_request(request)
    try:
        spec = _spec(calls, cases, tickets, group, range_, start, end)
    except ReportError:
        return rows_response([], 0), ""
    with session_scope() as db:
        result = run_report(db, viewer, spec)
    rows = result.records(sort, descending)
    noun = "row" if len(rows) == 1 else "rows"
    return rows_response(rows[page * size : (page + 1) * size], len(rows)), f"{len(rows):,} {noun}"


# A new definition: the grid drops its rows and asks again from the first page.
refresh_on(GRID, *DEFINITION_INPUTS)
date_feedback_on(DATES)

# The address bar shows the definition shown (a corrected URL is replaced, not pushed).
clientside_callback(
    ClientsideFunction(namespace="syncboardUrl", function_name="replaceSearch"),
    Output(URL, "href"),
    Input(URL, "search"),
)


@callback(
    Output(SAVED, "options"),
    Output(SAVED, "value"),
    Output(STATUS, "children"),
    Input(ROOT, "id"),
    Input(SAVE, "n_clicks"),
    Input(CONFIRM_YES, "n_clicks"),
    State(NAME, "value"),
    *DEFINITION_STATE,
    State(SAVED, "value"),
)
def manage(_root, _save, _confirm, name, calls, cases, tickets, group, range_, start, end, chosen):
    """List the viewer's saved reports; save the current definition or delete the chosen one."""
    viewer = _manager()
    value, message = no_update, no_update
    with session_scope() as db:
        if ctx.triggered_id == SAVE:
            try:
                raw = definition([calls, cases, tickets], group, range_, start, end)
                value = save_report(db, viewer, name, parse_definition(raw))
                message = note(f"Saved “{' '.join(str(name).split())}”.")
            except ReportError as exc:
                message = note(str(exc), ok=False)
        elif ctx.triggered_id == CONFIRM_YES:
            try:
                message = note(f"Deleted “{delete_report(db, viewer, chosen)}”.")
                value = None
            except ReportNotFound as exc:
                message = note(str(exc), ok=False)
        options = [{"label": label, "value": rid} for rid, label in saved_reports(db, viewer)]
    return options, value, message


@callback(
    *(Output(METRIC_LISTS[f], "value") for f in FAMILIES),
    Output(GROUP, "value"),
    Output(RANGE, "value"),
    Output(DATES_FROM, "value"),
    Output(DATES_TO, "value"),
    Output(NAME, "value"),
    Output(STATUS, "children", allow_duplicate=True),
    Input(SAVED, "value"),
    State(NAME, "value"),
    *DEFINITION_STATE,
    prevent_initial_call=True,
)
def load(report_id, current_name, calls, cases, tickets, group, range_, start, end):
    """Put a saved report's definition into the controls (only the viewer's own)."""
    unchanged = (no_update,) * 9
    if report_id is None:
        return unchanged
    viewer = _manager()
    try:
        with session_scope() as db:
            name, spec = load_report(db, viewer, report_id)
    except (ReportNotFound, ReportError) as exc:
        return (*unchanged[:-1], note(str(exc), ok=False))
    try:
        current = _spec(calls, cases, tickets, group, range_, start, end)
    except ReportError:
        current = None
    if name == current_name and current == spec:  # just saved: the controls already hold it
        return unchanged
    lists = [[m for m in spec.metrics if METRICS[m].family == f] for f in FAMILIES]
    custom = spec.range == "custom"
    return (
        *lists,
        spec.group,
        spec.range,
        spec.start.isoformat() if custom else no_update,
        spec.end.isoformat() if custom else no_update,
        name,
        note(f"Loaded “{name}”."),
    )


@callback(Output(DELETE, "disabled"), Input(SAVED, "value"))
def delete_enabled(report_id):
    return report_id is None


@callback(
    Output(CONFIRM, "is_open"),
    Output(CONFIRM_TEXT, "children"),
    Input(DELETE, "n_clicks"),
    Input(CONFIRM_NO, "n_clicks"),
    Input(CONFIRM_YES, "n_clicks"),
    State(SAVED, "value"),
    prevent_initial_call=True,
)
def confirm_delete(_delete, _no, _yes, report_id):
    """Ask before deleting; the name shown comes from the database, not from the page."""
    if ctx.triggered_id != DELETE or report_id is None:
        return False, no_update
    viewer = _manager()
    try:
        with session_scope() as db:
            name, _spec = load_report(db, viewer, report_id)
    except (ReportNotFound, ReportError):
        return False, no_update
    return True, f"Delete the saved report “{name}”? This cannot be undone."
