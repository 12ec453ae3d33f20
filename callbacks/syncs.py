"""Callbacks of the sync history page: filter choices, and the record grid's blocks of runs
(filtered, sorted and paged in SQL), kept live while a run on the shown page is active."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    dcc,
    no_update,
)

from callbacks._table import refresh_on
from connectors.catalog import connector_facts
from models.db import session_scope
from models.params import date_or_none
from models.run_views import history_filters, history_page
from pages._sources_ids import (
    STATUSES,
    SYNCS_ACTIVE,
    SYNCS_CONNECTION,
    SYNCS_FROM,
    SYNCS_LIVE,
    SYNCS_PREFIX,
    SYNCS_STATUS,
    SYNCS_STREAM,
    SYNCS_TO,
    SYNCS_WATCH,
)
from pages._sync_modal import FINISHED, RUNWATCH, WATCH_INTERVAL
from pages._syncs_view import active_on_page, history_rows
from pages._table import count_id, read_rows_request, rows_response, table_id
from web.viewer import current_viewer

FILTERS = (SYNCS_CONNECTION, SYNCS_STREAM, SYNCS_STATUS, SYNCS_FROM, SYNCS_TO)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def history_query(connection, stream, status, start_date, end_date) -> dict[str, Any]:
    """The filters as `history_page` takes them; anything forged becomes "no filter" or,
    for a connection id that cannot exist, no runs at all."""
    start, end = date_or_none(start_date), date_or_none(end_date)
    return dict(
        # passed as sent: history_page treats an id that cannot exist as "no runs"
        connection_id=connection if connection not in (None, "") else None,
        stream=str(stream)[:100] if stream and isinstance(stream, str) else None,
        status=status if status in STATUSES else None,
        start=_midnight(start) if start else None,
        end=_midnight(end + timedelta(days=1)) if end else None,
    )


def run_count_text(total: int) -> str:
    return f"{total:,} run{'s' if total != 1 else ''}" if total else "No runs match"


@callback(
    Output(SYNCS_CONNECTION, "options"),
    Output(SYNCS_STREAM, "options"),
    Input(SYNCS_CONNECTION, "id"),
)
def filter_options(_id):
    viewer = current_viewer()
    with session_scope() as db:
        choices = history_filters(db, viewer, catalogue=connector_facts())
    return (
        [{"label": name, "value": cid} for cid, name in choices["connections"]],
        [{"label": name, "value": name} for name in choices["streams"]],
    )


@callback(
    Output(table_id(SYNCS_PREFIX), "getRowsResponse"),
    Output(count_id(SYNCS_PREFIX), "children"),
    Output(SYNCS_WATCH, "children"),
    Output(SYNCS_ACTIVE, "data"),
    Input(table_id(SYNCS_PREFIX), "getRowsRequest"),
    State(SYNCS_CONNECTION, "value"),
    State(SYNCS_STREAM, "value"),
    State(SYNCS_STATUS, "value"),
    State(SYNCS_FROM, "value"),
    State(SYNCS_TO, "value"),
    State(SYNCS_ACTIVE, "data"),
    prevent_initial_call=True,
)
def history(request, connection, stream, status, start_date, end_date, watched):
    """One block of the viewer's runs for the grid, and the poll's seeds for the runs still
    queued or running in it (left alone when they are the ones already watched)."""
    viewer = current_viewer()
    page, size, sort, descending = read_rows_request(request)
    query = history_query(connection, stream, status, start_date, end_date)
    with session_scope() as db:
        result = history_page(
            db, viewer, sort=sort, descending=descending, page=page, page_size=size, **query
        )
    active = active_on_page(result.rows)
    seeds: Any = no_update
    if active != watched:
        seeds = [dcc.Store(id={"type": RUNWATCH, "run": rid}, data=st) for rid, st in active]
    return (
        rows_response(history_rows(result.rows), result.total),
        run_count_text(result.total),
        seeds,
        active if active != watched else no_update,
    )


# A filter change drops the grid's blocks and asks again from the first page.
refresh_on(SYNCS_PREFIX, *(Input(f, "value") for f in FILTERS))

# While a run on the page is active, every poll tick (and the end of a run) reloads the
# grid's blocks in place: the page and the sort stay, the figures move (assets/syncs.js).
clientside_callback(
    ClientsideFunction(namespace="syncboardSyncs", function_name="refreshRows"),
    Output(SYNCS_LIVE, "data"),
    Input(WATCH_INTERVAL, "n_intervals"),
    Input(FINISHED, "data"),
    prevent_initial_call=True,
)
