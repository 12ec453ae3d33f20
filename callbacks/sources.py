"""Callbacks of the sources page: the cards, and adding a connection (org admins)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, html, no_update

from models.db import session_scope
from models.scope import Viewer
from models.sync_views import SourceCard, add_connection, connector_class, source_cards
from pages._sources_ids import (
    ADD_BASE_URL,
    ADD_CANCEL,
    ADD_CONNECTOR,
    ADD_DOCS,
    ADD_ERROR,
    ADD_FILE,
    ADD_FILE_NOTE,
    ADD_FILE_PATH,
    ADD_FILE_ROW,
    ADD_MODAL,
    ADD_MODEL,
    ADD_NAME,
    ADD_NAME_FEEDBACK,
    ADD_OPEN,
    ADD_SAVE,
    ADD_SAVED,
    ADD_SCHEDULE,
    ADD_SETTINGS,
    ADD_TEST,
    ADD_TEST_RESULT,
    ADD_TOKEN,
    ADD_TOKEN_ROW,
    SOURCES_GRID,
    SOURCES_MESSAGE,
    SOURCES_REFRESH,
    SOURCES_SEARCH,
)
from pages._sync_modal import (
    FINISHED,
    STARTED,
    ago,
    icon_name,
    open_button,
    run_progress,
    status_badge,
    when,
)
from web.uploads import UploadError, check_upload_path, store_upload
from web.viewer import current_viewer
from workers.service import check_connection


def source_card(card: SourceCard, *, admin: bool) -> dbc.Card:
    """One connection as a card; a pure function so tests can read what a person sees."""
    head = html.Div(
        [
            html.I(
                className=f"bi bi-{icon_name(card.icon)} source-icon", **{"aria-hidden": "true"}
            ),
            html.Div(
                [
                    html.H2(card.name, className="h5 mb-0 source-name"),
                    html.Div(card.label, className="small text-muted"),
                ],
                className="min-w-0",
            ),
            html.Div(status_badge(card.health), className="ms-auto", id=f"source-health-{card.id}"),
        ],
        className="d-flex align-items-center gap-3 mb-3",
    )
    facts = html.Div(
        [
            html.Div(
                [
                    html.Div("Models", className="kpi-label"),
                    html.Div(f"{card.streams}", className="fw-semibold"),
                ]
            ),
            html.Div(
                [
                    html.Div("Last sync", className="kpi-label"),
                    html.Div(
                        ago(card.last_sync),
                        className="fw-semibold",
                        title=when(card.last_sync),
                        id=f"source-last-{card.id}",
                    ),
                ]
            ),
        ],
        className="d-flex gap-4 mb-3",
    )
    progress = [
        run_progress(run | {"connection": card.name}, show_status=False) for run in card.active
    ]
    buttons = html.Div(
        [
            dbc.Button(
                [html.I(className="bi bi-eye me-1"), "View"],
                href=dash.get_relative_path(f"/sources/{card.id}"),
                color="secondary",
                outline=True,
                size="sm",
                id=f"source-view-{card.id}",
            ),
            open_button(card.id, None, "Sync all") if admin else None,
        ],
        className="d-flex gap-2 mt-auto",
    )
    return dbc.Card(
        dbc.CardBody([head, facts, *progress, buttons], className="d-flex flex-column"),
        className="kpi-card source-card",
        id=f"source-card-{card.id}",
    )


def source_grid(cards: list[SourceCard], *, admin: bool, search: str | None) -> Any:
    if cards:
        return [source_card(card, admin=admin) for card in cards]
    if (search or "").strip():
        message = f"No source matches “{search.strip()}”."
    elif admin:
        message = "No sources yet. Add a connection to start syncing."
    else:
        message = "No sources yet. An org admin can add connections."
    return html.Div(
        [html.I(className="bi bi-plug fs-1 text-muted d-block mb-2"), html.P(message)],
        className="empty-state",
        id="sources-empty",
    )


@callback(
    Output(SOURCES_GRID, "children"),
    Input(SOURCES_SEARCH, "value"),
    Input(SOURCES_REFRESH, "n_clicks"),
    Input(STARTED, "data"),
    Input(FINISHED, "data"),
    Input(ADD_SAVED, "data"),
)
def render_cards(search, _refresh, _started, _finished, _saved):
    viewer = current_viewer()
    search = str(search or "")[:100]
    with session_scope() as db:
        cards = source_cards(db, viewer, search)
    return source_grid(cards, admin=viewer.can_manage_syncs, search=search)


@callback(
    Output(ADD_BASE_URL, "placeholder"),
    Output(ADD_TOKEN_ROW, "style"),
    Output(ADD_DOCS, "children"),
    Output(ADD_FILE_ROW, "style"),
    Input(ADD_CONNECTOR, "value"),
)
def describe_connector(key):
    hidden = {"display": "none"}
    cls = connector_class(str(key or ""))
    if cls is None:
        return "", hidden, "Choose a connector.", hidden
    needs_token = any(f.secret for f in cls.config_fields)
    placeholder = cls.default_base_url or "Not needed"
    return (
        placeholder,
        None if needs_token else hidden,
        cls.docs,
        None if cls.key == "csv" else hidden,
    )


def parse_settings(text: Any) -> dict[str, str]:
    """KEY=VALUE lines from the settings box; ValueError names the line that is not one."""
    settings: dict[str, str] = {}
    for number, line in enumerate(str(text or "").splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"Settings line {number} is not KEY=VALUE: {line.strip()[:60]!r}")
        settings[key.strip()[:100]] = value.strip()[:1000]
    return settings


def _settings_for(
    viewer: Viewer, connector: Any, text: Any, path: Any, model: Any
) -> dict[str, Any]:
    settings: dict[str, Any] = parse_settings(text)
    if connector == "csv":
        if not path:
            raise ValueError("Upload the file to load first.")
        settings["path"] = check_upload_path(viewer, str(path))
        settings["model"] = model if model in ("calls", "contacts", "cases", "tickets") else "calls"
    return settings


@callback(
    Output(ADD_FILE_PATH, "data"),
    Output(ADD_FILE_NOTE, "children"),
    Input(ADD_FILE, "contents"),
    State(ADD_FILE, "filename"),
    prevent_initial_call=True,
)
def upload_file(contents, filename):
    """Keep the uploaded file under this org's upload folder; admins only."""
    viewer = _admin()
    if not contents:
        return no_update, no_update
    try:
        data = base64.b64decode(str(contents).split(",", 1)[-1], validate=False)
        path = store_upload(viewer, str(filename or ""), data)
    except (UploadError, binascii.Error, ValueError) as exc:
        return None, html.Span(str(exc) or "That file could not be read.", className="text-danger")
    return path, html.Span(
        [
            html.I(className="bi bi-check-circle me-1"),
            f"{filename} ({len(data):,} bytes) is uploaded.",
        ],
        className="text-success",
    )


