"""Plotly figure builders: pure functions from small DataFrames to figures, no queries.

Figures are plain plotly JSON dicts (`{"data": [...], "layout": {...}}`), which dcc.Graph
takes as they are: building `plotly.graph_objects.Figure`s validates every property and
copies a whole template, ~20 ms per figure, more than the queries behind it. Every
builder returns a friendly message instead of empty axes when there is nothing to draw.
Bars that filter the page on a click carry the filter value in `customdata`.

Plotly reads `<a href>`, `<b>` and other tags in labels as markup, so every text that
comes from data (agent names, number labels, offices, clusters, statuses) goes through
`plot_text`, and data never goes into a `hovertemplate`, where `%{...}` is live too.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from dash import html as html_

from models.records import CASE_STATUSES, TICKET_STATUSES

Figure = dict[str, Any]

ANSWERED = "#198754"
MISSED = "#dc3545"
VOICEMAIL = "#ffc107"
NOT_ANSWERED = "#f1aeb5"
PRIMARY = "#0d6efd"
MUTED = "#6c757d"
GRID = "#eef0f3"
WEEKDAY_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
STATUS_COLOURS = {
    "new": "#0dcaf0",
    "open": "#0dcaf0",
    "acknowledged": "#6f42c1",
    "pending": "#6f42c1",
    "in_progress": "#fd7e14",
    "resolved": ANSWERED,
    "closed": "#20c997",
    "rejected": MUTED,
}
CLUSTER_COLOURS = ("#0d6efd", "#6610f2", "#d63384", "#fd7e14", "#20c997", "#0dcaf0")
BLUES = [[0, "#f4f8fd"], [0.35, "#9ecae1"], [0.7, "#3182bd"], [1, "#08306b"]]


def plot_text(value: Any) -> str:
    """`value` as text Plotly shows literally (its pseudo-HTML decodes the entities back)."""
    return html.escape(str(value), quote=False)


def plot_texts(values: Iterable[Any]) -> list[str]:
    return [plot_text(v) for v in values]


def _axis(**extra) -> dict:
    return {"gridcolor": GRID, "zerolinecolor": GRID, "ticks": "", "automargin": True, **extra}


def _figure(data: list[dict], *, x: dict | None = None, y: dict | None = None, **layout) -> Figure:
    """A figure with the page's look: no background, small margins, legend on top."""
    return {
        "data": data,
        "layout": {
            "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 12},
            "legend": {
                "orientation": "h",
                "yanchor": "bottom",
                "y": 1.0,
                "x": 0,
                "traceorder": "normal",
            },
            "hoverlabel": {"font": {"size": 12}},
            "xaxis": _axis(**(x or {})),
            "yaxis": _axis(**(y or {})),
            **layout,
        },
    }


def _rows_axis(count: int, **extra) -> dict:
    """A category axis for horizontal bars, first row on top, room for at least 6 rows so
    that one or two bars keep a normal thickness instead of filling the chart."""
    return {"range": [max(count, 6) - 0.5, -0.5], "showgrid": False, **extra}


def _whole_numbers(largest: float) -> dict:
    """Axis settings that keep ticks on whole numbers (no "2.5 calls" on small counts)."""
    return {"dtick": 1, "tickformat": ",d"} if largest <= 8 else {"tickformat": ",d"}


def empty_figure(message: str) -> Figure:
    """No axes, just a short sentence in the middle."""
    return _figure(
        [],
        x={"visible": False},
        y={"visible": False},
        annotations=[
            {
                "text": message,
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "font": {"size": 14, "color": MUTED},
            }
        ],
    )


def _ints(values) -> list[int]:
    return [int(v) for v in values]


STATUS_STACK = (
    ("answered", "Answered", ANSWERED),
    ("missed", "Missed", MISSED),
    ("voicemail", "Voicemail", VOICEMAIL),
)


