"""Callbacks of a source's page: streams table, stop, schedule, settings, test and delete."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, html, no_update

from callbacks.sources import (
    empty_values,
    field_flags,
    field_ids_of,
    field_key,
    field_messages,
    field_values,
    form_errors,
    group_keys,
    test_result,
    testing,
    unchanged,
)
from connectors.base import ConfigField
from connectors.catalog import connector_class, connector_facts
from models.connections import set_schedule
from models.db import session_scope
from models.params import int_or_none
from models.scope import MANAGE_SYNCS
from models.source_admin import delete_connection, update_connection
from models.source_views import SourceDetail, source_detail
from models.sync_errors import NotFound, SyncConflict
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
    SOURCE_SCHEDULE_FEEDBACK,
    SOURCE_SCHEDULE_MINUTES,
    SOURCE_SCHEDULE_OFF,
    SOURCE_SCHEDULE_SAVE,
    SOURCE_SCHEDULE_TEXT,
    SOURCE_SETTINGS,
    SOURCE_SETTINGS_SAVE,
    SOURCE_STOP,
    SOURCE_STREAMS,
    SOURCE_TEST,
    SOURCE_TEST_RESULT,
)
from pages._sources_view import HIDDEN, NEW_SECRET, SAVED_SECRET
from pages._sync_modal import (
    FINISHED,
    STARTED,
    ago,
    cancelled_by_text,
    icon_name,
    open_button,
    run_progress,
    status_badge,
    when,
)
from web.viewer import current_viewer
from workers.service import cancel_sync, check_saved_connection


def _link(path: str) -> str:
    return dash.get_relative_path(path)


def last_run_line(detail: SourceDetail) -> html.Div | None:
    """ "Last run #12 (contacts): cancelled 3 minutes ago · Cancelled by Ada", linked to the run."""
    run = detail.last_run
    if run is None:
        return None
    what = f"Last run #{run['id']}" + (f" ({run['stream']})" if run["stream"] else "")
    parts: list[Any] = [
        html.A(what, href=_link(f"/syncs/{run['id']}")),
        html.Span(f": {run['status']} {ago(run['finished_at'])}", title=when(run["finished_at"])),
    ]
    cancelled = cancelled_by_text(run)
    if cancelled:
        parts.append(html.Span(f" · {cancelled}", id="source-cancelled-by"))
    return html.Div(parts, className="small source-last-run", id="source-last-run")


def source_header(detail: SourceDetail) -> html.Div:
    return html.Div(
        [
            html.I(
                className=f"bi bi-{icon_name(detail.icon)} source-icon", **{"aria-hidden": "true"}
            ),
            html.Div(
                [
                    html.H1(detail.name, className="h3 mb-0", id="source-name"),
                    html.Div(detail.label, className="small text-muted"),
                    last_run_line(detail),
                ],
                className="min-w-0",
            ),
            status_badge(detail.health),
        ],
        className="d-flex align-items-center gap-3",
    )


def stop_button(run_id: int) -> dbc.Button:
    return dbc.Button(
        [html.I(className="bi bi-stop-fill me-1"), "Stop"],
        id={"type": SOURCE_STOP, "run": run_id},
        size="sm",
        color="danger",
        outline=True,
        n_clicks=0,
    )


def all_streams_block(run: dict[str, Any], detail: SourceDetail, *, admin: bool) -> html.Div:
    """An all-streams run in progress, above the table (each stream row shows its status)."""
    return html.Div(
        [
            html.Div(
                [
                    html.Span("Syncing all streams", className="fw-semibold me-auto"),
                    html.A("Details", href=_link(f"/syncs/{run['id']}"), className="small"),
                    stop_button(run["id"]) if admin else None,
                ],
                className="d-flex align-items-center gap-2 mb-2",
            ),
            run_progress(run | {"connection": detail.name}),
        ],
        className="all-streams-run mb-3",
        id="source-all-streams-run",
    )


def stream_table(detail: SourceDetail, *, admin: bool) -> Any:
    """The streams of a source as a table; a pure function so tests can read it.

    A run of one stream shows its live bar and Stop in that stream's row; a run of all
    streams shows them once above the table (component ids must stay unique).
    """
    if not detail.streams:
        return html.Div("This connector declares no streams.", className="empty-state")
    every = next((r for r in detail.active if r["stream"] is None), None)
    rows = []
    for row in detail.streams:
        href = _link(f"/sources/{detail.id}/{row.name}")
        own = row.active if row.active and row.active["stream"] == row.name else None
        if own:
            status = run_progress(own | {"connection": detail.name}, show_counts=False)
        elif row.active:
            status = status_badge(row.active["status"])
        else:
            status = status_badge(row.status)
        actions = [dbc.Button("View", href=href, size="sm", color="secondary", outline=True)]
        if admin and own:
            actions.append(stop_button(own["id"]))
        elif admin:
            # any run of this source holds the others back (detail.active: queued or running)
            actions.append(open_button(detail.id, row.name, "Sync", disabled=bool(detail.active)))
        rows.append(
            html.Tr(
                [
                    html.Td(
                        [
                            html.A(row.name, href=href, className="fw-semibold"),
                            html.Div(row.description, className="small text-muted"),
                        ]
                    ),
                    html.Td(row.model, className="col-p3"),
                    html.Td(
                        ago(row.last_sync),
                        title=when(row.last_sync),
                        className="text-nowrap col-p2",
                    ),
                    html.Td(status, className="stream-status"),
                    html.Td(f"{row.records:,}", className="text-end text-nowrap col-p2"),
                    html.Td(
                        html.Div(actions, className="d-flex gap-1 justify-content-end text-nowrap")
                    ),
                ],
                id=f"stream-row-{row.name}",
            )
        )
    head = html.Thead(
        html.Tr(
            [
                html.Th("Stream"),
                html.Th("Model", className="col-p3"),
                html.Th("Last sync", className="col-p2"),
                html.Th("Status"),
                html.Th("Records", className="text-end col-p2"),
                html.Th(html.Span("Actions", className="visually-hidden")),
            ]
        )
    )
    # Narrow screens hide the priority 2 and 3 columns (assets/sources.css), keeping the
    # stream, its status and its View / Sync / Stop in view at 390 px.
    table = dbc.Table(
        [head, html.Tbody(rows)], hover=True, responsive=True, className="mb-0 streams-table"
    )
    return [all_streams_block(every, detail, admin=admin), table] if every else table


def settings_text(detail: SourceDetail) -> html.Div:
    """The connection's settings as a list: secrets only as saved or not, never their values."""
    base = detail.base_url or (
        f"default ({detail.default_base_url})" if detail.default_base_url else "not needed"
    )
    items = [("Connector", f"{detail.label} ({detail.connector})"), ("Base URL", base)]
    cls = connector_class(detail.connector)
    for spec in cls.config_fields if cls else ():
        if spec.secret:
            value = "•••• saved" if spec.name in detail.secrets_saved else "not set"
        else:
            shown = detail.settings.get(spec.name)
            value = "default" if shown in (None, "", {}) else _short(spec.shown(shown))
        items.append((spec.label, value))
    listed = html.Dl(
        [
            part
            for term, value in items
            for part in (html.Dt(term), html.Dd(value, className="mb-1"))
        ],
        className="settings-list mb-0",
    )
    # a <dl> holds only its terms and values: the connector's notes go after it
    return html.Div(
        [listed, html.P(detail.docs, className="text-muted mb-0") if detail.docs else None]
    )