@callback(
    Output(ADD_MODAL, "is_open"),
    Input(ADD_OPEN, "n_clicks"),
    Input(ADD_CANCEL, "n_clicks"),
    Input(ADD_SAVED, "data"),
    prevent_initial_call=True,
)
def toggle_add(_open, _cancel, _saved):
    return ctx.triggered_id == ADD_OPEN


def _schedule(value: Any) -> int | None:
    """Minutes from the number box; ValueError in words for anything else."""
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError("The schedule must be a whole number of minutes.") from exc
    if not number.is_integer():  # nor inf or nan
        raise ValueError("The schedule must be a whole number of minutes.")
    return int(number)


def _admin() -> Viewer:
    viewer = current_viewer()
    viewer.require("org_admin")
    return viewer


def test_result(ok: bool, message: str) -> dbc.Alert:
    return dbc.Alert(
        [html.I(className=f"bi bi-{'check-circle' if ok else 'x-octagon'} me-2"), message],
        color="success" if ok else "danger",
        className="py-2 mb-2",
        id="connection-test-alert",
    )


@callback(
    Output(ADD_TEST_RESULT, "children"),
    Input(ADD_TEST, "n_clicks"),
    State(ADD_CONNECTOR, "value"),
    State(ADD_BASE_URL, "value"),
    State(ADD_TOKEN, "value"),
    State(ADD_SETTINGS, "value"),
    State(ADD_FILE_PATH, "data"),
    State(ADD_MODEL, "value"),
    prevent_initial_call=True,
)
def test_new_connection(
    clicks, connector, base_url, token, settings_text=None, path=None, model=None
):
    """Ask the connector (on the job backend) whether these settings work; admins only."""
    viewer = _admin()
    if not clicks:
        return no_update
    try:
        settings = _settings_for(viewer, connector, settings_text, path, model)
    except (ValueError, UploadError) as exc:
        return test_result(False, str(exc))
    ok, message = check_connection(
        viewer,
        str(connector or ""),
        str(base_url or "").strip(),
        {"token": str(token)} if token else {},
        settings,
    )
    return test_result(ok, message)


@callback(
    Output(ADD_SAVED, "data"),
    Output(ADD_TOKEN, "value"),
    Output(ADD_NAME, "value"),
    Output(ADD_NAME, "invalid"),
    Output(ADD_NAME_FEEDBACK, "children"),
    Output(ADD_ERROR, "children"),
    Output(SOURCES_MESSAGE, "children"),
    Output(ADD_TEST_RESULT, "children", allow_duplicate=True),
    Input(ADD_SAVE, "n_clicks"),
    State(ADD_CONNECTOR, "value"),
    State(ADD_NAME, "value"),
    State(ADD_BASE_URL, "value"),
    State(ADD_TOKEN, "value"),
    State(ADD_SCHEDULE, "value"),
    State(ADD_SETTINGS, "value"),
    State(ADD_FILE_PATH, "data"),
    State(ADD_MODEL, "value"),
    prevent_initial_call=True,
)
def save_connection(
    clicks, connector, name, base_url, token, schedule, settings_text=None, path=None, model=None
):
    """Create the connection; the token goes into the database and never back to the browser."""
    viewer = _admin()
    if not clicks:
        return (no_update,) * 8
    name = str(name or "").strip()
    if not name:
        return (*(no_update,) * 3, True, "A connection needs a name.", None, *(no_update,) * 2)
    try:
        minutes = _schedule(schedule)
        settings = _settings_for(viewer, connector, settings_text, path, model)
        with session_scope() as db:
            conn = add_connection(
                db,
                viewer,
                connector=str(connector or ""),
                name=name,
                base_url=str(base_url or ""),
                token=str(token or ""),
                schedule_minutes=minutes,
                settings=settings,
            )
            saved = {"id": conn.id, "name": conn.name}
    except (ValueError, UploadError) as exc:
        text = str(exc)
        if "name" in text.lower():
            return no_update, no_update, no_update, True, text, None, no_update, no_update
        alert = dbc.Alert(text, color="danger", className="py-2 mb-0", id="sources-add-alert")
        return no_update, no_update, no_update, False, "", alert, no_update, no_update
    added = dbc.Alert(
        [
            f"Connection {saved['name']} added. ",
            html.A("Open it", href=dash.get_relative_path(f"/sources/{saved['id']}")),
        ],
        color="success",
        dismissable=True,
        className="py-2",
        id="sources-added",
    )
    return saved, "", "", False, "", None, added, None
