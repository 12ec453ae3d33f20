"""Callbacks of the team page: every change is checked by models/team.py against the viewer.

The role selects and number pickers are drawn by `show_team`, and Dash reports their values
as inputs each time it draws them; `set_role` and `assign_numbers` compare with what is
stored and change nothing (and the page says nothing) unless the value really differs.
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

from models.db import session_scope
from models.params import as_text, id_or_none, int_or_none
from models.scope import MANAGE_TEAM, AccessDenied
from models.team import (
    INVITE_DAYS,
    assign_numbers,
    invitation_problem,
    invite,
    members,
    org_numbers,
    pending_invitations,
    removal,
    remove_member,
    renew_invitation,
    revoke_invitation,
    set_role,
)
from models.users import AccountError
from pages._team_ids import (
    CONFIRM,
    CONFIRM_BODY,
    CONFIRM_TITLE,
    COPIED,
    COPY,
    INVITE_EMAIL,
    INVITE_FEEDBACK,
    INVITE_RESULT,
    INVITE_ROLE,
    INVITE_SEND,
    INVITES,
    LINK,
    MEMBERS,
    MESSAGE,
    NUMBERS,
    PENDING,
    REFRESH,
    REMOVE,
    RESEND,
    REVOKE,
    ROLE,
)
from pages._team_view import (
    alert,
    invite_list,
    invite_result,
    member_table,
    removal_body,
    removal_title,
)
from web.invite import invite_url
from web.mail import send_mail
from web.viewer import current_viewer


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


@callback(Output(MEMBERS, "children"), Output(INVITES, "children"), Input(REFRESH, "data"))
def show_team(_refresh):
    viewer = current_viewer()
    with session_scope() as db:
        rows = members(db, viewer)
        numbers = org_numbers(db, viewer)
        invitations = pending_invitations(db, viewer)
    editable = viewer.may(MANAGE_TEAM)
    links = {inv.id: invite_url(inv.token) for inv in invitations if inv.token}
    return (
        member_table(rows, numbers, editable=editable, me=viewer.user_id),
        invite_list(invitations, links, editable=editable),
    )


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


def _changes(kind: str) -> list[tuple[int | None, Any]]:
    """(user id, value) of each pattern input that triggered the callback."""
    found = []
    for item in ctx.triggered_prop_ids:
        cid = ctx.triggered_prop_ids[item]
        if isinstance(cid, dict) and cid.get("type") == kind:
            found.append((id_or_none(cid.get("user")), ctx.inputs.get(item)))
    return found


@callback(
    Output(MESSAGE, "children", allow_duplicate=True),
    Output(REFRESH, "data", allow_duplicate=True),
    Input({"type": ROLE, "user": ALL}, "value"),
    State(REFRESH, "data"),
    prevent_initial_call=True,
)
def change_role(_values, refresh):
    changed = []
    try:
        with session_scope() as db:
            viewer = current_viewer()
            for user_id, value in _changes(ROLE):
                if set_role(db, viewer, user_id, value):
                    changed.append(user_id)
    except (AccountError, AccessDenied) as exc:
        return alert(str(exc), "danger"), _next(refresh)  # redraw: the select shows the truth
    if not changed:
        return no_update, no_update  # a redraw or a repeated value: nothing was done
    return alert("Role changed."), _next(refresh)


@callback(
    Output(MESSAGE, "children", allow_duplicate=True),
    Output(REFRESH, "data", allow_duplicate=True),
    Input({"type": NUMBERS, "user": ALL}, "value"),
    State(REFRESH, "data"),
    prevent_initial_call=True,
)
def change_numbers(_values, refresh):
    changed = []
    try:
        with session_scope() as db:
            viewer = current_viewer()
            for user_id, value in _changes(NUMBERS):
                if assign_numbers(db, viewer, user_id, value or []):
                    changed.append(user_id)
    except (AccountError, AccessDenied, ValueError, TypeError) as exc:
        return alert(str(exc) or "Those numbers cannot be assigned.", "danger"), _next(refresh)
    if not changed:
        return no_update, no_update
    return alert("Numbers saved."), no_update


@callback(
    Output(CONFIRM, "is_open"),
    Output(PENDING, "data"),
    Output(CONFIRM_TITLE, "children"),
    Output(CONFIRM_BODY, "children"),
    Output(f"{CONFIRM}-ok", "disabled"),
    Output(f"{CONFIRM}-ok", "children"),
    Input({"type": REMOVE, "user": ALL}, "n_clicks"),
    Input(f"{CONFIRM}-cancel", "n_clicks"),
    prevent_initial_call=True,
)
def ask_removal(_clicks, _cancel):
    """Open the confirmation naming the person; a redraw of the buttons opens nothing."""
    trigger = ctx.triggered_id
    if trigger == f"{CONFIRM}-cancel":
        return False, None, no_update, no_update, no_update, no_update
    if not isinstance(trigger, dict) or not int_or_none(ctx.triggered[0]["value"]):
        return (no_update,) * 6
    try:
        with session_scope() as db:
            found = removal(db, current_viewer(), trigger.get("user"))
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
    Input(f"{CONFIRM}-ok", "n_clicks"),
    State(PENDING, "data"),
    State(REFRESH, "data"),
    prevent_initial_call=True,
)
def confirm_removal(_ok, user_id, refresh):
    if user_id is None:
        return no_update, no_update, False, None
    try:
        with session_scope() as db:
            viewer = current_viewer()
            found = removal(db, viewer, user_id)
            remove_member(db, viewer, user_id)
    except (AccountError, AccessDenied) as exc:
        return alert(str(exc), "danger"), no_update, False, None
    return alert(f"{found.name} was removed from {found.org_name}."), _next(refresh), False, None


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
