"""Callbacks of the overview page: KPI cards from SQL aggregates."""

from __future__ import annotations

from datetime import timedelta

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html

from models.base import utcnow
from models.db import session_scope
from models.kpis import CallKpis, call_kpis
from pages._overview_ids import CARDS, RANGE
from web.viewer import current_viewer


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def kpi_cards(kpis: CallKpis) -> list:
    """Cards for the KPIs; a pure function so tests can check what a person reads."""
    rate = f"{kpis.answer_rate:.1%}" if kpis.answer_rate is not None else "—"
    items = [
        ("kpi-total", "Total calls", f"{kpis.total:,}", "telephone"),
        ("kpi-answer-rate", "Answer rate", rate, "check2-circle"),
        ("kpi-aht", "Average handle time", _duration(kpis.average_handle_time), "stopwatch"),
    ]
    return [
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(
                        [html.I(className=f"bi bi-{icon} me-2"), label], className="kpi-label"
                    ),
                    html.Div(value, className="kpi-value", id=f"{cid}-value"),
                ]
            ),
            className="kpi-card",
            id=cid,
        )
        for cid, label, value, icon in items
    ]


@callback(Output(CARDS, "children"), Input(RANGE, "value"))
def update_cards(days):
    viewer = current_viewer()
    days = int(days) if str(days).isdigit() and 0 < int(days) <= 366 else 30
    now = utcnow()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    with session_scope() as db:
        kpis = call_kpis(db, viewer, start=start, end=now + timedelta(seconds=1))
    return kpi_cards(kpis)