def _short(value: Any, limit: int = 60) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def schedule_text(detail: SourceDetail) -> str:
    if not detail.schedule_enabled or not detail.schedule_minutes:
        return "No schedule: this source syncs when someone starts it."
    every = detail.schedule_minutes
    next_run = f" · next {ago(detail.next_run_at)}" if detail.next_run_at else ""
    return f"Every {every} minute{'s' if every != 1 else ''}{next_run}."


def delete_text(detail: SourceDetail) -> list:
    """What deleting removes and keeps; other connections' records are never touched."""
    records = sum(row.records for row in detail.streams)
    removes = html.P(
        [
            "Deleting ",
            html.Strong(detail.name),
            f" removes the connection, its {detail.runs:,} sync run"
            f"{'s' if detail.runs != 1 else ''} and its saved cursors.",
        ]
    )
    if detail.demo_data:
        return [
            removes,
            html.P(
                f"It generated {records:,} demo records (source demo). Tick the box to delete "
                "them too; otherwise they are kept, detached from any connection, and "
                "charts, record tables and exports still count them. Demo data seeded "
                "with the app and other connections' records are not touched.",
                className="mb-0",
            ),
        ]
    return [
        removes,
        html.P(
            f"The {records:,} records it synced are kept in the database, detached from "
            f"any connection and still labelled with their source ({detail.connector}); "
            "charts, record tables and exports still show them. Other connections' records "
            "are not touched.",
            className="mb-0",
        ),
    ]