def _status_stack(
    frame: pd.DataFrame, x: list[str], customdata: list, hover: str, tickformat: str, empty: str
) -> Figure:
    """Answered, missed and voicemail calls stacked over time, one bar per row of `frame`;
    a bar carries `customdata` for the click that drills into it."""
    counts = frame[[column for column, _n, _c in STATUS_STACK]]
    if frame.empty or int(counts.to_numpy().sum()) == 0:
        return empty_figure(empty)
    data = [
        {
            "type": "bar",
            "x": x,
            "y": _ints(frame[column]),
            "name": name,
            "marker": {"color": colour},
            "customdata": customdata,
            "hovertemplate": f"{hover}<br>{name}: %{{y:,}}<extra></extra>",
        }
        for column, name, colour in STATUS_STACK
    ]
    return _figure(
        data,
        x={"type": "date", "tickformat": tickformat, "showgrid": False},
        y={"rangemode": "tozero", **_whole_numbers(counts.sum(axis=1).max())},
        barmode="stack",
        bargap=0.15,
        hovermode="closest",
    )


def calls_per_day_figure(per_day: pd.DataFrame) -> Figure:
    """Calls per day by status; a day's bars carry the day (a click opens it)."""
    days = [pd.Timestamp(d).date().isoformat() for d in per_day["day"]]
    return _status_stack(
        per_day, days, days, "%{x|%a %d %b %Y}", "%d %b", "No calls in this period"
    )


def calls_per_hour_figure(per_hour: pd.DataFrame) -> Figure:
    """Calls per hour of one day by status; a bar carries its hour (a click filters on it)."""
    stamps = [pd.Timestamp(h) for h in per_hour["hour"]]
    return _status_stack(
        per_hour,
        [t.strftime("%Y-%m-%dT%H:00") for t in stamps],
        [t.hour for t in stamps],
        "%{x|%H:00}–%{x|%H:59} UTC",
        "%H:00",
        "No calls on this day",
    )


def heatmap_figure(
    heat: pd.DataFrame, selected: tuple[int | None, int | None] = (None, None)
) -> Figure:
    """Calls per weekday (rows, Monday on top) and UTC hour (columns); the picked cell is outlined."""
    if heat.empty or int(heat["calls"].sum()) == 0:
        return empty_figure("No calls in this period")
    z = [[0] * 24 for _ in range(7)]
    for weekday, hour, calls in heat[["weekday", "hour", "calls"]].itertuples(index=False):
        z[int(weekday)][int(hour)] += int(calls)
    shapes = []
    weekday, hour = selected
    if weekday is not None or hour is not None:
        x0, x1 = (hour - 0.5, hour + 0.5) if hour is not None else (-0.5, 23.5)
        y0, y1 = (weekday - 0.5, weekday + 0.5) if weekday is not None else (-0.5, 6.5)
        shapes.append(
            {
                "type": "rect",
                "x0": x0,
                "x1": x1,
                "y0": y0,
                "y1": y1,
                "line": {"color": MISSED, "width": 3},
            }
        )
    trace = {
        "type": "heatmap",
        "z": z,
        "x": list(range(24)),
        "y": list(WEEKDAY_SHORT),
        "colorscale": BLUES,
        "xgap": 2,
        "ygap": 2,
        "colorbar": {"thickness": 10, "outlinewidth": 0},
        "hovertemplate": "%{y} %{x}:00–%{x}:59 UTC<br>%{z:,} calls<extra></extra>",
    }
    ticks = list(range(0, 24, 3))
    return _figure(
        [trace],
        x={
            "tickmode": "array",
            "tickvals": ticks,
            "ticktext": [f"{h:02d}:00" for h in ticks],
            "showgrid": False,
        },
        y={"autorange": "reversed", "showgrid": False},
        shapes=shapes,
    )


def agent_rate_figure(agents: pd.DataFrame, top: int = 15) -> Figure:
    """Answer rate per agent (the busiest `top`), best first; a bar carries the agent's id."""
    if agents.empty or int(agents["calls"].sum()) == 0:
        return empty_figure("No calls with an agent in this period")
    rows = agents.head(top).copy()
    rows["rate"] = rows["answered"] / rows["calls"]
    rows = rows.sort_values(["rate", "calls"], ascending=[False, False])
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": [float(r) for r in rows["rate"]],
        "y": plot_texts(rows["agent"]),
        "marker": {"color": PRIMARY},
        "customdata": _ints(rows["agent_id"]),
        "text": [f"{r:.0%}" for r in rows["rate"]],
        "textposition": "inside",
        "insidetextanchor": "end",
        "hovertext": [
            f"{a:,} of {c:,} answered" for a, c in zip(rows["answered"], rows["calls"], strict=True)
        ],
        "hovertemplate": "%{y}<br>%{x:.1%} · %{hovertext}<extra></extra>",
    }
    return _figure(
        [trace],
        x={"range": [0, 1], "tickvals": [0, 0.25, 0.5, 0.75, 1], "tickformat": ".0%"},
        y=_rows_axis(len(rows)),
        bargap=0.25,
        margin={"l": 8, "r": 24, "t": 8, "b": 8},
    )


