"""Overview: the KPI cards of the current organisation."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from pages._overview_ids import CARDS, RANGE, RANGES
from pages._shell import page_guard

dash.register_page(
    __name__, path="/", name="Overview", order=0, icon="speedometer2", min_role="agent"
)


def layout(**_kwargs):
    refusal = page_guard("agent")
    if refusal is not None:
        return refusal
    return html.Div(
        [
            html.Div(
                [
                    html.H1("Overview", className="h3 mb-0"),
                    dbc.RadioItems(
                        id=RANGE,
                        options=[{"label": label, "value": days} for days, label in RANGES],
                        value=30,
                        inline=True,
                        className="btn-group range-picker",
                        inputClassName="btn-check",
                        labelClassName="btn btn-outline-primary btn-sm",
                        labelCheckedClassName="active",
                    ),
                ],
                className="d-flex flex-wrap justify-content-between align-items-center gap-2 mb-3",
            ),
            dcc.Loading(html.Div(id=CARDS, className="kpi-grid"), type="dot", delay_show=300),
        ]
    )