def _not_found(message: str):
    empty = html.Div(
        [html.H2("Source not found", className="h4"), html.P(message, className="text-muted")],
        className="empty-state",
        id="source-missing",
    )
    return None, None, empty, "", "", "", {"display": "none"}


@callback(
    Output(SOURCE_HEADER, "children"),
    Output(SOURCE_ACTIONS, "children"),
    Output(SOURCE_STREAMS, "children"),
    Output(SOURCE_SCHEDULE_TEXT, "children"),
    Output(SOURCE_SETTINGS, "children"),
    Output(SOURCE_DELETE_TEXT, "children"),
    Output(SOURCE_DELETE_PURGE_ROW, "style"),
    Input(SOURCE_ID, "data"),
    Input(STARTED, "data"),
    Input(FINISHED, "data"),
    Input(SOURCE_CHANGED, "data"),
)
def render(source_id, _started, _finished, _changed):
    viewer = current_viewer()
    try:
        with session_scope() as db:
            detail = source_detail(db, viewer, source_id, catalogue=connector_facts())
    except NotFound as exc:
        return _not_found(str(exc))
    admin = viewer.can_manage_syncs
    actions = [
        dbc.Button(
            [html.I(className="bi bi-clock-history me-1"), "History"],
            href=_link(f"/syncs?connection={detail.id}"),
            color="secondary",
            outline=True,
        ),
        # One run per source at a time from here: Sync all waits for the active one.
        open_button(detail.id, None, "Sync all", size=None, disabled=bool(detail.active))
        if admin
        else None,
    ]
    return (
        source_header(detail),
        actions,
        stream_table(detail, admin=admin),
        schedule_text(detail),
        settings_text(detail),
        delete_text(detail),
        None if detail.demo_data else {"display": "none"},
    )


