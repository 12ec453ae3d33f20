"""Callbacks of the overview page: URL filters in, KPI cards and charts out.

Three steps, each thin:
- `apply_filters` turns a control change, a chart click or the browser's back/forward (the
  URL's query string, parsed) into the next filters, and writes them to the URL, the filter
  store and the controls (on a fresh load the page layout parses the query string);
- `refresh` reads the store (validated again), asks `models.kpis.overview_data` for every
  card and chart in five queries scoped to the viewer, and hands them to pure builders;
- `load_choices` fills the number and agent dropdowns from scoped queries.
A heatmap click sets a weekday/hour filter, shown as a removable badge; the heatmap itself
always shows the whole week so another cell can be picked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import dash_bootstrap_components as dbc
from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    dcc,
    get_relative_path,
    html,
    no_update,
)

from models.base import utcnow
from models.db import session_scope
from models.kpis import (
    CallFilter,
    OverviewData,
    Period,
    agent_choices,
    has_calls,
    overview_data,
    phone_choices,
)
from models.params import date_or_none
from models.scope import Viewer
from pages._dates import date_feedback, dates_note
from pages._figures import (
    WEEKDAY_SHORT,
    agent_rate_figure,
    calls_per_day_figure,
    calls_per_hour_figure,
    case_office_figure,
    case_status_figure,
    figure_table,
    heatmap_figure,
    table_id,
    ticket_status_figure,
    top_numbers_figure,
)
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
    DATES_FROM,
    DATES_NOTE,
    DATES_TO,
    DATES_WRAP,
    DAY_CHART,
    DAY_HINT,
    DAY_TITLE,
    DIRECTION,
    EMPTY,
    FILTERS,
    HEATMAP,
    INTERVAL,
    MAX_DAYS,
    NUMBER_CHART,
    PERIOD_TEXT,
    PHONE,
    RANGE,
    REFRESH,
    RESET,
    TICKET_CHART,
    UPDATED,
    URL,
    OverviewFilters,
    cell_label,
    dates_class,
    from_search_dict,
)
from web.viewer import current_viewer

#: Every chart of the page in the order `refresh` returns them, and what its table is called.
CHARTS = (
    DAY_CHART,
    HEATMAP,
    AGENT_CHART,
    NUMBER_CHART,
    CASE_STATUS_CHART,
    CASE_OFFICE_CHART,
    TICKET_CHART,
)
CHART_CAPTIONS = (
    "Calls per day",
    "Calls per weekday and UTC hour",
    "Answer rate by agent",
    "Calls per phone number",
    "Cases by status",
    "Cases by office",
    "Tickets by status",
)

# --- KPI cards (pure) -----------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    """One card: its value now and in the comparison period, and which way is better."""

    id: str
    label: str
    icon: str
    value: float | None
    previous: float | None
    kind: str = "count"  # count | rate | duration
    better: str | None = None  # "up", "down" or None (neither is good or bad)
    note: str = ""


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:,}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def format_value(kpi: Kpi) -> str:
    if kpi.value is None:
        return "—"
    if kpi.kind == "rate":
        return f"{kpi.value:.1%}"
    if kpi.kind == "duration":
        return _duration(kpi.value)
    return f"{int(kpi.value):,}"


def delta(kpi: Kpi) -> tuple[str, str]:
    """(text, tone) of the change against the comparison period; tone is good, bad or neutral."""
    now, before = kpi.value, kpi.previous
    if now is None or before is None:
        return "No earlier data", "neutral"
    if now == before:
        return "No change", "neutral"
    up = now > before
    arrow = "▲" if up else "▼"
    if kpi.kind == "rate":
        text = f"{arrow} {abs(now - before) * 100:.1f} pp"
    elif before == 0:
        text = f"{arrow} from 0"
    else:
        text = f"{arrow} {abs(now - before) / before:.1%}"
    if kpi.better is None:
        return text, "neutral"
    return text, "good" if up == (kpi.better == "up") else "bad"


def kpi_cards(kpis: list[Kpi]) -> list:
    """Cards for the KPIs; a pure function so tests can check what a person reads."""
    cards = []
    for kpi in kpis:
        text, tone = delta(kpi)
        cards.append(
            dbc.Card(
                dbc.CardBody(
                    [
                        html.Div(
                            [html.I(className=f"bi bi-{kpi.icon} me-2"), kpi.label],
                            className="kpi-label",
                        ),
                        html.Div(format_value(kpi), className="kpi-value", id=f"{kpi.id}-value"),
                        html.Div(
                            [
                                html.Span(
                                    text, className=f"kpi-delta {tone}", id=f"{kpi.id}-delta"
                                ),
                                html.Span(kpi.note, className="kpi-note"),
                            ],
                            className="kpi-foot",
                        ),
                    ]
                ),
                className="kpi-card",
                id=kpi.id,
            )
        )
    return cards


def overview_kpis(data: OverviewData) -> list[Kpi]:
    """The ten cards of the overview, in reading order."""
    c, p = data.calls, data.calls_before
    cases, tickets = data.cases, data.tickets
    # A previous period without a single call has nothing to compare with.
    before = (lambda value: value) if p.total else (lambda _value: None)
    flow, stock = "vs. previous period", "vs. start of period"
    return [
        Kpi("kpi-total", "Total calls", "telephone", c.total, before(p.total), note=flow),
        Kpi(
            "kpi-answered",
            "Answered",
            "telephone-inbound",
            c.answered,
            before(p.answered),
            better="up",
            note=flow,
        ),
        Kpi(
            "kpi-missed",
            "Missed",
            "telephone-x",
            c.missed,
            before(p.missed),
            better="down",
            note=flow,
        ),
        Kpi(
            "kpi-answer-rate",
            "Answer rate",
            "check2-circle",
            c.answer_rate,
            p.answer_rate,
            "rate",
            "up",
            flow,
        ),
        Kpi(
            "kpi-aht",
            "Average handle time",
            "stopwatch",
            c.average_handle_time,
            p.average_handle_time,
            "duration",
            note=flow,
        ),
        Kpi(
            "kpi-talk-time",
            "Total talk time",
            "hourglass-split",
            c.total_duration,
            before(p.total_duration),
            "duration",
            note=flow,
        ),
        Kpi(
            "kpi-open-cases",
            "Open cases",
            "folder2-open",
            cases.open_now,
            cases.open_before,
            better="down",
            note=stock,
        ),
        Kpi(
            "kpi-resolved-cases",
            "Resolved cases",
            "folder-check",
            cases.resolved,
            cases.resolved_before,
            better="up",
            note=flow,
        ),
        Kpi(
            "kpi-open-tickets",
            "Open tickets",
            "ticket-perforated",
            tickets.open_now,
            tickets.open_before,
            better="down",
            note=stock,
        ),
        Kpi(
            "kpi-sla-breaches",
            "SLA breaches",
            "alarm",
            tickets.breaches,
            tickets.breaches_before,
            better="down",
            note=flow,
        ),
    ]


# --- text and empty states (pure) -----------------------------------------------------------


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _span(first: date, last: date) -> str:
    return _day(first) if first == last else f"{_day(first)} – {_day(last)}"


def _last_day(start: datetime, end: datetime) -> date:
    return max(start, end - timedelta(microseconds=1)).date()


def period_text(f: OverviewFilters, period: Period) -> str:
    """What the cards cover and what they are compared with, in words."""
    if f.range == 1:
        return (
            f"Today, {_day(period.start.date())}, until {period.end:%H:%M} UTC · "
            "compared with yesterday until the same time"
        )
    shown = _span(period.start.date(), _last_day(period.start, period.end))
    before = _span(period.prev_start.date(), _last_day(period.prev_start, period.prev_end))
    return f"{shown} (UTC) · compared with {before}"


def _filtered(f: OverviewFilters) -> bool:
    return bool(f.phone or f.agent or f.direction) or f.weekday is not None or f.hour is not None


def _widen(f: OverviewFilters, today: date) -> tuple[str, OverviewFilters]:
    """Somewhere with calls: the last 90 days, or the last 12 months from there."""
    if f.range == CUSTOM and f.start and f.end:
        longer = f.end < today - timedelta(days=1) or (f.end - f.start).days + 1 < 90
    else:
        longer = f.range != 90
    if longer:
        return "Show the last 90 days", f.with_(range=90, start=None, end=None)
    start = today - timedelta(days=MAX_DAYS - 1)
    return "Show the last 12 months", f.with_(range=CUSTOM, start=start, end=today)


def empty_state(
    viewer: Viewer,
    data: OverviewData,
    f: OverviewFilters,
    period: Period,
    any_calls: bool,
    today: date,
) -> html.Div | None:
    """The message in place of the call charts when there are no calls to show, and it tells
    the truth: no numbers, nothing synced at all (`any_calls`), nothing that matches the
    filters, or nothing in this range, with a link that widens the range."""
    if data.calls.total:
        return None
    shown = _span(period.start.date(), _last_day(period.start, period.end))
    link: tuple[str, OverviewFilters] | None = None
    if viewer.role == "agent" and not viewer.phone_number_ids:
        title, hint = (
            "No phone numbers assigned to you yet",
            "An org admin assigns phone numbers on the Team page; ask one of your "
            "organisation's org admins, and the calls on your numbers will appear here.",
        )
    elif not any_calls:
        title, hint = (
            "No calls yet",
            "Calls appear here once a call-tracking source has synced.",
        )
    elif _filtered(f):
        title, hint = (f"No calls match these filters ({shown})", "Try clearing the filters.")
        link = (
            "Clear the filters",
            f.with_(phone=None, agent=None, direction=None, weekday=None, hour=None),
        )
    else:
        title, hint = (f"No calls between {shown.replace(' – ', ' and ')}", "")
        hint = "There are calls in other periods; try a longer range."
        link = _widen(f, today)
    return html.Div(
        [
            html.I(className="bi bi-telephone empty-icon", **{"aria-hidden": "true"}),
            html.H2(title, className="h5 mt-2"),
            html.P(hint, className="empty-hint mb-2"),
            dcc.Link(
                link[0], href=get_relative_path("/" + link[1].to_search()), id="overview-widen"
            )
            if link
            else None,
        ],
        className="empty-state",
        id="overview-empty-state",
    )


# --- clicks and controls -> filters (pure) --------------------------------------------------


def _point(click: Any) -> dict:
    points = click.get("points") if isinstance(click, dict) else None
    first = points[0] if isinstance(points, list) and points else None
    return first if isinstance(first, dict) else {}


def _day_of(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def next_filters(
    current: OverviewFilters, triggered: set[str], values: dict[str, Any]
) -> OverviewFilters:
    """The filters after the changes named in `triggered` ("component-id.prop")."""
    f = current
    if f"{URL}.search" in triggered:  # back/forward: the address bar is the truth
        return OverviewFilters.from_search(values.get("search"))
    if f"{RESET}.n_clicks" in triggered:
        return OverviewFilters()
    if f"{RANGE}.value" in triggered:
        wanted = values.get("range")
        if wanted == CUSTOM:
            start, end = _day_of(values.get("start_date")), _day_of(values.get("end_date"))
            f = f.with_(range=CUSTOM, start=start, end=end) if start and end else f
        else:
            f = f.with_(range=wanted, start=None, end=None)
    if {f"{DATES_FROM}.value", f"{DATES_TO}.value"} & triggered:
        start, end = date_or_none(values.get("start_date")), date_or_none(values.get("end_date"))
        if start and end and start <= end:
            f = f.with_(range=CUSTOM, start=start, end=end)
    for key, cid in (("phone", PHONE), ("agent", AGENT), ("direction", DIRECTION)):
        if f"{cid}.value" in triggered:
            f = f.with_(**{key: values.get(key)})
    if f"{DAY_CHART}.clickData" in triggered:
        point = _point(values.get("day_click"))
        custom = point.get("customdata")
        day = _day_of(custom)
        if day:  # a day's bar: open that day
            f = f.custom_day(day)
        elif isinstance(custom, int) and not isinstance(custom, bool) and 0 <= custom <= 23:
            f = f.with_(hour=custom)  # an hour's bar of a single day: that hour

    if f"{AGENT_CHART}.clickData" in triggered:
        agent = OverviewFilters.parse(
            {"agent": _point(values.get("agent_click")).get("customdata")}
        )
        f = f.with_(agent=agent.agent) if agent.agent else f
    if f"{NUMBER_CHART}.clickData" in triggered:
        phone = OverviewFilters.parse(
            {"phone": _point(values.get("number_click")).get("customdata")}
        )
        f = f.with_(phone=phone.phone) if phone.phone else f
    if f"{HEATMAP}.clickData" in triggered:
        point = _point(values.get("cell_click"))
        y = point.get("y")
        weekday = WEEKDAY_SHORT.index(y) if y in WEEKDAY_SHORT else None
        if weekday is not None and isinstance(point.get("x"), int):
            f = f.with_(weekday=weekday, hour=point.get("x"))
    if f"{CELL_CLEAR}.n_clicks" in triggered:
        f = f.with_(weekday=None, hour=None)
    return f


# --- callbacks --------------------------------------------------------------------------------


@callback(
    Output(URL, "search"),
    Output(FILTERS, "data"),
    Output(RANGE, "value"),
    Output(DATES_FROM, "value"),
    Output(DATES_TO, "value"),
    Output(DATES_WRAP, "className"),
    Output(PHONE, "value"),
    Output(AGENT, "value"),
    Output(DIRECTION, "value"),
    Output(CELL_BADGE, "className"),
    Output(CELL_TEXT, "children"),
    Output(DATES_NOTE, "children"),
    Output(DATES_FROM, "invalid"),
    Output(DATES_TO, "invalid"),
    Input(RANGE, "value"),
    Input(DATES_FROM, "value"),
    Input(DATES_TO, "value"),
    Input(PHONE, "value"),
    Input(AGENT, "value"),
    Input(DIRECTION, "value"),
    Input(DAY_CHART, "clickData"),
    Input(AGENT_CHART, "clickData"),
    Input(NUMBER_CHART, "clickData"),
    Input(HEATMAP, "clickData"),
    Input(CELL_CLEAR, "n_clicks"),
    Input(RESET, "n_clicks"),
    Input(URL, "search"),
    State(FILTERS, "data"),
    prevent_initial_call=True,
)
def apply_filters(
    range_,
    start_date,
    end_date,
    phone,
    agent,
    direction,
    day_click,
    agent_click,
    number_click,
    cell_click,
    _clear,
    _reset,
    search,
    stored,
):
    """A control change, a chart click or the browser's back/forward → the next filters,
    written to the URL, the filter store and the controls."""
    current = OverviewFilters.parse(stored if isinstance(stored, dict) else None)
    triggered = set(ctx.triggered_prop_ids)
    if {f"{DATES_FROM}.value", f"{DATES_TO}.value"} & triggered:
        # Typed dates that cannot be used are said beside the inputs and change nothing else
        # (the inputs keep what was typed, to be corrected).
        note, bad_start, bad_end = date_feedback(start_date, end_date)
        if note is not None:
            return (*(no_update,) * 11, note, bad_start, bad_end)
    f = next_filters(
        current,
        triggered,
        {
            "range": range_,
            "start_date": start_date,
            "end_date": end_date,
            "phone": phone,
            "agent": agent,
            "direction": direction,
            "day_click": day_click,
            "agent_click": agent_click,
            "number_click": number_click,
            "cell_click": cell_click,
            "search": search,
        },
    )
    custom = f.range == CUSTOM
    cell_set = f.weekday is not None or f.hour is not None
    from_url = f"{URL}.search" in ctx.triggered_prop_ids
    # A control change replaces what the URL asked for; back/forward to a bad URL says so.
    problems = OverviewFilters.read(from_search_dict(search))[1] if from_url else ()
    return (
        no_update if from_url else f.to_search(),  # rewriting it would push a history entry
        f.as_dict(),
        f.range,
        f.start.isoformat() if custom else no_update,
        f.end.isoformat() if custom else no_update,
        dates_class(custom),
        f.phone,
        f.agent,
        f.direction,
        "badge rounded-pill text-bg-primary overview-cell" + ("" if cell_set else " d-none"),
        cell_label(f.weekday, f.hour),
        dates_note(problems),
        False,
        False,
    )


@callback(
    Output(CARDS, "children"),
    Output(PERIOD_TEXT, "children"),
    Output(UPDATED, "children"),
    Output(EMPTY, "children"),
    Output(CALL_CHARTS, "className"),
    Output(DAY_CHART, "figure"),
    Output(DAY_TITLE, "children"),
    Output(DAY_HINT, "children"),
    Output(HEATMAP, "figure"),
    Output(AGENT_CHART, "figure"),
    Output(NUMBER_CHART, "figure"),
    Output(CASE_STATUS_CHART, "figure"),
    Output(CASE_OFFICE_CHART, "figure"),
    Output(TICKET_CHART, "figure"),
    *(Output(table_id(chart), "children") for chart in CHARTS),
    Input(FILTERS, "data"),
    Input(INTERVAL, "n_intervals"),
    Input(REFRESH, "n_clicks"),
)
def refresh(stored, _ticks, _clicks):
    """Cards and charts for the stored filters, scoped to the viewer on the server."""
    viewer = current_viewer()
    f = OverviewFilters.parse(stored if isinstance(stored, dict) else None)
    now = utcnow()
    period = Period.of(*f.window(now))
    with session_scope() as db:
        data = overview_data(
            db, viewer, period, CallFilter(f.phone, f.agent, f.direction, f.weekday, f.hour)
        )
        any_calls = bool(data.calls.total) or has_calls(db, viewer)
    empty = empty_state(viewer, data, f, period, any_calls, now.date())
    if data.per_hour is None:
        days = (calls_per_day_figure(data.per_day), "Calls per day", "click a day to open it")
    else:
        days = (calls_per_hour_figure(data.per_hour), "Calls per hour", "click an hour to filter")
    figures = [
        days[0],
        heatmap_figure(data.heatmap, f.cell),
        agent_rate_figure(data.agents),
        top_numbers_figure(data.numbers),
        case_status_figure(data.cases.breakdown),
        case_office_figure(data.cases.breakdown),
        ticket_status_figure(data.tickets.by_status),
    ]
    captions = [days[1], *CHART_CAPTIONS[1:]]
    return (
        kpi_cards(overview_kpis(data)),
        period_text(f, period),
        f"Last updated {now:%H:%M:%S} UTC",
        empty,
        "mt-3" + (" d-none" if empty is not None else ""),
        figures[0],
        days[1],
        days[2],
        *figures[1:],
        *(figure_table(fig, caption) for fig, caption in zip(figures, captions, strict=True)),
    )


@callback(Output(PHONE, "options"), Output(AGENT, "options"), Input(URL, "id"))
def load_choices(_):
    """Numbers and agents the viewer may filter on (an agent: their own numbers only)."""
    viewer = current_viewer()
    with session_scope() as db:
        phones = phone_choices(db, viewer)
        agents = agent_choices(db, viewer)
    return (
        [{"label": label, "value": pid} for pid, label in phones],
        [{"label": name, "value": uid} for uid, name in agents],
    )


# The auto-refresh switch only flips the interval, in the browser.
clientside_callback(
    "function(on) { return !on; }",
    Output(INTERVAL, "disabled"),
    Input(AUTO, "value"),
)

# The address bar shows the filters actually used: a URL the page had to correct (a bad
# date, an end before the start) is replaced, not pushed, so Back does not return to it.
# (Triggered by `id`: Dash makes no initial call on an input another callback outputs.)
clientside_callback(
    ClientsideFunction(namespace="syncboardUrl", function_name="replaceSearch"),
    Output(URL, "href"),
    Input(URL, "id"),
    State(URL, "search"),
)
