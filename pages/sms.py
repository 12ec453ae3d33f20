"""SMS: the text messages on the numbers the viewer may see, paged and searchable."""

import dash
import dash_bootstrap_components as dbc
from dash import html

from pages._calls_ids import (
    SMS,
    SMS_BODY,
    SMS_COLUMNS,
    SMS_EMPTY,
    SMS_PAGE_SIZE,
    SMS_ROOT,
)
from pages._shell import page_guard
from pages._table import record_grid

dash.register_page(
    __name__, path="/sms", name="SMS", order=12, icon="chat-left-text", min_role="agent"
)


def layout(**_kwargs):
    refusal = page_guard("agent")
    if refusal is not None:
        return refusal
    block = record_grid(
        SMS,
        SMS_COLUMNS,
        page_size=SMS_PAGE_SIZE,
        export=False,
        search_placeholder="Search number or message…",
        label="Text messages",
    )
    return html.Div(
        [
            html.Div(
                [
                    html.H1("SMS", className="h3 mb-0"),
                    html.Div(
                        "Text messages, newest first. Times are UTC.", className="text-muted small"
                    ),
                ],
                className="mb-3",
            ),
            html.Div(id=SMS_EMPTY),
            dbc.Card(dbc.CardBody(block), id=SMS_BODY, className="records-card"),
        ],
        id=SMS_ROOT,
        className="records-page",
    )
