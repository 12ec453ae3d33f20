"""Callbacks of the sources page: the cards, and adding a connection (org admins)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, html, no_update
from dash.exceptions import MissingCallbackContextException

from connectors.base import CleanConfig, Connector
from connectors.catalog import catalog, connector_class, connector_facts
from models.db import session_scope
from models.scope import MANAGE_SYNCS, Viewer
from models.source_admin import add_connection, check_base_url, check_name
from models.source_views import SourceCard, source_cards
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
    TESTING,
)
from pages._sources_view import HIDDEN, empty_value, field_ids
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
            # disabled while one of its runs is queued or running (its bar shows above)
            open_button(card.id, None, "Sync all", disabled=bool(card.active)) if admin else None,
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
        cards = source_cards(db, viewer, search, catalogue=connector_facts())
    return source_grid(cards, admin=viewer.can_manage_syncs, search=search)


@callback(
    Output(ADD_BASE_URL, "placeholder"),
    Output(ADD_DOCS, "children"),
    Output(ADD_FILE_ROW, "style"),
    Output({"type": ADD_FIELDS, "connector": ALL}, "style"),
    Input(ADD_CONNECTOR, "value"),
)
def describe_connector(key):
    """The chosen connector's address hint, docs, upload box and settings fields."""
    cls = connector_class(str(key or ""))
    shown = cls.key if cls is not None else None
    groups = [None if group == shown else HIDDEN for group in group_keys(3)]
    if cls is None:
        return "", "Choose a connector.", HIDDEN, groups
    placeholder = cls.default_base_url or "Not needed"
    return placeholder, cls.docs, None if cls.uploads_file else HIDDEN, groups


def group_keys(position: int) -> list[str]:
    """The connector keys of the field groups an ALL output matched, in Dash's order."""
    try:
        return [field_key(item["id"])[0] for item in ctx.outputs_list[position]]
    except (MissingCallbackContextException, IndexError, KeyError, TypeError):
        return [cls.key for cls in catalog()]


def field_ids_of(kind: str, position: int, *, state: bool) -> list[dict]:
    """The field ids an ALL state or output matched (layout order when called as a function).

    Each wildcard output is read at its own position: a forged request may match a different
    number of ids for each, and each needs exactly one value per id.
    """
    try:
        matched = (ctx.states_list if state else ctx.outputs_list)[position]
        return [item["id"] for item in matched]
    except (MissingCallbackContextException, IndexError, KeyError, TypeError):
        return list(field_ids(kind, catalog()))


def _input_ids(kind: str, position: int) -> list[dict]:
    """The field ids an ALL input matched (layout order when called as a function)."""
    try:
        return [item["id"] for item in ctx.inputs_list[position]]
    except (MissingCallbackContextException, IndexError, KeyError, TypeError):
        return list(field_ids(kind, catalog()))


def field_key(cid: Any) -> tuple[str, str]:
    """(connector, setting) of a matched id, as text whatever a forged id holds."""
    if not isinstance(cid, dict):
        return ("", "")
    return (str(cid.get("connector")), str(cid.get("name")))


def field_values(
    values: Any,
    cls: type[Connector],
    position: int,
    kind: str = ADD_FIELD,
    *,
    input_list: bool = False,
) -> dict[str, Any]:
    """{setting: value} of the chosen connector from an ALL state's (or input's) list of values.

    Tests may pass a plain {name: value} dict; values beyond the matched ids are ignored.
    """
    if isinstance(values, dict):
        return {str(k): v for k, v in values.items()}
    ids = _input_ids(kind, position) if input_list else field_ids_of(kind, position, state=True)
    found: dict[str, Any] = {}
    for cid, value in zip(ids, values if isinstance(values, list) else [], strict=False):
        connector, name = field_key(cid)
        if connector == cls.key:
            found[name] = value
    return found