def top_numbers_figure(numbers: pd.DataFrame) -> Figure:
    """Calls per phone number, answered and not, busiest on top; a bar carries the number's id."""
    if numbers.empty or int(numbers["calls"].sum()) == 0:
        return empty_figure("No calls in this period")
    labels = [
        plot_text(f"{label} · {number}" if label else number)
        for label, number in zip(numbers["label"], numbers["number"], strict=True)
    ]
    ids = _ints(numbers["phone_number_id"])
    answered = _ints(numbers["answered"])
    other = _ints(numbers["calls"] - numbers["answered"])
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "x": values,
            "y": labels,
            "name": name,
            "marker": {"color": colour},
            "customdata": ids,
            "hovertemplate": f"%{{y}}<br>{name}: %{{x:,}}<extra></extra>",
        }
        for values, name, colour in (
            (answered, "Answered", ANSWERED),
            (other, "Not answered", NOT_ANSWERED),
        )
    ]
    return _figure(
        data,
        x=_whole_numbers(int(numbers["calls"].max())),
        y=_rows_axis(len(labels)),
        barmode="stack",
        bargap=0.25,
    )


def _status_bars(counts: pd.Series, order: Sequence[str], what: str) -> Figure:
    """Horizontal bars, one per status in workflow order (unknown statuses last)."""
    known = [s for s in order if s in counts.index] + [s for s in counts.index if s not in order]
    values = [int(counts[s]) for s in known]
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": values,
        "y": [plot_text(str(s).replace("_", " ").capitalize()) for s in known],
        "marker": {"color": [STATUS_COLOURS.get(s, PRIMARY) for s in known]},
        "text": [f"{v:,}" for v in values],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": f"%{{y}}: %{{x:,}} {what}<extra></extra>",
    }
    return _figure(
        [trace],
        x={"rangemode": "tozero", **_whole_numbers(max(values))},
        y=_rows_axis(len(known)),
        bargap=0.3,
        margin={"l": 8, "r": 36, "t": 8, "b": 8},
    )


def case_status_figure(breakdown: pd.DataFrame) -> Figure:
    """Cases reported in the period, per status in workflow order."""
    if breakdown.empty or int(breakdown["cases"].sum()) == 0:
        return empty_figure("No cases reported in this period")
    return _status_bars(breakdown.groupby("status")["cases"].sum(), CASE_STATUSES, "cases")


def case_office_figure(breakdown: pd.DataFrame) -> Figure:
    """Cases reported in the period per office, coloured by the office's cluster."""
    if breakdown.empty or int(breakdown["cases"].sum()) == 0:
        return empty_figure("No cases reported in this period")
    per_office = breakdown.groupby(["cluster", "office"], as_index=False)["cases"].sum()
    totals = per_office.groupby("office")["cases"].sum().sort_values(ascending=False)
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "x": _ints(rows["cases"]),
            "y": plot_texts(rows["office"]),
            "name": plot_text(cluster),
            "marker": {"color": CLUSTER_COLOURS[i % len(CLUSTER_COLOURS)]},
            "hovertemplate": "%{y} (%{fullData.name})<br>%{x:,} cases<extra></extra>",
        }
        for i, (cluster, rows) in enumerate(per_office.groupby("cluster", sort=True))
    ]
    return _figure(
        data,
        x=_whole_numbers(int(totals.max())),
        y=_rows_axis(
            len(totals),
            categoryorder="array",
            categoryarray=plot_texts(totals.index),
        ),
        barmode="stack",
        bargap=0.25,
    )


