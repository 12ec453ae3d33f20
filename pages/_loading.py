"""Loading placeholders for a page's first render: grey shapes where content will come.

The frame already covers two moments for every page (assets/syncboard.css):
- before the app has drawn anything, and while the page router fetches a page's layout, the
  body shows a skeleton of the frame, so the page is never blank;
- while a callback recomputes something, the element it writes (`data-dash-is-loading`) dims
  after 0.4 s, and a card holding it shows a small spinner; with reduced motion the spinner
  stands still. Nothing to add on a page for that.

What a page adds itself is the shape of its own content until its first callback fills it:
put these in the layout's output containers (the callback's answer replaces them), e.g.

    html.Div(skeleton_cards(6), id=KPI_CARDS)
    dcc.Graph(...) -> html.Div(skeleton_block("18rem"), id=CHART_BOX)
    html.Div(skeleton_table(8), id=TABLE_BOX)

Each placeholder says "Loading…" to screen readers once (role=status) and hides its shapes
from them. Placeholders take no data and work with no request, as layouts must.
"""

from __future__ import annotations

from dash import html

LOADING_TEXT = "Loading…"


def _status(children: list, class_name: str) -> html.Div:
    return html.Div(
        [html.Span(LOADING_TEXT, className="visually-hidden"), *children],
        className=f"sb-skeleton {class_name}",
        role="status",
    )


def _bar(class_name: str = "", width: str | None = None, height: str | None = None) -> html.Div:
    style = {k: v for k, v in (("width", width), ("height", height)) if v}
    return html.Div(
        className=f"sb-skel-bar {class_name}".strip(),
        style=style or None,
        **{"aria-hidden": "true"},
    )


def skeleton_cards(n: int = 4) -> html.Div:
    """`n` KPI-card shapes in the frame's `.kpi-grid` (label, value, note)."""
    cards = [
        html.Div(
            [_bar(width="55%"), _bar("sb-skel-value", width="40%"), _bar(width="70%")],
            className="card kpi-card sb-skel-card",
            **{"aria-hidden": "true"},
        )
        for _ in range(max(1, n))
    ]
    return _status([html.Div(cards, className="kpi-grid")], "sb-skeleton-cards")


def skeleton_block(height: str = "16rem") -> html.Div:
    """One card-sized block, e.g. where a chart or a form will be (`height` in CSS units)."""
    return _status([_bar("sb-skel-block", height=height)], "sb-skeleton-block")


def skeleton_lines(n: int = 3) -> html.Div:
    """`n` lines of text of varying length."""
    widths = ("90%", "75%", "82%", "60%", "70%")
    return _status([_bar(width=widths[i % len(widths)]) for i in range(max(1, n))], "sb-skel-lines")


def skeleton_table(rows: int = 8) -> html.Div:
    """A table's header and `rows` rows."""
    lines = [_bar("sb-skel-head")] + [_bar("sb-skel-row") for _ in range(max(1, rows))]
    return _status(lines, "sb-skeleton-table card")