def _config(viewer: Viewer, cls: type[Connector], values: dict[str, Any], path: Any) -> CleanConfig:
    """The form's settings checked against the connector's fields (and its uploaded file)."""
    clean = cls.clean_config(values)
    if cls.uploads_file:
        if not path:
            raise ValueError("Upload the file to load first.")
        clean.settings["path"] = check_upload_path(viewer, str(path))
    return clean


def field_messages(
    cls: type[Connector] | None, errors: dict[str, str], ids: list[dict]
) -> list[str]:
    """The message under each field: the chosen connector's errors, nothing elsewhere."""
    key = cls.key if cls is not None else None
    return [
        errors.get(name, "") if connector == key else "" for connector, name in map(field_key, ids)
    ]


def field_flags(cls: type[Connector] | None, errors: dict[str, str], ids: list[dict]) -> list[bool]:
    """Whether each field is marked invalid."""
    return [bool(message) for message in field_messages(cls, errors, ids)]


def unchanged(ids: list[dict]) -> list:
    """ "No change" for every field of a wildcard output."""
    return [no_update for _cid in ids]


def empty_values(ids: list[dict]) -> list:
    """What each field holds before anything is typed (for clearing a form)."""
    specs = {(c.key, f.name): f for c in catalog() for f in c.config_fields}
    return [empty_value(specs[key]) if key in specs else "" for key in map(field_key, ids)]


def form_errors(
    cls: type[Connector] | None,
    *,
    name: Any,
    base_url: Any,
    schedule: Any = None,
    values: dict[str, Any] | None = None,
    saved_secrets: set[str] | frozenset[str] = frozenset(),
    needs_file: bool = False,
) -> tuple[dict[str, str], CleanConfig | None]:
    """A connection form's problems by field ("name", "base_url", "schedule", "file", and
    each setting's name), and the settings checked against the connector's fields.

    The same check runs as a person types (to mark fields and enable Save) and again on the
    server when the form is saved, so a forged save meets the same rules.
    """
    errors: dict[str, str] = {}
    for key, check in (("name", check_name), ("base_url", check_base_url)):
        try:
            check(name if key == "name" else base_url)
        except ValueError as exc:
            errors[key] = str(exc)
    try:
        minutes = _schedule(schedule)
        if minutes is not None and not 1 <= minutes <= 7 * 24 * 60:
            raise ValueError("The schedule must be between 1 minute and 7 days (10,080).")
    except ValueError as exc:
        errors["schedule"] = str(exc)
    if cls is None:
        errors["connector"] = "Choose a connector."
        return errors, None
    clean = cls.clean_config(values or {}, saved_secrets=saved_secrets)
    if needs_file and cls.uploads_file:
        errors["file"] = "Upload the file to load first."
    return errors | clean.errors, clean


def missing_hint(errors: dict[str, str]) -> str:
    """One line beside the disabled Save: what is still needed."""
    if not errors:
        return ""
    count = len(errors)
    return f"Fix {count} field{'s' if count != 1 else ''} to save."


