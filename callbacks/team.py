"""Callbacks of the team page: every change is checked by models/team.py against the viewer.

Members are a record grid; an admin picks a row to open the panel, and only its Save
button changes anything. `set_role` and `assign_numbers` compare with what is stored, so a
Save (or a forged POST) that repeats the stored values changes nothing and says so; drawing
the page, the grid or the panel never saves. Buttons drawn by a callback (Resend, Revoke)
act only on a click (n_clicks above 0), not on being drawn.
"""

from __future__ import annotations

from typing import Any

from dash import (
    ALL,
    MATCH,
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    no_update,
)

from callbacks._table import refresh_on
from models.db import session_scope
from models.params import as_text, int_or_none
from models.scope import MANAGE_TEAM, AccessDenied
from models.team import (
    INVITE_DAYS,
    assign_numbers,
    invitation_problem,
    invite,
    member,
    member_page,
    org_numbers,
    pending_invitations,
    removal,
    remove_member,
    renew_invitation,
    revoke_invitation,
    set_role,
)
from models.users import AccountError
from pages._table import count_id, count_text, read_rows_request, rows_response, search_id, table_id
from pages._team_ids import (
    CONFIRM,
    CONFIRM_BODY,
    CONFIRM_TITLE,
    COPIED,
    COPY,
    EDIT,
    EDIT_CLOSE,
    EDIT_NUMBERS,
    EDIT_NUMBERS_WRAP,
    EDIT_REMOVE,
    EDIT_REMOVE_NOTE,
    EDIT_ROLE,
    EDIT_ROLE_NOTE,
    EDIT_SAVE,
    EDIT_STATUS,
    EDIT_TITLE,
    EDIT_USER,
    EDIT_WHO,
    INVITE_EMAIL,
    INVITE_FEEDBACK,
    INVITE_RESULT,
    INVITE_ROLE,
    INVITE_SEND,
    INVITES,
    LINK,
    MEMBERS_PREFIX,
    MESSAGE,
    PENDING,
    REFRESH,
    RESEND,
    REVOKE,
)
from pages._team_view import (
    EDITOR_HIDDEN,
    EDITOR_SHOWN,
    ROLE_NAMES,
    alert,
    editor_fields,
    invite_list,
    invite_result,
    member_rows,
    numbers_hidden,
    removal_body,
    removal_title,
)
from web.invite import invite_url
from web.mail import send_mail
from web.viewer import current_viewer

GRID = table_id(MEMBERS_PREFIX)


def _next(refresh: Any) -> int:
    """The refresh counter after a change (a forged counter starts again)."""
    return (int_or_none(refresh) or 0) + 1


def _mail(address: str, link: str) -> str:
    """Mail the link (or keep it in the outbox); "sent" or "outbox"."""
    return send_mail(
        address,
        "You are invited to syncboard",
        f"Join on syncboard: {link}\nThe link works for {INVITE_DAYS} days.",
    )


@callback(
    Output(GRID, "getRowsResponse"),
    Output(count_id(MEMBERS_PREFIX), "children"),
    Input(GRID, "getRowsRequest"),
    State(search_id(MEMBERS_PREFIX), "value"),
    prevent_initial_call=True,
)
def member_block(request, search):
    """One block of the members grid, searched and sorted on the server."""
    page, size, sort, descending = read_rows_request(request)
    viewer = current_viewer()
    with session_scope() as db:
        rows, total = member_page(
            db,
            viewer,
            search=as_text(search, max_length=100),
            sort=sort,
            descending=descending,
            page=page,
            page_size=size,
        )
        numbers = org_numbers(db, viewer)
    editable = viewer.may(MANAGE_TEAM)
    return (
        rows_response(member_rows(rows, numbers, editable=editable), total),
        count_text(total, "members"),
    )


refresh_on(MEMBERS_PREFIX, Input(search_id(MEMBERS_PREFIX), "value"), Input(REFRESH, "data"))


@callback(Output(INVITES, "children"), Input(REFRESH, "data"))
def show_invitations(_refresh):
    viewer = current_viewer()
    with session_scope() as db:
        invitations = pending_invitations(db, viewer)
    links = {inv.id: invite_url(inv.token) for inv in invitations if inv.token}
    return invite_list(invitations, links, editable=viewer.may(MANAGE_TEAM))


@callback(
    Output(INVITE_EMAIL, "invalid"),
    Output(INVITE_FEEDBACK, "children"),
    Output(INVITE_SEND, "disabled"),
    Input(INVITE_EMAIL, "value"),
    Input(REFRESH, "data"),
)
def check_invite_email(email, _refresh):
    """Say next to the field why the address cannot be invited; Send waits for a good one."""
    text = as_text(email).strip()
    if not text:
        return False, "", True
    viewer = current_viewer()
    if not viewer.may(MANAGE_TEAM):
        return False, "", True
    with session_scope() as db:
        problem = invitation_problem(db, viewer, text)
    return bool(problem), problem or "", bool(problem)