@callback(
    Output(SOURCE_NAME, "value"),
    Output(SOURCE_SCHEDULE_MINUTES, "value"),
    Output(SOURCE_BASE_URL, "value"),
    Output(SOURCE_BASE_URL, "placeholder"),
    Output({"type": SOURCE_FIELDS, "connector": ALL}, "style"),
    Output({"type": SOURCE_FIELD, "connector": ALL, "name": ALL}, "value"),
    Output({"type": SOURCE_FIELD, "connector": ALL, "name": ALL}, "placeholder"),
    Input(SOURCE_ID, "data"),
    Input(SOURCE_CHANGED, "data"),
)
def fill_editors(source_id, _changed):
    """The editable values; a secret's box stays empty, a placeholder saying it is saved."""
    viewer = current_viewer()
    groups = group_keys(4)
    # each wildcard output gets one value per id it matched (5: values, 6: placeholders)
    ids, hint_ids = (
        field_ids_of(SOURCE_FIELD, 5, state=False),
        field_ids_of(SOURCE_FIELD, 6, state=False),
    )
    detail = None
    if viewer.can_manage_syncs:
        try:
            with session_scope() as db:
                detail = source_detail(db, viewer, source_id, catalogue=connector_facts())
        except NotFound:
            detail = None
    if detail is None:
        hidden = [HIDDEN for _g in groups]
        return "", None, "", "", hidden, empty_values(ids), [None for _i in hint_ids]
    cls = connector_class(detail.connector)
    specs = {f.name: f for f in cls.config_fields} if cls else {}

    def spec_of(cid: Any) -> ConfigField | None:
        connector, name = field_key(cid)
        return specs.get(name) if connector == detail.connector else None

    values = []
    for spec in map(spec_of, ids):
        if spec is None or spec.secret:
            # a saved secret never travels back to the browser
            values.append("" if spec is not None else None)
        else:
            values.append(spec.shown(detail.settings.get(spec.name)))
    placeholders = []
    for spec in map(spec_of, hint_ids):
        if spec is not None and spec.secret:
            placeholders.append(SAVED_SECRET if spec.name in detail.secrets_saved else NEW_SECRET)
        else:
            placeholders.append(spec.placeholder or None if spec is not None else None)
    minutes = detail.schedule_minutes if detail.schedule_enabled else None
    placeholder = detail.default_base_url or "Not needed"
    shown = [None if g == detail.connector else HIDDEN for g in groups]
    return detail.name, minutes, detail.base_url, placeholder, shown, values, placeholders


def _message(text: str, color: str = "success", **kwargs) -> dbc.Alert:
    kwargs.setdefault("className", "py-2")
    return dbc.Alert(text, color=color, dismissable=True, **kwargs)


@callback(
    Output(SOURCE_MESSAGE, "children"),
    Output(SOURCE_CHANGED, "data"),
    Output({"type": SOURCE_FIELD, "connector": ALL, "name": ALL}, "invalid"),
    Output({"type": SOURCE_FIELD_FEEDBACK, "connector": ALL, "name": ALL}, "children"),
    Output(SOURCE_NAME, "invalid"),
    Output(SOURCE_NAME_FEEDBACK, "children"),
    Output(SOURCE_BASE_URL, "invalid"),
    Output(SOURCE_BASE_URL_FEEDBACK, "children"),
    Output(SOURCE_SCHEDULE_MINUTES, "invalid"),
    Output(SOURCE_SCHEDULE_FEEDBACK, "children"),
    Input(SOURCE_SCHEDULE_SAVE, "n_clicks"),
    Input(SOURCE_SCHEDULE_OFF, "n_clicks"),
    Input(SOURCE_SETTINGS_SAVE, "n_clicks"),
    State(SOURCE_ID, "data"),
    State(SOURCE_SCHEDULE_MINUTES, "value"),
    State(SOURCE_BASE_URL, "value"),
    State({"type": SOURCE_FIELD, "connector": ALL, "name": ALL}, "value"),
    State(SOURCE_CHANGED, "data"),
    State(SOURCE_NAME, "value"),
    prevent_initial_call=True,
)
def change_settings(
    _save, _off, _settings, source_id, minutes, base_url, values, changed, name=None
):
    """Schedule on/off, and the connection's name and settings (org admins).

    Each bad value is said under its field; nothing is saved while one is bad. A name of
    None (an older page) keeps the saved name.
    """
    viewer = current_viewer()
    viewer.require_to(MANAGE_SYNCS)
    trigger = ctx.triggered_id
    # each wildcard output gets one value per id it matched (2: invalid, 3: messages)
    flag_ids = field_ids_of(SOURCE_FIELD, 2, state=False)
    message_ids = field_ids_of(SOURCE_FIELD_FEEDBACK, 3, state=False)
    clear = (False, "", False, "", False, "")
    keep = (unchanged(flag_ids), unchanged(message_ids), *clear)
    if not ctx.triggered or not ctx.triggered[0].get("value"):
        return no_update, no_update, *keep
    bump = (int_or_none(changed) or 0) + 1  # a forged counter starts again
    try:
        with session_scope() as db:
            if trigger == SOURCE_SETTINGS_SAVE:
                ids = (flag_ids, message_ids)
                return _save_settings(db, viewer, source_id, name, base_url, values, bump, ids)
            if trigger == SOURCE_SCHEDULE_OFF:
                conn = set_schedule(db, viewer, source_id, None)
                text = f"Schedule of {conn.name} disabled."
                return _message(text, id="source-saved"), bump, *keep
            try:
                value = _minutes(minutes)
                if value is None:
                    raise ValueError(
                        "Enter every how many minutes to sync, or disable the schedule."
                    )
                conn = set_schedule(db, viewer, source_id, value)
            except ValueError as exc:
                marks = (*keep[:-2], True, str(exc))
                return _message(str(exc), "danger", id="source-error"), no_update, *marks
            text = f"{conn.name} syncs every {value} minutes."
            return _message(text, id="source-saved"), bump, *keep
    except (ValueError, NotFound) as exc:
        return _message(str(exc), "danger", id="source-error"), no_update, *keep