@callback(
    Output(ADD_NAME, "invalid", allow_duplicate=True),
    Output(ADD_NAME_FEEDBACK, "children", allow_duplicate=True),
    Output(ADD_BASE_URL, "invalid"),
    Output(ADD_BASE_URL_FEEDBACK, "children"),
    Output(ADD_SCHEDULE, "invalid"),
    Output(ADD_SCHEDULE_FEEDBACK, "children"),
    Output({"type": ADD_FIELD, "connector": ALL, "name": ALL}, "invalid", allow_duplicate=True),
    Output(
        {"type": ADD_FIELD_FEEDBACK, "connector": ALL, "name": ALL},
        "children",
        allow_duplicate=True,
    ),
    Output(ADD_SAVE, "disabled"),
    Output(ADD_TEST, "disabled"),
    Output(ADD_HINT, "children"),
    Input(ADD_CONNECTOR, "value"),
    Input(ADD_NAME, "value"),
    Input(ADD_BASE_URL, "value"),
    Input(ADD_SCHEDULE, "value"),
    Input({"type": ADD_FIELD, "connector": ALL, "name": ALL}, "value"),
    Input(ADD_FILE_PATH, "data"),
    prevent_initial_call=True,
)
def check_add_form(connector, name, base_url, schedule, values=None, path=None):
    """Mark each field as it is typed; Save stays disabled until the form is valid.

    A value typed wrong is marked at once; an empty required field is marked once a name
    is typed (before that the person has not reached the form yet), and always counts
    against Save. Nothing is written here: save_connection checks everything again.
    """
    _admin()
    flag_ids = field_ids_of(ADD_FIELD, 6, state=False)
    message_ids = field_ids_of(ADD_FIELD_FEEDBACK, 7, state=False)
    cls = connector_class(str(connector or ""))
    typed = field_values(values or [], cls, 4, input_list=True) if cls else {}
    errors, _clean = form_errors(
        cls,
        name=name,
        base_url=base_url,
        schedule=schedule,
        values=typed,
        needs_file=not path,
    )
    started = bool(str(name or "").strip())
    shown = {
        key: message
        for key, message in errors.items()
        if started or key in ("base_url", "schedule") or _typed(typed.get(key))
    }
    test_blocked = any(k not in ("name", "schedule") for k in errors)
    return (
        "name" in shown,
        shown.get("name", ""),
        "base_url" in shown,
        shown.get("base_url", ""),
        "schedule" in shown,
        shown.get("schedule", ""),
        field_flags(cls, shown, flag_ids),
        field_messages(cls, shown, message_ids),
        bool(errors),
        test_blocked,
        missing_hint(errors) if started else "",
    )


def _typed(value: Any) -> bool:
    return value not in (None, "") and not (isinstance(value, str) and not value.strip())


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
    viewer.require_to(MANAGE_SYNCS)
    return viewer


def test_result(ok: bool, message: str) -> dbc.Alert:
    return dbc.Alert(
        [html.I(className=f"bi bi-{'check-circle' if ok else 'x-octagon'} me-2"), message],
        color="success" if ok else "danger",
        className="py-2 mb-2",
        id="connection-test-alert",
    )


TEST_LABEL = [html.I(className="bi bi-plug me-1"), "Test connection"]
TESTING_LABEL = [dbc.Spinner(size="sm", spinner_class_name="me-1"), TESTING]


def testing(button: str) -> list:
    """While a test runs: its button disabled and saying "Testing…" (Dash's `running`)."""
    return [
        (Output(button, "disabled"), True, False),
        (Output(button, "children"), TESTING_LABEL, TEST_LABEL),
    ]


@callback(
    Output(ADD_TEST_RESULT, "children"),
    Input(ADD_TEST, "n_clicks"),
    State(ADD_CONNECTOR, "value"),
    State(ADD_BASE_URL, "value"),
    State({"type": ADD_FIELD, "connector": ALL, "name": ALL}, "value"),
    State(ADD_FILE_PATH, "data"),
    prevent_initial_call=True,
    running=testing(ADD_TEST),
)
def test_new_connection(clicks, connector, base_url, values=None, path=None):
    """Ask the connector (on the job backend) whether these settings work; admins only.

    It answers within 10 s (workers/service.py CHECK_SECONDS) whatever the host does.
    """
    viewer = _admin()
    if not clicks:
        return no_update
    cls = connector_class(str(connector or ""))
    if cls is None:
        ok, message = check_connection(viewer, str(connector or ""), "", {}, {})
        return test_result(ok, message)
    try:
        url = check_base_url(base_url)
        clean = _config(viewer, cls, field_values(values or [], cls, 2), path)
    except (ValueError, UploadError) as exc:
        return test_result(False, str(exc))
    if not clean.ok:
        return test_result(False, "Check the settings first: " + " ".join(clean.errors.values()))
    ok, message = check_connection(viewer, cls.key, url, clean.credentials, clean.settings)
    return test_result(ok, message)


