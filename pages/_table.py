"""The one record table: server-side paging, sorting and search, with an optional CSV link.

Pages build it with `record_table(prefix, columns)`; their callbacks read
`page_current`, `page_size`, `sort_by` and the search box, call a query that uses
`models.paging.fetch_page`, and return `data`, `page_count` and the count text.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html

from models.paging import MAX_PAGE_SIZE
from models.params import int_or_none


def table_id(prefix: str) -> str:
    return f"{prefix}-table"


def search_id(prefix: str) -> str:
    return f"{prefix}-search"


def count_id(prefix: str) -> str:
    return f"{prefix}-count"


def export_id(prefix: str) -> str:
    return f"{prefix}-export"


def record_table(
    prefix: str,
    columns: list[tuple[str, str]],
    *,
    page_size: int = 25,
    export: bool = True,
    search_placeholder: str = "Search…",
) -> html.Div:
    """A search box, a count, a CSV link and a server-side paged DataTable."""
    toolbar = html.Div(
        [
            html.Label(search_placeholder, htmlFor=search_id(prefix), className="visually-hidden"),
            dbc.Input(
                id=search_id(prefix),
                type="search",
                placeholder=search_placeholder,
                debounce=True,
                className="table-search",
            ),
            html.Span(id=count_id(prefix), className="text-muted small ms-2"),
            dbc.Button(
                [html.I(className="bi bi-download me-1"), "Export CSV"],
                id=export_id(prefix),
                href="",
                external_link=True,
                color="secondary",
                outline=True,
                size="sm",
                className="ms-auto",
            )
            if export
            else None,
        ],
        className="d-flex align-items-center gap-2 mb-2 flex-wrap",
    )
    table = dash_table.DataTable(
        id=table_id(prefix),
        columns=[{"name": label, "id": key} for key, label in columns],
        data=[],
        page_action="custom",
        page_current=0,
        page_size=page_size,
        page_count=1,
        sort_action="custom",
        sort_mode="single",
        sort_by=[],
        style_as_list_view=True,
        style_table={"overflowX": "auto"},
        style_header={"fontWeight": "600", "backgroundColor": "#f8f9fa"},
        style_cell={
            "textAlign": "left",
            "padding": "6px 8px",
            "fontFamily": "var(--bs-body-font-family)",
            "fontSize": "0.9rem",
        },
        cell_selectable=False,
    )
    return html.Div(
        [toolbar, dcc.Loading(table, type="dot", delay_show=300)], className="record-table"
    )


def read_request(
    page_current: Any, page_size: Any, sort_by: Any
) -> tuple[int, int, str | None, bool]:
    """(page, page_size, sort column, descending) from the table's props, typed; a forged
    value falls back to the first page of 25 (a page past the end is the query's business)."""
    page = int_or_none(page_current) or 0
    size = int_or_none(page_size, low=1, high=MAX_PAGE_SIZE) or 25
    sort, descending = None, False
    if isinstance(sort_by, list) and sort_by and isinstance(sort_by[0], dict):
        sort = str(sort_by[0].get("column_id") or "") or None
        descending = sort_by[0].get("direction") == "desc"
    return page, size, sort, descending


def count_text(total: int, noun: str = "records") -> str:
    return f"{total:,} {noun}" if total else f"No {noun} match"