def _save_settings(db, viewer, source_id, name, base_url, values, bump, ids):
    """Check the form as "Add connection" does (form_errors), then save; errors go under
    their fields."""
    catalogue = connector_facts()
    detail = source_detail(db, viewer, source_id, catalogue=catalogue)
    cls = connector_class(detail.connector)
    if cls is None:
        raise ValueError(f"The connector {detail.connector!r} is not installed.")
    typed = field_values(values or [], cls, 3, kind=SOURCE_FIELD)
    errors, clean = form_errors(
        cls,
        name=detail.name if name is None else name,
        base_url=base_url,
        values=typed,
        saved_secrets=set(detail.secrets_saved),
    )
    flag_ids, message_ids = ids
    invalid = field_flags(cls, errors, flag_ids)
    messages = field_messages(cls, errors, message_ids)
    marks = (
        "name" in errors,
        errors.get("name", ""),
        "base_url" in errors,
        errors.get("base_url", ""),
        False,
        "",
    )
    if errors or clean is None:
        text = "Nothing was saved: check the highlighted settings."
        return _message(text, "danger", id="source-error"), no_update, invalid, messages, *marks
    try:
        saved = update_connection(
            db,
            viewer,
            source_id,
            name=None if name is None else str(name),
            base_url=str(base_url or ""),
            credentials=clean.credentials,
            settings=cls.merged_settings(detail.settings, clean.settings),
            catalogue=catalogue,
        )
    except ValueError as exc:
        text = str(exc)
        marks = (True, text, *marks[2:]) if "named" in text or "name" in text.lower() else marks
        return _message(text, "danger", id="source-error"), no_update, invalid, messages, *marks
    labels = [f.label for f in cls.config_fields if f.name in clean.credentials]
    text = f"Settings of {saved.connection.name} saved"
    if labels:
        verb = "is" if len(labels) == 1 else "are"
        text += f"; the new {' and '.join(labels)} {verb} stored encrypted."
    else:
        text += "."
    if saved.credentials_cleared:
        text += " Credentials cleared because the address changed — enter the token again."
        return _message(text, "warning", id="source-saved"), bump, invalid, messages, *marks
    return _message(text, id="source-saved"), bump, invalid, messages, *marks


