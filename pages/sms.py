"""SMS: the text messages on the numbers the viewer may see, paged, searched and filtered by
day from the URL (`?from=&to=&q=`, as on the calls page)."""

from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from models.calls import CallFilters
from pages._calls_ids import (
    SMS,
    SMS_BODY,
    SMS_COLUMNS,
    SMS_DATES,
    SMS_EMPTY,
    SMS_PAGE_SIZE,
    SMS_RESET,
    SMS_ROOT,
    SMS_SEARCH,
    SMS_URL,
    component,
)
from pages._dates import date_range
from pages._shell import page_guard
from pages._table import record_grid

dash.register_page(
    __name__, path="/sms", name="SMS", order=12, icon="chat-left-text", min_role="agent"
)


def layout(**kwargs):
    refusal = page_guard("agent")
    if refusal is not None:
        return refusal
    f, problems = CallFilters.from_url(kwargs)
    f = f.for_sms()
    query = f.to_params()
    block = record_grid(
        SMS,
        SMS_COLUMNS,
        page_size=SMS_PAGE_SIZE,
        export=False,
        search_placeholder="Search number or message…",
        label="Text messages",
    )
    component(block, SMS_SEARCH).value = f.search
    filters = html.Div(
        [
            date_range(SMS_DATES, f.start, f.end, label="Message dates", problems=problems),
            dbc.Button("Clear filters", id=SMS_RESET, color="link", size="sm", className="ms-auto"),
        ],
        className="records-filters px-0 pt-0",
    )
    return html.Div(
        [
            # What the page uses; assets/url.js puts it in the address bar.
            dcc.Location(id=SMS_URL, refresh=False, search="?" + urlencode(query) if query else ""),
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
            dbc.Card(dbc.CardBody([filters, block]), id=SMS_BODY, className="records-card"),
        ],
        id=SMS_ROOT,
        className="records-page",
    )
