"""A stream of a source: its latest run, recent record errors, and the records we hold."""

import dash
from dash import dcc, html

from pages._loading import skeleton_block, skeleton_lines, skeleton_table
from pages._shell import page_guard
from pages._sources_ids import (
    STREAM_ERRORS,
    STREAM_HEADER,
    STREAM_KEY,
    STREAM_RECORDS,
    STREAM_SUMMARY,
    STREAM_TABLE_PREFIX,
)
from pages._sync_modal import sync_console
from pages._table import record_grid

# Ordered before the source page: Dash matches "/sources/<source_id>" with a wildcard that
# would also swallow "/sources/1/contacts".
dash.register_page(
    __name__,
    path_template="/sources/<source_id>/<stream>",
    name="Stream",
    order=62,
    min_role="agent",
    in_nav=False,
)


def layout(source_id=None, stream=None, **_kwargs):
    refusal = page_guard("agent")
    if refusal is not None:
        return refusal
    key = {"source": str(source_id or "")[:20], "stream": str(stream or "")[:100]}
    return html.Div(
        [
            dcc.Store(id=STREAM_KEY, data=key),
            html.Nav(id="stream-breadcrumb", className="small mb-2"),
            # Shapes of what the callbacks draw, until they do (pages/_loading.py).
            html.Div(skeleton_lines(2), id=STREAM_HEADER, className="mb-3"),
            html.Div(
                [
                    html.Div(skeleton_block("9rem"), id=STREAM_SUMMARY, className="stream-summary"),
                    html.Div(skeleton_block("9rem"), id=STREAM_ERRORS, className="stream-errors"),
                ],
                className="stream-top mb-3",
            ),
            html.Div(skeleton_table(8), id=STREAM_RECORDS),
            sync_console(),
        ],
        className="console-page",
    )


def drawn_by_callbacks() -> list:
    """The records table is drawn once the stream's columns are known."""
    return [record_grid(STREAM_TABLE_PREFIX, [])]
