"""Builders of the team page: the members table, the invitations list, the link to copy.

Pure functions of what models/team.py returns; the callbacks in callbacks/team.py call them.
Every control names the member it acts on (its label or aria text), so a screen reader and
a confirmation say "Role of Jane Doe", "Remove Jane Doe", not "Role", "Remove".
"""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from models.team import Member, PendingInvitation, Removal
from pages._team_ids import COPIED, COPY, LINK, NUMBERS, REMOVE, RESEND, REVOKE, ROLE, ROLES

ROLE_NAMES = dict(ROLES)


def alert(text, color: str = "success") -> dbc.Alert:
    """A message above the page; successes fade, errors stay until dismissed."""
    return dbc.Alert(
        text, color=color, dismissable=True, duration=6000 if color == "success" else None
    )


def _hidden(text: str) -> html.Span:
    return html.Span(text, className="visually-hidden")


def _role_cell(m: Member, *, editable: bool, me: int):
    if not editable:
        return ROLE_NAMES.get(m.role, m.role)
    select = dbc.Select(
        id={"type": ROLE, "user": m.user_id},
        value=m.role,
        size="sm",
        options=[{"label": label, "value": v} for v, label in ROLES],
        disabled=m.user_id == me,
    )
    # A label around the select names it without an id to point at (the id is a pattern).
    return html.Label([_hidden(f"Role of {m.display_name}"), select], className="d-block mb-0")


def _numbers_cell(m: Member, numbers: Sequence[tuple[int, str]], *, editable: bool):
    if m.role != "agent":
        return html.Span("All calls", className="team-note")
    if not editable:
        return (
            ", ".join(label for nid, label in numbers if nid in m.numbers) or "None: sees no calls"
        )
    picker = dcc.Dropdown(
        id={"type": NUMBERS, "user": m.user_id},
        options=[{"label": label, "value": nid} for nid, label in numbers],
        value=list(m.numbers),
        multi=True,
        placeholder="No numbers: sees no calls",
        className="team-numbers",
    )
    return html.Label(
        [_hidden(f"Phone numbers of {m.display_name}"), picker], className="d-block mb-0"
    )


def _remove_cell(m: Member, *, editable: bool):
    if not editable:
        return None
    button = dbc.Button(
        [
            html.I(className="bi bi-person-x", **{"aria-hidden": "true"}),
            _hidden(f"Remove {m.display_name}"),
        ],
        id={"type": REMOVE, "user": m.user_id},
        color="link",
        class_name="text-danger team-remove",
        title=m.refusal or f"Remove {m.display_name} ({m.email})",
        disabled=m.refusal is not None,
    )
    return button


def member_table(
    rows: Sequence[Member], numbers: Sequence[tuple[int, str]], *, editable: bool, me: int
) -> html.Div:
    """The members table; selects only for admins (the server checks again on change).

    On a phone each row becomes a card (assets/team.css): name, then role and remove on
    one line, then the numbers, so no key column is pushed off-screen.
    """
    if not rows:
        return html.Div("Nobody is in this organisation yet.", className="empty-state")
    body = [
        html.Tr(
            [
                html.Td(
                    [html.Div(m.display_name, className="fw-semibold"), html.Small(m.email)],
                    className="team-col-who",
                ),
                html.Td(_role_cell(m, editable=editable, me=me), className="team-col-role"),
                html.Td(_numbers_cell(m, numbers, editable=editable), className="team-col-nums"),
                html.Td(m.last_login or "never", className="team-col-last small"),
                html.Td(_remove_cell(m, editable=editable), className="team-col-act"),
            ],
            id=f"team-row-{m.user_id}",
        )
        for m in rows
    ]
    head = html.Thead(
        html.Tr(
            [
                html.Th("Member", scope="col"),
                html.Th("Role", scope="col"),
                html.Th("Phone numbers", scope="col"),
                html.Th("Last sign-in", scope="col"),
                html.Th(_hidden("Remove") if editable else None, scope="col"),
            ]
        )
    )
    return html.Div(
        dbc.Table([head, html.Tbody(body)], hover=True, class_name="mb-0", id="team-table"),
        className="card team-card",
    )


