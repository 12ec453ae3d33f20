"""Team: members, their roles and numbers, and invitations (org admins edit, managers read)."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from models.scope import MANAGE_TEAM
from pages._shell import page_guard, viewer_or_none
from pages._team_ids import (
    CONFIRM,
    CONFIRM_BODY,
    CONFIRM_TITLE,
    COPIED,
    COPY,
    INVITE_CARD,
    INVITE_EMAIL,
    INVITE_FEEDBACK,
    INVITE_RESULT,
    INVITE_ROLE,
    INVITE_SEND,
    INVITES,
    LINK,
    MESSAGE,
    PENDING,
    REFRESH,
    RESEND,
    REVOKE,
    ROLES,
)
from pages._team_view import editor_panel, member_grid

dash.register_page(__name__, path="/team", name="Team", order=80, icon="people", min_role="manager")


def drawn_by_callbacks() -> list:
    """The invitations' buttons and the links to copy."""
    return [
        html.Button(id={"type": RESEND, "invitation": 0}),
        html.Button(id={"type": REVOKE, "invitation": 0}),
        html.Button(id={"type": COPY, "key": 0}),
        html.Div(id={"type": COPIED, "key": 0}),
        dcc.Store(id={"type": LINK, "key": 0}),
    ]


def _invite_form(editable: bool) -> dbc.Card:
    # Present for managers too (hidden) so the form's callbacks always find their ids;
    # the server refuses anyone who may not manage the team whatever the page shows.
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2("Invite someone", className="h6"),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label(
                                    "Email address to invite",
                                    html_for=INVITE_EMAIL,
                                    class_name="visually-hidden",
                                ),
                                dbc.Input(
                                    id=INVITE_EMAIL,
                                    type="email",
                                    placeholder="name@example.com",
                                    autocomplete="off",
                                    debounce=300,
                                    value="",
                                ),
                                dbc.FormFeedback(id=INVITE_FEEDBACK, type="invalid"),
                            ],
                            md=6,
                        ),
                        dbc.Col(
                            [
                                dbc.Label(
                                    "Role of the invited person",
                                    html_for=INVITE_ROLE,
                                    class_name="visually-hidden",
                                ),
                                dbc.Select(
                                    id=INVITE_ROLE,
                                    options=[{"label": label, "value": v} for v, label in ROLES],
                                    value="agent",
                                ),
                            ],
                            md=3,
                        ),
                        dbc.Col(
                            dbc.Button(
                                "Send invitation",
                                id=INVITE_SEND,
                                color="primary",
                                class_name="w-100",
                                disabled=True,
                                n_clicks=0,
                            ),
                            md=3,
                        ),
                    ],
                    class_name="g-2",
                ),
                html.Div(id=INVITE_RESULT, className="mt-3", **{"aria-live": "polite"}),
            ]
        ),
        class_name="mb-3" if editable else "d-none",
        id=INVITE_CARD,
    )


def layout(**_kwargs):
    refusal = page_guard("manager")
    if refusal is not None:
        return refusal
    viewer = viewer_or_none()
    editable = viewer is None or viewer.may(MANAGE_TEAM)  # None: Dash validating, render whole
    return html.Div(
        [
            dcc.Store(id=REFRESH, data=0),
            dcc.Store(id=PENDING),
            html.H1("Team", className="h3 mb-3"),
            html.Div(id=MESSAGE, **{"aria-live": "polite"}),
            _invite_form(editable),
            html.P(
                "Only org admins invite people and change roles or numbers.",
                className="team-note",
            )
            if not editable
            else None,
            html.Div(id=INVITES, className="mb-3 team-invites"),
            html.H2("Members", className="h6 mt-2"),
            html.P(
                "Pick a member (click the row, or Space on it) to change their role or "
                "numbers, or to remove them.",
                className="small team-note mb-2",
            )
            if editable
            else None,
            editor_panel(),
            member_grid(editable),
            dbc.Modal(
                [
                    dbc.ModalHeader(
                        dbc.ModalTitle("Remove from the organisation?", id=CONFIRM_TITLE)
                    ),
                    dbc.ModalBody(id=CONFIRM_BODY),
                    dbc.ModalFooter(
                        [
                            dbc.Button(
                                "Cancel", id=f"{CONFIRM}-cancel", color="secondary", outline=True
                            ),
                            dbc.Button("Remove", id=f"{CONFIRM}-ok", color="danger"),
                        ]
                    ),
                ],
                id=CONFIRM,
                is_open=False,
                labelledby=CONFIRM_TITLE,
            ),
        ]
    )
