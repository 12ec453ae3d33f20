"""Sources: a card per connection of the organisation, with health, and the add-connection form."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from connectors.catalog import catalog
from pages._loading import skeleton_cards
from pages._shell import page_guard, viewer_or_none
from pages._sources_ids import (
    ADD_BASE_URL,
    ADD_BASE_URL_FEEDBACK,
    ADD_CANCEL,
    ADD_CONNECTOR,
    ADD_DOCS,
    ADD_ERROR,
    ADD_FIELD,
    ADD_FIELD_FEEDBACK,
    ADD_FIELDS,
    ADD_FILE,
    ADD_FILE_NOTE,
    ADD_FILE_PATH,
    ADD_FILE_ROW,
    ADD_HINT,
    ADD_MODAL,
    ADD_NAME,
    ADD_NAME_FEEDBACK,
    ADD_OPEN,
    ADD_SAVE,
    ADD_SAVED,
    ADD_SCHEDULE,
    ADD_SCHEDULE_FEEDBACK,
    ADD_TEST,
    ADD_TEST_RESULT,
    SOURCES_GRID,
    SOURCES_MESSAGE,
    SOURCES_REFRESH,
    SOURCES_SEARCH,
)
from pages._sources_view import connector_fields
from pages._sync_modal import sync_console

dash.register_page(
    __name__, path="/sources", name="Sources", order=60, icon="plug", min_role="agent"
)


def _add_modal() -> dbc.Modal:
    connectors = catalog()
    choices = [{"label": cls.label, "value": cls.key} for cls in connectors]
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Add connection", id="sources-add-title")),
            dbc.ModalBody(
                [
                    html.Div(
                        [
                            dbc.Label("Connector", html_for=ADD_CONNECTOR),
                            dbc.Select(id=ADD_CONNECTOR, options=choices, value="demo"),
                            dbc.FormText(id=ADD_DOCS),
                        ],
                        className="mb-3",
                    ),
                    html.Div(
                        [
                            dbc.Label("Name", html_for=ADD_NAME),
                            dbc.Input(id=ADD_NAME, maxLength=200, placeholder="e.g. Main CRM"),
                            dbc.FormFeedback(id=ADD_NAME_FEEDBACK, type="invalid"),
                        ],
                        className="mb-3",
                    ),
                    html.Div(
                        [
                            dbc.Label("Base URL", html_for=ADD_BASE_URL),
                            dbc.Input(id=ADD_BASE_URL, type="url", maxLength=500),
                            dbc.FormFeedback(id=ADD_BASE_URL_FEEDBACK, type="invalid"),
                        ],
                        className="mb-3",
                    ),
                    html.Div(
                        [
                            dbc.Label(
                                "File (.csv or .xlsx, first row = headers)", html_for=ADD_FILE
                            ),
                            dcc.Upload(
                                html.Div(
                                    [
                                        html.I(className="bi bi-upload me-2"),
                                        "Drop a file here or click to choose",
                                    ]
                                ),
                                id=ADD_FILE,
                                className="upload-box",
                                multiple=False,
                                max_size=50 * 1024 * 1024,
                            ),
                            html.Div(id=ADD_FILE_NOTE, className="small mt-1"),
                            dcc.Store(id=ADD_FILE_PATH),
                        ],
                        id=ADD_FILE_ROW,
                        className="mb-3",
                        style={"display": "none"},
                    ),
                    # Every connector's declared settings; describe_connector shows one group.
                    *connector_fields(
                        connectors, group=ADD_FIELDS, field=ADD_FIELD, feedback=ADD_FIELD_FEEDBACK
                    ),
                    html.Div(
                        [
                            dbc.Label("Sync every N minutes (optional)", html_for=ADD_SCHEDULE),
                            dbc.Input(
                                id=ADD_SCHEDULE,
                                type="number",
                                min=1,
                                max=10080,
                                placeholder="No schedule",
                            ),
                            dbc.FormFeedback(id=ADD_SCHEDULE_FEEDBACK, type="invalid"),
                        ],
                        className="mb-3",
                    ),
                    # "Testing…" shows on the button itself while a test runs (10 s at most).
                    html.Div(id=ADD_TEST_RESULT, **{"aria-live": "polite"}),
                    html.Div(id=ADD_ERROR),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button(
                        [html.I(className="bi bi-plug me-1"), "Test connection"],
                        id=ADD_TEST,
                        color="secondary",
                        outline=True,
                        n_clicks=0,
                        className="me-auto",
                    ),
                    dbc.Button(
                        "Cancel", id=ADD_CANCEL, color="secondary", outline=True, n_clicks=0
                    ),
                    html.Div(id=ADD_HINT, className="small form-hint w-100 text-end order-last"),
                    dbc.Button("Save", id=ADD_SAVE, color="primary", n_clicks=0, disabled=True),
                ],
                class_name="flex-wrap",
            ),
        ],
        id=ADD_MODAL,
        is_open=False,
        labelledby="sources-add-title",
    )


def layout(**_kwargs):
    refusal = page_guard("agent")
    if refusal is not None:
        return refusal
    viewer = viewer_or_none()
    admin = viewer is not None and viewer.can_manage_syncs
    toolbar = html.Div(
        [
            html.H1("Sources", className="h3 mb-0 me-auto"),
            dbc.Label("Search sources", html_for=SOURCES_SEARCH, class_name="visually-hidden"),
            dbc.Input(
                id=SOURCES_SEARCH,
                type="search",
                placeholder="Search sources…",
                debounce=True,
                class_name="sources-search",
            ),
            dbc.Button(
                [html.I(className="bi bi-arrow-clockwise me-1"), "Refresh"],
                id=SOURCES_REFRESH,
                color="secondary",
                outline=True,
                n_clicks=0,
            ),
            dbc.Button(
                [html.I(className="bi bi-clock-history me-1"), "All syncs"],
                href=dash.get_relative_path("/syncs"),
                color="secondary",
                outline=True,
                id="sources-all-syncs",
            ),
            dbc.Button(
                [html.I(className="bi bi-plus-lg me-1"), "Add connection"],
                id=ADD_OPEN,
                color="primary",
                n_clicks=0,
                # Present for everyone so the add callbacks always find their inputs;
                # the server refuses non-admins whatever the page shows.
                class_name="" if admin else "d-none",
            ),
        ],
        className="d-flex flex-wrap align-items-center gap-2 mb-3",
    )
    return html.Div(
        [
            toolbar,
            html.Div(id=SOURCES_MESSAGE),
            # Card shapes until the first render; later redraws dim (assets/syncboard.css).
            html.Div(skeleton_cards(3), id=SOURCES_GRID, className="source-grid"),
            dcc.Store(id=ADD_SAVED, data=None),
            _add_modal(),
            sync_console(),
        ],
        className="console-page",
    )