@callback(
    Output(INVITE_RESULT, "children", allow_duplicate=True),
    Output(INVITE_EMAIL, "invalid", allow_duplicate=True),
    Output(INVITE_FEEDBACK, "children", allow_duplicate=True),
    Output(REFRESH, "data", allow_duplicate=True),
    Output(INVITE_EMAIL, "value"),
    Input(INVITE_SEND, "n_clicks"),
    State(INVITE_EMAIL, "value"),
    State(INVITE_ROLE, "value"),
    State(REFRESH, "data"),
    prevent_initial_call=True,
)
def send_invite(clicks, email, role, refresh):
    if not int_or_none(clicks):
        return no_update, no_update, no_update, no_update, no_update
    viewer = current_viewer()
    try:
        with session_scope() as db:
            invitation, token = invite(db, viewer, as_text(email), as_text(role) or "agent")
            address, granted = invitation.email, invitation.role.value
    except AccountError as exc:
        return no_update, True, str(exc), no_update, no_update
    except AccessDenied as exc:
        return alert(str(exc), "danger"), no_update, no_update, no_update, no_update
    link = invite_url(token)
    how = _mail(address, link)
    return invite_result(address, granted, link, how), False, "", _next(refresh), ""


@callback(
    Output(INVITE_RESULT, "children", allow_duplicate=True),
    Output(REFRESH, "data", allow_duplicate=True),
    Input({"type": RESEND, "invitation": ALL}, "n_clicks"),
    State(REFRESH, "data"),
    prevent_initial_call=True,
)
def resend(_clicks, refresh):
    """A new seven-day link, mailed (or kept in the outbox) and shown to copy."""
    trigger = ctx.triggered_id
    if (
        not isinstance(trigger, dict)
        or not ctx.triggered
        or not int_or_none(ctx.triggered[0]["value"])
    ):
        return no_update, no_update
    try:
        with session_scope() as db:
            invitation, token = renew_invitation(db, current_viewer(), trigger.get("invitation"))
            address, granted = invitation.email, invitation.role.value
    except (AccountError, AccessDenied) as exc:
        return alert(str(exc), "danger"), _next(refresh)
    link = invite_url(token)
    how = _mail(address, link)
    return invite_result(address, granted, link, how, renewed=True), _next(refresh)


EDITOR = (
    Output(EDIT, "className"),
    Output(EDIT_USER, "data"),
    Output(EDIT_TITLE, "children"),
    Output(EDIT_WHO, "children"),
    Output(EDIT_ROLE, "value"),
    Output(EDIT_ROLE, "disabled"),
    Output(EDIT_ROLE_NOTE, "children"),
    Output(EDIT_NUMBERS, "options"),
    Output(EDIT_NUMBERS, "value"),
    Output(EDIT_REMOVE, "disabled"),
    Output(EDIT_REMOVE_NOTE, "children"),
    Output(EDIT_STATUS, "children"),
    Output(EDIT_SAVE, "disabled"),
)


@callback(*EDITOR, Input(GRID, "selectedRows"), prevent_initial_call=True)
def open_editor(selected):
    """Open the panel on the member picked in the grid (an empty pick opens nothing)."""
    row = selected[0] if isinstance(selected, list) and selected else None
    if not isinstance(row, dict):
        return (no_update,) * len(EDITOR)
    viewer = current_viewer()
    try:
        with session_scope() as db:
            viewer.require_to(MANAGE_TEAM)
            found = member(db, viewer, int_or_none(row.get("id")))
            numbers = org_numbers(db, viewer)
    except (AccountError, AccessDenied) as exc:
        return (no_update,) * (len(EDITOR) - 2) + (alert(str(exc), "danger"), no_update)
    f = editor_fields(found, numbers, me=viewer.user_id)
    return (
        EDITOR_SHOWN,
        found.user_id,
        f["title"],
        f["who"],
        f["role"],
        f["role_disabled"],
        f["role_note"],
        f["options"],
        f["numbers"],
        f["remove_disabled"],
        f["remove_note"],
        "",
        False,
    )


@callback(Output(EDIT_NUMBERS_WRAP, "className"), Input(EDIT_ROLE, "value"))
def show_numbers_for_agents(role):
    return numbers_hidden(role)


@callback(
    Output(EDIT, "className", allow_duplicate=True),
    Output(GRID, "selectedRows"),
    Input(EDIT_CLOSE, "n_clicks"),
    prevent_initial_call=True,
)
def close_editor(clicks):
    """Close the panel and leave no row picked, so picking the same member again reopens it."""
    if not int_or_none(clicks):
        return no_update, no_update
    return EDITOR_HIDDEN, []


clientside_callback(
    ClientsideFunction(namespace="team", function_name="focusEditor"),
    Output(EDIT_TITLE, "tabIndex"),
    Input(EDIT_USER, "data"),
    prevent_initial_call=True,
)


