"""One sync run: status, counters, performance, options and command, errors, debug log, retry."""

import dash
from dash import dcc, html

from pages._loading import skeleton_block, skeleton_cards
from pages._shell import page_guard
from pages._sources_ids import RUN_BODY, RUN_ID, RUN_LOCATION, RUN_MESSAGE, RUN_RETRY
from pages._sync_modal import sync_console

dash.register_page(
    __name__,
    path_template="/syncs/<run_id>",
    name="Sync run",
    order=64,
    min_role="agent",
    in_nav=False,
)


def layout(run_id=None, **_kwargs):
    refusal = page_guard("agent")
    if refusal is not None:
        return refusal
    return html.Div(
        [
            dcc.Store(id=RUN_ID, data=str(run_id or "")[:20]),
            dcc.Location(id=RUN_LOCATION, refresh="callback-nav"),
            html.Nav(
                html.A(
                    [html.I(className="bi bi-chevron-left me-1"), "Sync history"],
                    href=dash.get_relative_path("/syncs"),
                ),
                className="small mb-2",
            ),
            html.Div(id=RUN_MESSAGE),
            # The run's shape until its first render (pages/_loading.py).
            html.Div([skeleton_cards(5), skeleton_block("14rem")], id=RUN_BODY),
            sync_console(),
        ],
        className="console-page",
    )


def drawn_by_callbacks() -> list:
    """The retry button appears only on a run that may be retried."""
    return [html.Button(id=RUN_RETRY)]
