"""Callbacks of the SMS page: the paged table, or an explanation when no SMS exist yet."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, callback, html

from callbacks._table import refresh_on
from callbacks.calls import number_text
from models.calls import CallFilters, has_sms, sms_page
from models.db import session_scope
from models.params import as_text
from pages._calls_ids import (
    DIRECTION_LABELS,
    SMS,
    SMS_BODY,
    SMS_COUNT,
    SMS_EMPTY,
    SMS_SEARCH,
    SMS_TABLE,
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
    Input(SMS_TABLE, "getRowsRequest"),
    State(SMS_SEARCH, "value"),
    prevent_initial_call=True,
)
def update_sms(request, search):
    """One block of messages for the grid, or the explanation when no SMS exist at all."""
    viewer = current_viewer()
    page, size, sort, descending = read_rows_request(request)
    filters = CallFilters(
        search=as_text(search, max_length=100).strip(), sort=sort, descending=descending
    )
    with session_scope() as db:
        result = sms_page(db, viewer, filters, page=page, page_size=size)
        empty = result.total == 0 and not filters.search and not has_sms(db, viewer)
    if empty:
        return rows_response([], 0), "", no_sms_yet(), "records-card d-none"
    return (
        rows_response(sms_rows(result.rows), result.total),
        count_text(result.total, "messages"),
        None,
        "records-card",
    )


refresh_on(SMS, Input(SMS_SEARCH, "value"))
