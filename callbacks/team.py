"""Callbacks of the team page: every change is checked by models/team.py against the viewer."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from models.db import session_scope
from models.params import as_text, int_or_none
from models.scope import MANAGE_TEAM, AccessDenied
from models.team import (
    assign_numbers,
    invite,
    members,
    org_numbers,
    pending_invitations,
    remove_member,
    revoke_invitation,
    set_role,
)
from models.users import AccountError
from pages._team_ids import (
    CONFIRM,
    INVITE_EMAIL,
    INVITE_ROLE,
    INVITE_SEND,
    INVITES,
    MEMBERS,
    MESSAGE,
    NUMBERS,
    PENDING,
    REFRESH,
    REMOVE,
    REVOKE,
    ROLE,
    ROLES,
)
from settings import get_settings
from web.mail import send_mail
from web.viewer import current_viewer


def _alert(text: str, color: str = "success") -> dbc.Alert:
    return dbc.Alert(
        text, color=color, dismissable=True, duration=6000 if color == "success" else None
    )


def member_table(rows, numbers, *, editable: bool, me: int) -> html.Div:
    """The members table; selects only for admins (the server checks again on change)."""
    if not rows:
        return html.Div("Nobody is in this organisation yet.", className="empty-state")
    options = [{"label": label, "value": nid} for nid, label in numbers]
    body = []
    for m in rows:
        role_cell = (
            dbc.Select(
                id={"type": ROLE, "user": m.user_id},
                value=m.role,
                size="sm",
                options=[{"label": label, "value": v} for v, label in ROLES],
                disabled=m.user_id == me,
            )
            if editable
            else dict(ROLES).get(m.role, m.role)
        )
        if m.role == "agent":
            number_cell = (
                dcc.Dropdown(
                    id={"type": NUMBERS, "user": m.user_id},
                    options=options,
                    value=list(m.numbers),
                    multi=True,
                    placeholder="No numbers: sees no calls",
                )
                if editable
                else ", ".join(label for nid, label in numbers if nid in m.numbers) or "—"
            )
        else:
            number_cell = html.Span("All calls", className="text-muted")
        action = (
            dbc.Button(
                html.I(className="bi bi-person-x"),
                id={"type": REMOVE, "user": m.user_id},
                color="link",
                className="text-danger",
                title=f"Remove {m.email}",
                disabled=m.user_id == me,
            )
            if editable
            else None
        )
        body.append(
            html.Tr(
                [
                    html.Td([html.Div(m.name), html.Small(m.email, className="text-muted")]),
                    html.Td(role_cell, style={"minWidth": "9rem"}),
                    html.Td(number_cell, style={"minWidth": "16rem"}),
                    html.Td(m.last_login or "never", className="small text-muted"),
                    html.Td(action),
                ]
            )
        )
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("Member", "Role", "Phone numbers", "Last sign-in", "")])
    )
    return dbc.Table(
        [head, html.Tbody(body)], hover=True, responsive=True, className="bg-white", id="team-table"
    )


def invite_list(invitations, *, editable: bool) -> html.Div:
    if not invitations:
        return html.Div("No pending invitations.", className="text-muted small")
    items = [
        html.Li(
            [
                f"{inv.email} — {inv.role.value.replace('_', ' ')}, expires {inv.expires_at:%Y-%m-%d}",
                dbc.Button(
                    "Revoke", id={"type": REVOKE, "invitation": inv.id}, size="sm", color="link"
                )
                if editable
                else None,
            ]
        )
        for inv in invitations
    ]
    return html.Div([html.H3("Pending", className="h6"), html.Ul(items, className="mb-0")])


def _next(refresh: Any) -> int:
    """The refresh counter after a change (a forged counter starts again)."""
    return (int_or_none(refresh) or 0) + 1


@callback(Output(MEMBERS, "children"), Output(INVITES, "children"), Input(REFRESH, "data"))
def show_team(_refresh):
    viewer = current_viewer()
    with session_scope() as db:
        rows = members(db, viewer)
        numbers = org_numbers(db, viewer)
        invitations = pending_invitations(db, viewer)
        editable = viewer.may(MANAGE_TEAM)
        return (
            member_table(rows, numbers, editable=editable, me=viewer.user_id),
            invite_list(invitations, editable=editable),
        )


@callback(
    Output(MESSAGE, "children", allow_duplicate=True),
    Output(REFRESH, "data", allow_duplicate=True),
    Output(INVITE_EMAIL, "value"),
    Input(INVITE_SEND, "n_clicks"),
    State(INVITE_EMAIL, "value"),
    State(INVITE_ROLE, "value"),
    State(REFRESH, "data"),
    prevent_initial_call=True,
)
def send_invite(_clicks, email, role, refresh):
    viewer = current_viewer()
    try:
        with session_scope() as db:
            invitation, token = invite(db, viewer, as_text(email), as_text(role) or "agent")
            address = invitation.email
    except (AccountError, AccessDenied) as exc:
        return _alert(str(exc), "danger"), no_update, no_update
    link = f"{get_settings().url_prefix}invite/{token}"
    how = send_mail(
        address,
        "You are invited to syncboard",
        f"Join on syncboard: {link}\nThe link works for 7 days.",
    )
    note = (
        "Invitation mailed."
        if how == "sent"
        else "No mail server is set up: send this link yourself."
    )
    return (
        _alert([html.Div(f"Invited {address}. {note}"), html.Code(link, id="team-invite-link")]),
        _next(refresh),
        "",
    )


@callback(
    Output(MESSAGE, "children", allow_duplicate=True),
    Output(REFRESH, "data", allow_duplicate=True),
    Input({"type": ROLE, "user": ALL}, "value"),
    State(REFRESH, "data"),
    prevent_initial_call=True,
)
def change_role(_values, refresh):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered or ctx.triggered[0]["value"] is None:
        return no_update, no_update
    try:
        with session_scope() as db:
            set_role(db, current_viewer(), trigger["user"], ctx.triggered[0]["value"])
    except (AccountError, AccessDenied) as exc:
        return _alert(str(exc), "danger"), _next(refresh)
    return _alert("Role changed."), _next(refresh)


@callback(
    Output(MESSAGE, "children", allow_duplicate=True),
    Input({"type": NUMBERS, "user": ALL}, "value"),
    prevent_initial_call=True,
)
def change_numbers(_values):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered:
        return no_update
    try:
        with session_scope() as db:
            assign_numbers(db, current_viewer(), trigger["user"], ctx.triggered[0]["value"] or [])
    except (AccountError, AccessDenied, ValueError, TypeError) as exc:
        return _alert(str(exc) or "Those numbers cannot be assigned.", "danger")
    return _alert("Numbers saved.")


@callback(
    Output(CONFIRM, "is_open"),
    Output(PENDING, "data"),
    Input({"type": REMOVE, "user": ALL}, "n_clicks"),
    Input(f"{CONFIRM}-cancel", "n_clicks"),
    prevent_initial_call=True,
)
def ask_removal(clicks, _cancel):
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and any(clicks or []):
        return True, trigger["user"]
    return False, None


@callback(
    Output(MESSAGE, "children", allow_duplicate=True),
    Output(REFRESH, "data", allow_duplicate=True),
    Output(CONFIRM, "is_open", allow_duplicate=True),
    Input(f"{CONFIRM}-ok", "n_clicks"),
    State(PENDING, "data"),
    State(REFRESH, "data"),
    prevent_initial_call=True,
)
def confirm_removal(_ok, user_id, refresh):
    if user_id is None:
        return no_update, no_update, False
    try:
        with session_scope() as db:
            remove_member(db, current_viewer(), user_id)
    except (AccountError, AccessDenied) as exc:
        return _alert(str(exc), "danger"), no_update, False
    return _alert("Removed from the organisation."), _next(refresh), False


@callback(
    Output(MESSAGE, "children", allow_duplicate=True),
    Output(REFRESH, "data", allow_duplicate=True),
    Input({"type": REVOKE, "invitation": ALL}, "n_clicks"),
    State(REFRESH, "data"),
    prevent_initial_call=True,
)
def revoke(clicks, refresh):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks or []):
        return no_update, no_update
    try:
        with session_scope() as db:
            revoke_invitation(db, current_viewer(), trigger["invitation"])
    except (AccountError, AccessDenied) as exc:
        return _alert(str(exc), "danger"), no_update
    return _alert("Invitation revoked."), _next(refresh)