def copy_link(key: int | str, link: str, label: str) -> html.Div:
    """A read-only field holding `link`, a Copy button, and where "Copied" appears.

    The copy runs in the browser (assets/team.js): the clipboard API, or, where the page may
    not write the clipboard, the field's text selected for Ctrl+C.
    """
    return html.Div(
        [
            html.Label(label, htmlFor=f"team-link-{key}", className="visually-hidden"),
            dbc.InputGroup(
                [
                    dbc.Input(
                        id=f"team-link-{key}",
                        value=link,
                        readonly=True,
                        size="sm",
                        class_name="team-link-text",
                    ),
                    dbc.Button(
                        [
                            html.I(className="bi bi-clipboard me-1", **{"aria-hidden": "true"}),
                            "Copy",
                            _hidden(f" the {label[0].lower()}{label[1:]}"),
                        ],
                        id={"type": COPY, "key": key},
                        size="sm",
                        color="primary",
                        outline=True,
                        n_clicks=0,
                    ),
                ],
                size="sm",
            ),
            html.Div(id={"type": COPIED, "key": key}, className="team-copied small", role="status"),
            # The text the Copy button copies, where the clientside callback reads it.
            dcc.Store(id={"type": LINK, "key": key}, data=link),
        ],
        className="team-copy",
    )


def invite_result(
    address: str, role: str, link: str, how: str, *, renewed: bool = False
) -> html.Div:
    """What stays under the form after an invitation is sent or resent: who, how, the link."""
    verb = "New link for" if renewed else "Invited"
    note = (
        "It was mailed to them."
        if how == "sent"
        else "No mail server is set up: send them this link yourself."
    )
    old = " The previous link no longer works." if renewed else ""
    return html.Div(
        [
            html.P(
                [
                    html.I(className="bi bi-check-circle me-1", **{"aria-hidden": "true"}),
                    f"{verb} {address} ({ROLE_NAMES.get(role, role)}). {note}{old}",
                ],
                className="mb-2",
                id="team-invite-note",
            ),
            copy_link("new", link, f"Invitation link for {address}"),
        ],
        className="team-result",
        id="team-invite-done",
    )


def invite_list(
    invitations: Sequence[PendingInvitation], links: dict[int, str], *, editable: bool
) -> html.Div:
    """Pending invitations with Copy link, Resend and Revoke for admins."""
    heading = html.H2("Pending invitations", className="h6")
    if not invitations:
        return html.Div([heading, html.P("No pending invitations.", className="mb-0 team-note")])
    items = []
    for inv in invitations:
        what = (
            f"{inv.email} — {ROLE_NAMES.get(inv.role, inv.role)}, expires {inv.expires_at:%Y-%m-%d}"
        )
        actions = []
        if editable:
            actions = [
                dbc.Button(
                    "Resend",
                    id={"type": RESEND, "invitation": inv.id},
                    size="sm",
                    color="secondary",
                    outline=True,
                    n_clicks=0,
                    title=f"Resend the invitation to {inv.email} with a new link",
                ),
                dbc.Button(
                    "Revoke",
                    id={"type": REVOKE, "invitation": inv.id},
                    size="sm",
                    color="danger",
                    outline=True,
                    n_clicks=0,
                    title=f"Revoke the invitation to {inv.email}",
                ),
            ]
        link = links.get(inv.id)
        items.append(
            html.Li(
                [
                    html.Div(
                        [html.Span(what, className="me-auto team-inv-what"), *actions],
                        className="d-flex flex-wrap align-items-center gap-2",
                    ),
                    copy_link(inv.id, link, f"Invitation link for {inv.email}")
                    if link
                    else html.Small(
                        "This link cannot be shown again: Resend makes a new one.",
                        className="team-note",
                    )
                    if editable
                    else None,
                ],
                className="list-group-item",
                id=f"team-invitation-{inv.id}",
            )
        )
    return html.Div([heading, html.Ul(items, className="list-group")])


def removal_title(found: Removal) -> str:
    return f"Remove {found.name}?"


def removal_body(found: Removal) -> list:
    """The confirmation names the person, their address and the organisation."""
    if found.refusal:
        return [html.P(found.refusal, className="mb-0")]
    who = found.name if found.name == found.email else f"{found.name} ({found.email})"
    return [
        html.P(f"Remove {who} from {found.org_name}?", className="fw-semibold"),
        html.P(
            "They lose access to this organisation at once. Their past calls and records stay.",
            className="mb-0",
        ),
    ]