@callback(
    Output(MESSAGE, "children", allow_duplicate=True),
    Output(REFRESH, "data", allow_duplicate=True),
    Output(EDIT_STATUS, "children", allow_duplicate=True),
    Input(EDIT_SAVE, "n_clicks"),
    State(EDIT_USER, "data"),
    State(EDIT_ROLE, "value"),
    State(EDIT_NUMBERS, "value"),
    State(REFRESH, "data"),
    prevent_initial_call=True,
)
def save_member(clicks, user_id, role, numbers, refresh):
    """Save the panel: the role, then (for an agent) the numbers; say what really changed.

    The panel stays open with the outcome in it, where the admin is looking; the grid
    below is redrawn.
    """
    if not int_or_none(clicks):
        return no_update, no_update, no_update
    viewer = current_viewer()
    try:
        with session_scope() as db:
            found = member(db, viewer, user_id)
            role_changed = (
                set_role(db, viewer, found.user_id, as_text(role)) if role != found.role else False
            )
            numbers_changed = (
                assign_numbers(db, viewer, found.user_id, numbers or [])
                if as_text(role) == "agent"
                else False
            )
    except (AccountError, AccessDenied, ValueError, TypeError) as exc:
        return no_update, no_update, alert(str(exc) or "That cannot be saved.", "danger")
    if not (role_changed or numbers_changed):
        return no_update, no_update, "Nothing to save: no change was made."
    said = []
    if role_changed:
        said.append(f"role changed to {ROLE_NAMES.get(as_text(role), as_text(role))}")
    if numbers_changed:
        said.append("numbers saved")
    done = f"{found.display_name}: {' and '.join(said)}."
    return alert(done), _next(refresh), f"Saved. {done}"


@callback(
    Output(CONFIRM, "is_open"),
    Output(PENDING, "data"),
    Output(CONFIRM_TITLE, "children"),
    Output(CONFIRM_BODY, "children"),
    Output(f"{CONFIRM}-ok", "disabled"),
    Output(f"{CONFIRM}-ok", "children"),
    Input(EDIT_REMOVE, "n_clicks"),
    Input(f"{CONFIRM}-cancel", "n_clicks"),
    State(EDIT_USER, "data"),
    prevent_initial_call=True,
)
def ask_removal(clicks, _cancel, user_id):
    """Open the confirmation naming the person and the organisation."""
    if ctx.triggered_id == f"{CONFIRM}-cancel":
        return False, None, no_update, no_update, no_update, no_update
    if not int_or_none(clicks):
        return (no_update,) * 6
    try:
        with session_scope() as db:
            found = removal(db, current_viewer(), user_id)
    except (AccountError, AccessDenied) as exc:
        return True, None, "Cannot remove", [str(exc)], True, "Remove"
    return (
        True,
        found.user_id,
        removal_title(found),
        removal_body(found),
        found.refusal is not None,
        f"Remove {found.name}",
    )


@callback(
    Output(MESSAGE, "children", allow_duplicate=True),
    Output(REFRESH, "data", allow_duplicate=True),
    Output(CONFIRM, "is_open", allow_duplicate=True),
    Output(PENDING, "data", allow_duplicate=True),
    Output(EDIT_STATUS, "children", allow_duplicate=True),
    Output(EDIT_SAVE, "disabled", allow_duplicate=True),
    Output(EDIT_REMOVE, "disabled", allow_duplicate=True),
    Input(f"{CONFIRM}-ok", "n_clicks"),
    State(PENDING, "data"),
    State(REFRESH, "data"),
    prevent_initial_call=True,
)
def confirm_removal(clicks, user_id, refresh):
    """Remove the member; the panel says so and offers nothing more to do."""
    if not int_or_none(clicks) or user_id is None:
        return no_update, no_update, False, None, no_update, no_update, no_update
    try:
        with session_scope() as db:
            viewer = current_viewer()
            found = removal(db, viewer, user_id)
            remove_member(db, viewer, user_id)
    except (AccountError, AccessDenied) as exc:
        return alert(str(exc), "danger"), no_update, False, None, no_update, no_update, no_update
    done = f"{found.name} was removed from {found.org_name}."
    return alert(done), _next(refresh), False, None, done, True, True


@callback(
    Output(MESSAGE, "children", allow_duplicate=True),
    Output(REFRESH, "data", allow_duplicate=True),
    Input({"type": REVOKE, "invitation": ALL}, "n_clicks"),
    State(REFRESH, "data"),
    prevent_initial_call=True,
)
def revoke(_clicks, refresh):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not int_or_none(ctx.triggered[0]["value"]):
        return no_update, no_update
    try:
        with session_scope() as db:
            revoke_invitation(db, current_viewer(), trigger.get("invitation"))
    except (AccountError, AccessDenied) as exc:
        return alert(str(exc), "danger"), no_update
    return alert("Invitation revoked."), _next(refresh)


clientside_callback(
    ClientsideFunction(namespace="team", function_name="copy"),
    Output({"type": COPIED, "key": MATCH}, "children"),
    Input({"type": COPY, "key": MATCH}, "n_clicks"),
    State({"type": LINK, "key": MATCH}, "data"),
    prevent_initial_call=True,
)