def _minutes(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError("The schedule must be a whole number of minutes.") from exc
    if not number.is_integer():  # nor inf or nan
        raise ValueError("The schedule must be a whole number of minutes.")
    return int(number)


@callback(
    Output(SOURCE_MESSAGE, "children", allow_duplicate=True),
    Input({"type": SOURCE_STOP, "run": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def stop(_clicks):
    """Ask a run to stop (org admins; the run must belong to this organisation)."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0].get("value"):
        return no_update
    viewer = current_viewer()
    try:
        run = cancel_sync(viewer, trigger.get("run"))
    except (NotFound, SyncConflict) as exc:
        return _message(str(exc), "warning", id="source-error")
    if run.status == "cancelled":
        return _message(f"Run {run.id} was cancelled before it started.", "info", id="source-stop")
    return _message(
        f"Stop requested: run {run.id} stops after its current batch; what it committed is kept.",
        "info",
        id="source-stop",
        className=f"py-2 stop-run-{run.id}",
    )


def stop_banner_run(message: Any) -> int | None:
    """The run a "Stop requested" banner is about, or None for any other message."""
    if not isinstance(message, dict):
        return None
    props = message.get("props") if isinstance(message.get("props"), dict) else {}
    if props.get("id") != "source-stop":
        return None
    for word in str(props.get("class_name") or props.get("className") or "").split():
        if word.startswith("stop-run-"):
            return int_or_none(word.removeprefix("stop-run-"))
    return None


@callback(
    Output(SOURCE_MESSAGE, "children", allow_duplicate=True),
    Input(FINISHED, "data"),
    State(SOURCE_MESSAGE, "children"),
    prevent_initial_call=True,
)
def end_stop_banner(finished, message):
    """ "Stop requested" goes when its run has ended (the stream rows then say cancelled)."""
    run_id = stop_banner_run(message)
    ended = finished.get("ids") if isinstance(finished, dict) else None
    if run_id is None or not isinstance(ended, list) or run_id not in ended:
        return no_update
    return None


@callback(
    Output(SOURCE_EDITOR, "is_open"),
    Input(SOURCE_EDIT, "n_clicks"),
    State(SOURCE_EDITOR, "is_open"),
    prevent_initial_call=True,
)
def toggle_editor(clicks, is_open):
    """Edit opens the connection's form (and closes it again); saving happens on the server."""
    return not is_open if clicks else no_update


@callback(
    Output(SOURCE_TEST_RESULT, "children"),
    Input(SOURCE_TEST, "n_clicks"),
    State(SOURCE_ID, "data"),
    prevent_initial_call=True,
    running=testing(SOURCE_TEST),
)
def test_saved(clicks, source_id):
    viewer = current_viewer()
    viewer.require_to(MANAGE_SYNCS)
    if not clicks:
        return no_update
    try:
        ok, message = check_saved_connection(viewer, source_id)
    except NotFound as exc:
        ok, message = False, str(exc)
    return test_result(ok, message)


@callback(
    Output(SOURCE_DELETE_MODAL, "is_open"),
    Input(SOURCE_DELETE, "n_clicks"),
    Input(SOURCE_DELETE_CANCEL, "n_clicks"),
    prevent_initial_call=True,
)
def toggle_delete(_open, _cancel):
    return ctx.triggered_id == SOURCE_DELETE and bool(ctx.triggered[0].get("value"))


@callback(
    Output(SOURCE_LOCATION, "href"),
    Output(SOURCE_MESSAGE, "children", allow_duplicate=True),
    Output(SOURCE_DELETE_MODAL, "is_open", allow_duplicate=True),
    Input(SOURCE_DELETE_CONFIRM, "n_clicks"),
    State(SOURCE_ID, "data"),
    State(SOURCE_DELETE_PURGE, "value"),
    prevent_initial_call=True,
)
def confirm_delete(clicks, source_id, purge=False):
    """Delete the connection, runs and cursors; records stay detached unless demo ones go too."""
    viewer = current_viewer()
    viewer.require_to(MANAGE_SYNCS)
    if not clicks:
        return no_update, no_update, no_update
    try:
        with session_scope() as db:
            delete_connection(db, viewer, source_id, purge_demo_records=purge is True)
    except (NotFound, SyncConflict) as exc:
        return no_update, _message(str(exc), "danger", id="source-error"), False
    return _link("/sources"), no_update, False