def ticket_status_figure(by_status: pd.DataFrame) -> Figure:
    """Tickets created in the period, per status in workflow order."""
    if by_status.empty or int(by_status["tickets"].sum()) == 0:
        return empty_figure("No tickets created in this period")
    return _status_bars(by_status.set_index("status")["tickets"], TICKET_STATUSES, "tickets")


# --- text alternatives: every chart can be read as a table ---------------------------------


def loading_figure() -> Figure:
    """What a chart shows before its first answer: a placeholder, never empty axes."""
    return empty_figure("Loading…")


def table_id(graph_id: str) -> str:
    """The id of the "View as table" block of a chart (its children come with the figure)."""
    return f"{graph_id}-table"


def _label(value: Any) -> str:
    return html.unescape(str(value)).replace("<br>", " ")


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1%}" if 0 <= value <= 1 and not value.is_integer() else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def figure_rows(fig: Figure | Any) -> tuple[list[str], list[list[str]]]:
    """(header, rows) holding what a figure draws, category by category: one column per
    trace for bars and lines, one per column of a heatmap. Pure, so tests read it too."""
    if not isinstance(fig, dict):  # a plotly Figure (reports)
        fig = fig.to_plotly_json()
    traces = [t for t in fig.get("data", []) if isinstance(t, dict)]
    if not traces:
        return [], []
    first = traces[0]
    if first.get("type") == "heatmap":
        header = [""] + [_label(x) for x in first.get("x", [])]
        rows = [
            [_label(y)] + [_number(v) for v in values]
            for y, values in zip(first.get("y", []), first.get("z", []), strict=False)
        ]
        return header, rows
    horizontal = first.get("orientation") == "h"
    cats_key, values_key = ("y", "x") if horizontal else ("x", "y")
    categories: list[Any] = []
    for trace in traces:
        for cat in trace.get(cats_key) or []:
            if cat not in categories:
                categories.append(cat)
    header = [""] + [_label(t.get("name") or "Value") for t in traces]
    rows = []
    for cat in categories:
        row = [_label(cat)]
        for trace in traces:
            values = dict(zip(trace.get(cats_key) or [], trace.get(values_key) or [], strict=False))
            value = values.get(cat)
            row.append("" if value is None else _number(value))
        rows.append(row)
    return header, rows


def figure_table(fig: Figure | Any, caption: str) -> list:
    """The children of a chart's "View as table" block: the figure's numbers as a table, or
    the chart's own message when there is nothing to draw."""
    header, rows = figure_rows(fig)
    if not rows:
        notes = (fig if isinstance(fig, dict) else {}).get("layout", {}).get("annotations") or []
        return [
            html_.P(_label(notes[0]["text"]) if notes else "Nothing to show.", className="mb-0")
        ]
    return [
        html_.Table(
            [
                html_.Caption(caption, className="visually-hidden"),
                html_.Thead(html_.Tr([html_.Th(h, scope="col") for h in header])),
                html_.Tbody(
                    [
                        html_.Tr([html_.Th(row[0], scope="row"), *(html_.Td(v) for v in row[1:])])
                        for row in rows
                    ]
                ),
            ],
            className="table table-sm chart-table mb-0",
        )
    ]


def chart_card(graph_id: str, title: str, hint: str, graph: Any, *, table: bool = True) -> Any:
    """A chart in a card with its title, a hint and (for keyboard and screen-reader users)
    a "View as table" disclosure whose table the page's callback fills with the figure
    (`figure_table`). One helper for every chart of the app."""
    import dash_bootstrap_components as dbc

    header = [
        html_.Span(title, className="chart-title", id=f"{graph_id}-title"),
        html_.Span(hint, className="chart-hint", id=f"{graph_id}-hint"),
    ]
    body = [html_.Div(graph, role="img", **{"aria-label": title})]
    if table:
        body.append(
            html_.Details(
                [
                    html_.Summary("View as table", className="chart-table-toggle"),
                    html_.Div(id=table_id(graph_id), className="chart-table-wrap"),
                ],
                className="chart-details",
            )
        )
    return dbc.Card(
        [dbc.CardHeader(header, className="chart-header"), dbc.CardBody(body, className="p-2")],
        className="chart-card h-100",
    )
