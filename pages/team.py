"""Team: members, their roles and numbers, and invitations (org admins edit, managers read)."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from pages._shell import page_guard
from pages._team_ids import (
    CONFIRM,
    INVITE_EMAIL,
    INVITE_ROLE,
    INVITE_SEND,
    INVITES,
    MEMBERS,
    MESSAGE,
    PENDING,
    REFRESH,
    ROLES,
)

dash.register_page(__name__, path="/team", name="Team", order=80, icon="people", min_role="manager")


def layout(**_kwargs):
    refusal = page_guard("manager")
    if refusal is not None:
        return refusal
    invite_form = dbc.Card(
        dbc.CardBody(
            [
                html.H2("Invite someone", className="h6"),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label(
                                    "Email to invite",
                                    html_for=INVITE_EMAIL,
                                    class_name="visually-hidden",
                                ),
                                dbc.Input(
                                    id=INVITE_EMAIL, type="email", placeholder="name@example.com"
                                ),
                            ],
                            md=6,
                        ),
                        dbc.Col(
                            [
                                dbc.Label(
                                    "Role", html_for=INVITE_ROLE, class_name="visually-hidden"
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
                                className="w-100",
                            ),
                            md=3,
                        ),
                    ],
                    className="g-2",
                ),
                html.Div(id=INVITES, className="mt-3"),
            ]
        ),
        className="mb-3",
    )
    return html.Div(
        [
            dcc.Store(id=REFRESH, data=0),
            dcc.Store(id=PENDING),
            html.H1("Team", className="h3 mb-3"),
            html.Div(id=MESSAGE),
            invite_form,
            dcc.Loading(html.Div(id=MEMBERS), type="dot", delay_show=300),
            dbc.Modal(
                [
                    dbc.ModalHeader(dbc.ModalTitle("Remove from the organisation?")),
                    dbc.ModalBody(
                        "They lose access to this organisation at once. Their past calls and records stay."
                    ),
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
            ),
        ]
    )
