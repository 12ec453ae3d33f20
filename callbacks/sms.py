"""Callbacks of the SMS page: the paged table, the URL of its filters, or an explanation when
no SMS exist yet."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    html,
    no_update,
)

from callbacks._dates import date_feedback_on
from callbacks._table import refresh_on
from callbacks.calls import number_text
from models.calls import CallFilters, FilterError, has_sms, sms_page
from models.db import session_scope
from pages._calls_ids import (
    DIRECTION_LABELS,
    SMS,
    SMS_BODY,
    SMS_COUNT,
    SMS_DATES,
    SMS_DATES_FROM,
    SMS_DATES_TO,
    SMS_EMPTY,
    SMS_RESET,
    SMS_SEARCH,
    SMS_TABLE,
    SMS_URL,
)
from pages._table import count_text, read_rows_request, rows_response
from web.viewer import current_viewer


def sms_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": r["id"],
            "time": r["sent_at"].strftime("%Y-%m-%d %H:%M"),
            "number": number_text(r["number_label"], r["number"]),
            "direction": DIRECTION_LABELS.get(r["direction"], r["direction"]),
            "from": r["from_number"],
            "to": r["to_number"],
            "body": r["body"],
        }
        for r in rows
    ]


def no_sms_yet() -> html.Div:
    return html.Div(
        [
            html.I(className="bi bi-chat-left-dots empty-icon"),
            html.H2("No text messages yet", className="h5 mt-2"),
            html.P(
                "None of the connected systems brings SMS yet. When a connector syncs "
                "text messages, they appear here.",
                className="text-muted mb-0",
            ),
        ],
        className="empty-state records-empty",
        id="sms-empty-state",
    )


@callback(
    Output(SMS_TABLE, "getRowsResponse"),
    Output(SMS_COUNT, "children"),
    Output(SMS_EMPTY, "children"),
    Output(SMS_BODY, "className"),
    Output(SMS_URL, "search"),
    Input(SMS_TABLE, "getRowsRequest"),
    State(SMS_SEARCH, "value"),
    State(SMS_DATES_FROM, "value"),
    State(SMS_DATES_TO, "value"),
    prevent_initial_call=True,
)
def update_sms(request, search, start, end):
    """One block of messages for the grid with the URL of its filters, or the explanation
    when no SMS exist at all."""
    viewer = current_viewer()
    page, size, sort, descending = read_rows_request(request)
    raw = {"q": search, "from": start or None, "to": end or None}
    problem = None
    try:
        asked = CallFilters.from_params(raw).for_sms()
    except FilterError as exc:
        # What can be used still shows (the note beside the inputs says what is wrong): a
        # zero-row answer to a typo can leave the grid waiting (see callbacks/calls.py).
        asked, problem = CallFilters.from_params(raw, strict=False).for_sms(), str(exc)
    filters = replace(asked, sort=sort, descending=descending)
    with session_scope() as db:
        result = sms_page(db, viewer, filters, page=page, page_size=size)
        empty = result.total == 0 and not has_sms(db, viewer)
    query = asked.to_params()
    search_text = no_update if problem else "?" + urlencode(query) if query else ""
    if empty:
        return rows_response([], 0), "", no_sms_yet(), "records-card d-none", search_text
    return (
        rows_response(sms_rows(result.rows), result.total),
        problem or count_text(result.total, "messages"),
        None,
        "records-card",
        search_text,
    )


refresh_on(
    SMS,
    Input(SMS_SEARCH, "value"),
    Input(SMS_DATES_FROM, "value"),
    Input(SMS_DATES_TO, "value"),
)
date_feedback_on(SMS_DATES)

# The address bar shows the filters used (a corrected URL is replaced, not pushed).
clientside_callback(
    ClientsideFunction(namespace="syncboardUrl", function_name="replaceSearch"),
    Output(SMS_URL, "href"),
    Input(SMS_URL, "search"),
)


@callback(
    Output(SMS_SEARCH, "value"),
    Output(SMS_DATES_FROM, "value"),
    Output(SMS_DATES_TO, "value"),
    Input(SMS_RESET, "n_clicks"),
    prevent_initial_call=True,
)
def clear_sms_filters(_clicks):
    return "", None, None
