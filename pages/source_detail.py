"""A source: its streams with last sync, status and records held; schedule, settings, delete."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from connectors.catalog import catalog
from pages._loading import skeleton_lines, skeleton_table
from pages._shell import page_guard, validating, viewer_or_none
from pages._sources_ids import (
    SOURCE_ACTIONS,
    SOURCE_BASE_URL,
    SOURCE_BASE_URL_FEEDBACK,
    SOURCE_CHANGED,
    SOURCE_DELETE,
    SOURCE_DELETE_CANCEL,
    SOURCE_DELETE_CONFIRM,
    SOURCE_DELETE_MODAL,
    SOURCE_DELETE_PURGE,
    SOURCE_DELETE_PURGE_ROW,
    SOURCE_DELETE_TEXT,
    SOURCE_EDIT,
    SOURCE_EDITOR,
    SOURCE_FIELD,
    SOURCE_FIELD_FEEDBACK,
    SOURCE_FIELDS,
    SOURCE_HEADER,
    SOURCE_ID,
    SOURCE_LOCATION,
    SOURCE_MESSAGE,
    SOURCE_NAME,
    SOURCE_NAME_FEEDBACK,
    SOURCE_SCHEDULE,
    SOURCE_SCHEDULE_FEEDBACK,
    SOURCE_SCHEDULE_MINUTES,
    SOURCE_SCHEDULE_OFF,
    SOURCE_SCHEDULE_SAVE,
    SOURCE_SCHEDULE_TEXT,
    SOURCE_SETTINGS,
    SOURCE_SETTINGS_SAVE,
    SOURCE_STREAMS,
    SOURCE_TEST,
    SOURCE_TEST_RESULT,
)
from pages._sources_view import connector_fields
from pages._sync_modal import sync_console

dash.register_page(
    __name__,
    path_template="/sources/<source_id>",
    name="Source",
    order=63,
    min_role="agent",
    in_nav=False,
)


def _schedule_card(admin: bool) -> dbc.Card:
    editor = html.Div(
        [
            dbc.Label(
                "Sync every how many minutes",
                html_for=SOURCE_SCHEDULE_MINUTES,
                class_name="visually-hidden",
            ),
            dbc.InputGroup(
                [
                    dbc.InputGroupText("Every", id="source-schedule-every"),
                    dbc.Input(
                        id=SOURCE_SCHEDULE_MINUTES,
                        type="number",
                        min=1,
                        max=10080,
                        debounce=False,
                    ),
                    dbc.InputGroupText("minutes"),
                    dbc.FormFeedback(id=SOURCE_SCHEDULE_FEEDBACK, type="invalid"),
                ],
                size="sm",
                className="mb-2 has-validation",
            ),
            html.Div(
                [
                    dbc.Button("Save schedule", id=SOURCE_SCHEDULE_SAVE, size="sm", n_clicks=0),
                    dbc.Button(
                        "Disable",
                        id=SOURCE_SCHEDULE_OFF,
                        size="sm",
                        color="secondary",
                        outline=True,
                        n_clicks=0,
                    ),
                ],
                className="d-flex gap-2",
            ),
        ]
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2("Schedule", className="h6"),
                html.P(id=SOURCE_SCHEDULE_TEXT, className="small text-muted mb-2"),
                html.Div(editor, className="" if admin else "d-none"),
            ]
        ),
        className="kpi-card mb-3",
        id=SOURCE_SCHEDULE,
    )


def _settings_card(admin: bool) -> dbc.Card:
    editor = html.Div(
        [
            dbc.Label("Name", html_for=SOURCE_NAME, className="small mb-1"),
            dbc.Input(id=SOURCE_NAME, size="sm", maxLength=200),
            dbc.FormFeedback(id=SOURCE_NAME_FEEDBACK, type="invalid"),
            dbc.Label("Base URL", html_for=SOURCE_BASE_URL, className="small mb-1 mt-2"),
            dbc.Input(id=SOURCE_BASE_URL, type="url", size="sm", maxLength=500),
            dbc.FormFeedback(id=SOURCE_BASE_URL_FEEDBACK, type="invalid"),
            html.Div(className="mb-2"),
            # Every connector's declared settings; fill_editors shows this connection's.
            *connector_fields(
                catalog(),
                group=SOURCE_FIELDS,
                field=SOURCE_FIELD,
                feedback=SOURCE_FIELD_FEEDBACK,
                small=True,
            ),
            html.Div(
                [
                    dbc.Button("Save settings", id=SOURCE_SETTINGS_SAVE, size="sm", n_clicks=0),
                    dbc.Button(
                        [html.I(className="bi bi-plug me-1"), "Test connection"],
                        id=SOURCE_TEST,
                        size="sm",
                        color="secondary",
                        outline=True,
                        n_clicks=0,
                    ),
                ],
                className="d-flex gap-2 mb-2",
            ),
            # "Testing…" shows on the button itself while a test runs (10 s at most).
            html.Div(id=SOURCE_TEST_RESULT, **{"aria-live": "polite"}),
        ]
    )
    edit = dbc.Button(
        [html.I(className="bi bi-pencil me-1"), "Edit"],
        id=SOURCE_EDIT,
        size="sm",
        color="secondary",
        outline=True,
        n_clicks=0,
        class_name="" if admin else "d-none",
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [html.H2("Connection settings", className="h6 mb-0 me-auto"), edit],
                    className="d-flex align-items-center mb-2",
                ),
                html.Div(skeleton_lines(3), id=SOURCE_SETTINGS, className="small mb-2"),
                # The same typed form as "Add connection" (pages/_sources_view.py), filled
                # with what is saved; secrets stay empty, shown as saved.
                # drawn for everyone (its callbacks fill it on every source page); only
                # admins get the Edit button that opens it, and saving checks the role
                dbc.Collapse(editor, id=SOURCE_EDITOR, is_open=False),
            ]
        ),
        className="kpi-card mb-3",
        id="source-settings-card",
    )


def _delete_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Delete this connection?")),
            dbc.ModalBody(
                [
                    html.Div(id=SOURCE_DELETE_TEXT),
                    # Shown for demo connections only (callbacks/source_detail.py).
                    html.Div(
                        dbc.Checkbox(
                            id=SOURCE_DELETE_PURGE,
                            label="Also delete the demo records it generated",
                            value=True,
                        ),
                        id=SOURCE_DELETE_PURGE_ROW,
                        className="mt-3",
                        style={"display": "none"},
                    ),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button(
                        "Cancel",
                        id=SOURCE_DELETE_CANCEL,
                        color="secondary",
                        outline=True,
                        n_clicks=0,
                    ),
                    dbc.Button(
                        "Delete connection", id=SOURCE_DELETE_CONFIRM, color="danger", n_clicks=0
                    ),
                ]
            ),
        ],
        id=SOURCE_DELETE_MODAL,
        is_open=False,
    )


def layout(source_id=None, **_kwargs):
    refusal = page_guard("agent")
    if refusal is not None:
        return refusal
    viewer = viewer_or_none()
    # the validation layout (built as nobody) must hold the admin's editor too
    admin = validating() or (viewer is not None and viewer.can_manage_syncs)
    return html.Div(
        [
            dcc.Store(id=SOURCE_ID, data=str(source_id or "")[:20]),
            dcc.Store(id=SOURCE_CHANGED, data=0),
            dcc.Location(id=SOURCE_LOCATION, refresh="callback-nav"),
            html.Nav(
                html.A(
                    [html.I(className="bi bi-chevron-left me-1"), "Sources"],
                    href=dash.get_relative_path("/sources"),
                ),
                className="small mb-2",
            ),
            html.Div(
                [
                    html.Div(skeleton_lines(2), id=SOURCE_HEADER, className="me-auto"),
                    html.Div(id=SOURCE_ACTIONS, className="d-flex gap-2"),
                    dbc.Button(
                        [html.I(className="bi bi-trash me-1"), "Delete"],
                        id=SOURCE_DELETE,
                        color="danger",
                        outline=True,
                        n_clicks=0,
                        class_name="" if admin else "d-none",
                    ),
                ],
                className="d-flex flex-wrap align-items-center gap-2 mb-3",
            ),
            html.Div(id=SOURCE_MESSAGE),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            dbc.CardBody(html.Div(skeleton_table(4), id=SOURCE_STREAMS)),
                            className="kpi-card mb-3",
                        ),
                        lg=8,
                    ),
                    dbc.Col([_schedule_card(admin), _settings_card(admin)], lg=4),
                ]
            ),
            _delete_modal(),
            sync_console(),
        ],
        className="console-page",
    )
