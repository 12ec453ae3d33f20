"""The record grid's request parsing: what a forged `getRowsRequest` can and cannot ask for."""

from __future__ import annotations

import pytest

from models.paging import MAX_PAGE_SIZE
from pages._table import column_defs, link_cell, read_rows_request, record_grid, rows_response


def test_a_block_request_becomes_its_page_and_sort() -> None:
    request = {"startRow": 50, "endRow": 75, "sortModel": [{"colId": "time", "sort": "desc"}]}
    assert read_rows_request(request) == (2, 25, "time", True)
    assert read_rows_request({"startRow": 0, "endRow": 25, "sortModel": []}) == (0, 25, None, False)


@pytest.mark.parametrize(
    "request_",
    [
        None,
        "x",
        [],
        {"startRow": -50, "endRow": -25},
        {"startRow": "a", "endRow": {"$gt": 1}},
        {"startRow": 10**30, "endRow": 10**31},
        {"sortModel": "time"},
        {"sortModel": [None]},
    ],
)
def test_forged_requests_become_honest_pages(request_) -> None:
    page, size, sort, _descending = read_rows_request(request_)
    assert page >= 0 and 1 <= size <= MAX_PAGE_SIZE
    assert sort is None or isinstance(sort, str)


def test_a_huge_block_is_capped() -> None:
    page, size, _sort, _desc = read_rows_request({"startRow": 0, "endRow": 10**9})
    assert (page, size) == (0, MAX_PAGE_SIZE)


def test_sort_column_names_are_bounded() -> None:
    _p, _s, sort, _d = read_rows_request({"sortModel": [{"colId": "x" * 5000, "sort": "asc"}]})
    assert sort is not None and len(sort) == 100


def test_priorities_travel_in_the_column_context() -> None:
    defs = column_defs([("time", "Time"), ("agent", "Agent", {"priority": 3, "width": 120})])
    assert defs[0] == {"field": "time", "headerName": "Time", "context": {"priority": 1}}
    assert defs[1]["context"] == {"priority": 3} and defs[1]["width"] == 120
    assert "priority" not in defs[1]


def test_initial_sort_is_shown_in_the_header() -> None:
    block = record_grid("t", [("time", "Time"), ("agent", "Agent")], sort=("agent", True))
    grid = block.children[2].children
    assert [c.get("sort") for c in grid.columnDefs] == [None, "desc"]
    assert grid.rowModelType == "infinite"


def test_rows_response_and_link_cells() -> None:
    assert rows_response([{"a": 1}], 7) == {"rowData": [{"a": 1}], "rowCount": 7}
    assert link_cell("<b>[x]</b>", "/calls?a=1 b") == "[&lt;b&gt;\\[x\\]&lt;/b&gt;](/calls?a=1%20b)"
