"""Builders of the team page: the members grid and its side panel, the invitations list,
the link to copy.

Pure functions of what models/team.py returns; the callbacks in callbacks/team.py call them.
Members are a record grid (pages/_table.py) of text; an admin picks a row to edit that one
member in a panel above the grid, whose title names them, and nothing is saved until Save.
"""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from models.team import Member, PendingInvitation, Removal
from pages._table import record_grid
from pages._team_ids import (
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
    LINK,
    MEMBERS_PREFIX,
    RESEND,
    REVOKE,
    ROLES,
)

ROLE_NAMES = dict(ROLES)


def alert(text, color: str = "success") -> dbc.Alert:
    """A message above the page; successes fade, errors stay until dismissed."""
    return dbc.Alert(
        text, color=color, dismissable=True, duration=6000 if color == "success" else None
    )


def _hidden(text: str) -> html.Span:
    return html.Span(text, className="visually-hidden")


def member_columns(editable: bool) -> list:
    """The grid's columns: name and role (and Edit for admins) stay on a phone."""
    columns: list = [
        ("name", "Member", {"minWidth": 130, "flex": 2}),
        ("role", "Role", {"minWidth": 100, "flex": 1}),
        ("email", "Email", {"priority": 2, "minWidth": 160, "flex": 2}),
        (
            "numbers",
            "Phone numbers",
            {"priority": 2, "sortable": False, "minWidth": 150, "flex": 2},
        ),
        ("last_login", "Last sign-in", {"priority": 3, "minWidth": 130, "flex": 1}),
    ]
    if editable:
        columns.append(
            (
                "edit",
                "Edit",
                {"sortable": False, "minWidth": 90, "maxWidth": 110, "cellClass": "team-edit-cell"},
            )
        )
    return columns


def member_grid(editable: bool) -> html.Div:
    """The members grid; for admins a row is selected (click, or Space on the focused row)
    to open the panel that changes the role and numbers or removes the member."""
    selection = {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True}
    tree = record_grid(
        MEMBERS_PREFIX,
        member_columns(editable),
        export=False,
        search_placeholder="Search members…",
        sort=("name", False),
        label="Members",
        page_size=25,
        grid_options={"rowSelection": selection} if editable else None,
        get_row_id="params.data.id" if editable else None,
    )
    return tree


def member_rows(
    rows: Sequence[Member], numbers: Sequence[tuple[int, str]], *, editable: bool
) -> list[dict]:
    """Grid rows: text only (the grid shows text), the id as a string for getRowId."""
    labels = dict(numbers)
    return [
        {
            "id": str(m.user_id),
            "name": m.display_name,
            "email": m.email,
            "role": ROLE_NAMES.get(m.role, m.role),
            "numbers": (
                ", ".join(labels[n] for n in m.numbers if n in labels) or "None: sees no calls"
            )
            if m.role == "agent"
            else "All calls",
            "last_login": m.last_login or "never",
            **({"edit": "Edit ›"} if editable else {}),
        }
        for m in rows
    ]


#: The panel's classes when shown and when hidden (it is a card, not an overlay).
EDITOR_SHOWN = "card team-editor mb-3"
EDITOR_HIDDEN = "card team-editor mb-3 d-none"


def editor_panel() -> html.Section:
    """The panel of one member: role, numbers (agents), Save, Remove, Close. Its fields are
    filled when a row is picked; nothing is saved until Save is pressed.

    A card above the grid rather than an overlay: dbc.Offcanvas, closed from a callback or
    after a callback changed its content, stayed half-closed and kept the focus."""
    return html.Section(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.H3("Member", id=EDIT_TITLE, className="h5 mb-0", tabIndex="-1"),
                        dbc.Button(
                            [
                                html.I(className="bi bi-x-lg", **{"aria-hidden": "true"}),
                                _hidden("Close"),
                            ],
                            id=EDIT_CLOSE,
                            color="link",
                            class_name="ms-auto p-0 text-body",
                            n_clicks=0,
                            title="Close",
                        ),
                    ],
                    className="d-flex align-items-center mb-1",
                ),
                html.Div(id=EDIT_WHO, className="mb-3"),
                dcc.Store(id=EDIT_USER),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label("Role", html_for=EDIT_ROLE),
                                dbc.Select(
                                    id=EDIT_ROLE,
                                    options=[{"label": label, "value": v} for v, label in ROLES],
                                    value="agent",
                                ),
                                dbc.FormText(id=EDIT_ROLE_NOTE, color="secondary"),
                            ],
                            md=4,
                            class_name="mb-3",
                        ),
                        dbc.Col(
                            [
                                html.Label(
                                    "Phone numbers", htmlFor=EDIT_NUMBERS, className="form-label"
                                ),
                                dcc.Dropdown(
                                    id=EDIT_NUMBERS,
                                    options=[],
                                    value=[],
                                    multi=True,
                                    placeholder="No numbers: sees no calls",
                                ),
                                dbc.FormText(
                                    "An agent sees the calls and messages of these numbers only.",
                                    color="secondary",
                                ),
                            ],
                            id=EDIT_NUMBERS_WRAP,
                            md=8,
                            class_name="mb-3",
                        ),
                    ],
                    class_name="g-3",
                ),
                html.Div(
                    [
                        dbc.Button("Save changes", id=EDIT_SAVE, color="primary", n_clicks=0),
                        dbc.Button(
                            [
                                html.I(className="bi bi-person-x me-1", **{"aria-hidden": "true"}),
                                "Remove…",
                            ],
                            id=EDIT_REMOVE,
                            color="danger",
                            outline=True,
                            n_clicks=0,
                        ),
                    ],
                    className="d-flex flex-wrap gap-2",
                ),
                html.Div(id=EDIT_STATUS, className="mt-2 small", role="status"),
                html.Div(id=EDIT_REMOVE_NOTE, className="mt-2 small team-note"),
            ]
        ),
        id=EDIT,
        className=EDITOR_HIDDEN,
        **{"aria-labelledby": EDIT_TITLE},
    )


def editor_fields(m: Member, numbers: Sequence[tuple[int, str]], *, me: int) -> dict:
    """What the side panel shows for member `m`, by the panel's output names."""
    own = m.user_id == me
    return {
        "title": m.display_name,
        "who": [
            html.Div(m.email, className="text-break"),
            html.Div(f"Last sign-in: {m.last_login or 'never'}", className="small team-note"),
        ],
        "role": m.role,
        "role_disabled": own,
        "role_note": "You cannot change your own role; another org admin can." if own else "",
        "options": [{"label": label, "value": nid} for nid, label in numbers],
        "numbers": list(m.numbers),
        "remove_disabled": m.refusal is not None,
        "remove_note": m.refusal or "",
    }


def numbers_hidden(role: object) -> str:
    """The numbers field is for agents; managers and admins see every call."""
    return "mb-3 col-md-8" if role == "agent" else "d-none"


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
