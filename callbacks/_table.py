"""Callbacks shared by every record grid (pages/_table.py); page callback modules call these."""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, clientside_callback

from pages._table import refresh_id


def refresh_on(prefix: str, *inputs: Input) -> None:
    """When any of `inputs` (filters, the search box) changes, the grid drops its cached
    blocks and asks again from its first page (assets/table.js); the server callback that
    answers `getRowsRequest` reads the filters as State, so one request serves the change."""
    clientside_callback(
        ClientsideFunction(namespace="syncboardTable", function_name="refresh"),
        Output(refresh_id(prefix), "data"),
        *inputs,
        prevent_initial_call=True,
    )
