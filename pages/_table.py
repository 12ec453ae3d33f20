"""The one record table: a dash-ag-grid on the infinite row model, paged, sorted and searched
on the server, with an optional CSV link.

How a page uses it:

- Layout: `record_grid(prefix, columns)`. A column is `(key, label)` or `(key, label,
  options)`; options are AG Grid column settings (`width`, `minWidth`, `sortable`,
  `cellClass`, `type="rightAligned"`, …) plus `priority`: 1 (the default) is always shown,
  2 is hidden when the grid is narrower than 640 px and 3 when narrower than 960 px, so a
  phone keeps the key columns (time, status, the action) instead of scrolling them away.
  Cells show text only; a link column is `{"cellRenderer": "markdown"}` over `link_cell`.
- Callbacks: the grid asks for a block of rows through its `getRowsRequest` prop (on first
  draw, on paging, on a header click). The page's server callback takes
  `Input(table_id(prefix), "getRowsRequest")` and the filters as `State`, turns the request
  into a page with `read_rows_request`, calls a query built on `models.paging.fetch_page`,
  and answers `Output(table_id(prefix), "getRowsResponse")` with `rows_response(rows, total)`
  (and the count text, export link, URL as further outputs). Give that callback
  `prevent_initial_call=True`: the grid sets `getRowsRequest` itself once it is drawn.
- When a filter or the search box changes, the grid must drop its cached blocks and ask
  again from the first page: `callbacks._table.refresh_on(prefix, Input(...), ...)` registers
  the clientside callback that does it (assets/table.js); the new request then reads the new
  filter values as State. Nothing else runs on the server for a filter change.

Forged requests are harmless: `read_rows_request` clamps offsets and sizes, and sort columns
are whitelisted by the query (`models.paging.page_order`).
"""

from __future__ import annotations

import html as html_escape
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from models.paging import MAX_PAGE_SIZE
from models.params import int_or_none

#: Widths (px) of the grid below which columns of priority 2 and 3 are hidden.
PRIORITY_WIDTHS = {2: 640, 3: 960}

Column = tuple[str, str] | tuple[str, str, dict[str, Any]]


def table_id(prefix: str) -> str:
    return f"{prefix}-table"


def search_id(prefix: str) -> str:
    return f"{prefix}-search"


def count_id(prefix: str) -> str:
    return f"{prefix}-count"


def export_id(prefix: str) -> str:
    return f"{prefix}-export"


def refresh_id(prefix: str) -> str:
    return f"{prefix}-refresh"


def column_defs(columns: list[Column]) -> list[dict[str, Any]]:
    """AG Grid column definitions; `priority` travels in the column's context for table.js."""
    defs = []
    for column in columns:
        key, label = column[0], column[1]
        options = dict(column[2]) if len(column) > 2 else {}  # type: ignore[misc]
        priority = int(options.pop("priority", 1))
        defs.append(
            {
                "field": key,
                "headerName": label,
                "context": {"priority": priority},
                **options,
            }
        )
    return defs


def record_grid(
    prefix: str,
    columns: list[Column],
    *,
    page_size: int = 25,
    export: bool = True,
    search: bool = True,
    search_placeholder: str = "Search…",
    sort: tuple[str, bool] | None = None,
    label: str = "Records",
    grid_options: dict[str, Any] | None = None,
    get_row_id: str | None = None,
) -> html.Div:
    """A search box, a count, a CSV link and a server-side paged grid.

    `sort` is the initial (column, descending) shown in the header, e.g. from the URL;
    `label` names the grid for screen readers; `grid_options` adds AG Grid options (row
    selection, say) and `get_row_id` an expression such as `"params.data.id"` that keeps a
    row's identity across refreshes.
    """
    toolbar = html.Div(
        [
            html.Label(search_placeholder, htmlFor=search_id(prefix), className="visually-hidden")
            if search
            else None,
            dbc.Input(
                id=search_id(prefix),
                type="search",
                placeholder=search_placeholder,
                debounce=True,
                className="table-search",
                maxLength=100,
            )
            if search
            else None,
            html.Span(id=count_id(prefix), className="table-count small ms-2", role="status"),
            dbc.Button(
                [html.I(className="bi bi-download me-1", **{"aria-hidden": "true"}), "Export CSV"],
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
    defs = column_defs(columns)
    if sort is not None:
        for col in defs:
            if col["field"] == sort[0]:
                col["sort"] = "desc" if sort[1] else "asc"
    grid = dag.AgGrid(
        id=table_id(prefix),
        rowModelType="infinite",
        columnDefs=defs,
        defaultColDef={
            "sortable": True,
            "resizable": True,
            "suppressMovable": True,
            "minWidth": 90,
            "tooltipValueGetter": {"function": "params.value"},
        },
        columnSize="responsiveSizeToFit",
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": page_size,
            "paginationPageSizeSelector": False,
            "cacheBlockSize": page_size,
            "maxBlocksInCache": 4,
            "infiniteInitialRowCount": page_size,
            "maxConcurrentDatasourceRequests": 1,
            "domLayout": "autoHeight",
            "ensureDomOrder": True,
            "enableCellTextSelection": True,
            "suppressMultiSort": True,
            "rowHeight": 38,
            "headerHeight": 40,
            "tooltipShowDelay": 600,
            **(grid_options or {}),
        },
        eventListeners={"gridSizeChanged": ["syncboardFitColumns(params)"]},
        className="ag-theme-quartz record-grid",
        style={"width": "100%"},
        **({"getRowId": get_row_id} if get_row_id else {}),
    )
    return html.Div(
        [
            toolbar,
            dcc.Store(id=refresh_id(prefix)),
            html.Div(grid, role="region", **{"aria-label": label}),
        ],
        className="record-table",
    )


def read_rows_request(request: Any) -> tuple[int, int, str | None, bool]:
    """(page, page_size, sort column, descending) from the grid's `getRowsRequest`, typed.

    The grid asks for whole blocks (startRow a multiple of the block size); a forged request
    with odd bounds, a huge size or a negative offset becomes the nearest honest page."""
    request = request if isinstance(request, dict) else {}
    start = int_or_none(request.get("startRow"), low=0) or 0
    end = int_or_none(request.get("endRow"), low=0)
    size = 25 if end is None or end <= start else min(end - start, MAX_PAGE_SIZE)
    sort, descending = None, False
    model = request.get("sortModel")
    if isinstance(model, list) and model and isinstance(model[0], dict):
        sort = str(model[0].get("colId") or "")[:100] or None
        descending = model[0].get("sort") == "desc"
    return start // size, size, sort, descending


def rows_response(rows: list[dict[str, Any]], total: int) -> dict[str, Any]:
    """What the grid takes as the answer to one `getRowsRequest`."""
    return {"rowData": rows, "rowCount": total}


def link_cell(text: str, href: str) -> str:
    """Markdown for a `cellRenderer: "markdown"` column: a link whose text cannot inject
    markdown or HTML (the renderer does not allow raw HTML)."""
    safe = html_escape.escape(str(text)).replace("[", "\\[").replace("]", "\\]")
    return f"[{safe}]({href.replace(')', '%29').replace(' ', '%20')})"


def count_text(total: int, noun: str = "records") -> str:
    return f"{total:,} {noun}" if total else f"No {noun} match"