@callback(
    Output(ADD_SAVED, "data"),
    Output(ADD_NAME, "value"),
    Output(ADD_NAME, "invalid"),
    Output(ADD_NAME_FEEDBACK, "children"),
    Output(ADD_ERROR, "children"),
    Output(SOURCES_MESSAGE, "children"),
    Output(ADD_TEST_RESULT, "children", allow_duplicate=True),
    Output({"type": ADD_FIELD, "connector": ALL, "name": ALL}, "value"),
    Output({"type": ADD_FIELD, "connector": ALL, "name": ALL}, "invalid"),
    Output({"type": ADD_FIELD_FEEDBACK, "connector": ALL, "name": ALL}, "children"),
    Output(ADD_BASE_URL, "invalid", allow_duplicate=True),
    Output(ADD_BASE_URL_FEEDBACK, "children", allow_duplicate=True),
    Output(ADD_BASE_URL, "value"),
    Input(ADD_SAVE, "n_clicks"),
    State(ADD_CONNECTOR, "value"),
    State(ADD_NAME, "value"),
    State(ADD_BASE_URL, "value"),
    State(ADD_SCHEDULE, "value"),
    State({"type": ADD_FIELD, "connector": ALL, "name": ALL}, "value"),
    State(ADD_FILE_PATH, "data"),
    prevent_initial_call=True,
)
def save_connection(clicks, connector, name, base_url, schedule, values=None, path=None):
    """Create the connection; secrets are stored encrypted and never sent back to the browser.

    The form is checked again here (form_errors), each problem under its field; typed
    values are never echoed back.
    """
    viewer = _admin()
    # each wildcard output gets one value per id it matched (7: values, 8: invalid, 9: messages)
    value_ids, flag_ids, message_ids = (field_ids_of(ADD_FIELD, n, state=False) for n in (7, 8, 9))
    keep = unchanged(value_ids)
    if not clicks:
        return (
            (no_update,) * 7
            + (keep, unchanged(flag_ids), unchanged(message_ids))
            + (no_update,) * 3
        )
    cls = connector_class(str(connector or ""))
    errors: dict[str, str] = {}

    def marks() -> tuple[list, list, bool, str]:
        return (
            field_flags(cls, errors, flag_ids),
            field_messages(cls, errors, message_ids),
            "base_url" in errors,
            errors.get("base_url", ""),
        )

    try:
        typed = field_values(values or [], cls, 4) if cls else {}
        errors, clean = form_errors(
            cls, name=name, base_url=base_url, schedule=schedule, values=typed
        )
        if errors or cls is None or clean is None:
            note = errors.get("name", "")
            others = [m for k, m in errors.items() if k not in ("name",)]
            alert = _alert("Check the highlighted settings.") if others else None
            if "schedule" in errors or "connector" in errors:
                alert = _alert(errors.get("connector") or errors["schedule"])
            head = (no_update, no_update, bool(note), note, alert, no_update, no_update)
            return head + (keep, *marks(), no_update)
        clean = _config(viewer, cls, typed, path)
        with session_scope() as db:
            conn = add_connection(
                db,
                viewer,
                connector=cls.key,
                name=str(name or ""),
                base_url=str(base_url or ""),
                credentials=clean.credentials,
                schedule_minutes=_schedule(schedule),
                settings=clean.settings,
                catalogue=connector_facts(),
            )
            saved = {"id": conn.id, "name": conn.name}
    except (ValueError, UploadError) as exc:
        text = str(exc)
        if "name" in text.lower():
            head = (no_update, no_update, True, text, None, no_update, no_update)
        else:
            head = (no_update, no_update, False, "", _alert(text), no_update, no_update)
        return head + (keep, *marks(), no_update)
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
    errors = {}
    return (saved, "", False, "", None, added, None) + (empty_values(value_ids), *marks(), "")


def _alert(text: str) -> dbc.Alert:
    return dbc.Alert(text, color="danger", className="py-2 mb-0", id="sources-add-alert")
