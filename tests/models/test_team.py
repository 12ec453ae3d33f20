"""Team management: roles, number assignments and invitations, checked against the viewer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.orgs import Membership, PhoneAssignment, User
from models.outbox import OutboxMail
from models.scope import AccessDenied, build_viewer
from models.team import (
    accept_invitation,
    assign_numbers,
    find_invitation,
    invite,
    members,
    remove_member,
    set_role,
)
from models.users import AccountError


def find_prop(tree, component_id: str):
    """The children of the component with this id anywhere in a callback's JSON answer."""
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == component_id:
            return tree["props"]["children"]
        values = tree.values()
    elif isinstance(tree, list):
        values = tree
    else:
        return None
    for value in values:
        found = find_prop(value, component_id)
        if found is not None:
            return found
    return None


def viewer(s, world, key):
    return build_viewer(s, s.get(User, world.users[key]), None)


def test_members_lists_roles_and_numbers(db, world):
    with db.session() as s:
        rows = {m.email: m for m in members(s, viewer(s, world, "manager_a"))}
        assert rows["agent_a2@example.com"].numbers == (world.numbers["a2"], world.numbers["a3"])
        assert rows["admin_a@example.com"].role == "org_admin"
        assert "admin_b@example.com" not in rows
        with pytest.raises(AccessDenied):
            members(s, viewer(s, world, "agent_a1"))


def test_admin_assigns_numbers_but_not_foreign_ones(db, world):
    with db.session() as s:
        admin = viewer(s, world, "admin_a")
        assign_numbers(
            s, admin, world.users["agent_a1"], [world.numbers["a1"], world.numbers["a3"]]
        )
        s.commit()
        got = set(
            s.scalars(
                select(PhoneAssignment.phone_number_id).where(
                    PhoneAssignment.user_id == world.users["agent_a1"]
                )
            )
        )
        assert got == {world.numbers["a1"], world.numbers["a3"]}
        with pytest.raises(AccessDenied):
            assign_numbers(s, admin, world.users["agent_a1"], [world.numbers["b1"]])
        with pytest.raises(AccessDenied):
            assign_numbers(s, viewer(s, world, "manager_a"), world.users["agent_a1"], [])
        with pytest.raises(AccountError):
            assign_numbers(s, admin, world.users["admin_b"], [])


def test_roles_keep_one_admin(db, world):
    with db.session() as s:
        admin = viewer(s, world, "admin_a")
        with pytest.raises(AccountError, match="at least one org admin"):
            set_role(s, admin, world.users["admin_a"], "manager")
        set_role(s, admin, world.users["agent_a2"], "manager")
        s.commit()
        assert not s.scalars(
            select(PhoneAssignment).where(PhoneAssignment.user_id == world.users["agent_a2"])
        ).all()
        with pytest.raises(AccountError, match="cannot remove yourself"):
            remove_member(s, admin, world.users["admin_a"])
        remove_member(s, admin, world.users["agent_a1"])
        s.commit()
        assert (
            s.scalar(select(Membership).where(Membership.user_id == world.users["agent_a1"]))
            is None
        )


def test_invitation_round_trip(db, world):
    with db.session() as s:
        admin = viewer(s, world, "admin_a")
        invitation, token = invite(s, admin, "New.Person@Example.com", "agent")
        s.commit()
        assert invitation.email == "new.person@example.com"
        with pytest.raises(AccountError, match="already a member"):
            invite(s, admin, "manager_a@example.com", "agent")
        user = accept_invitation(s, token, password="new-person-pw", name="New Person")
        s.commit()
        assert user.name == "New Person"
        assert find_invitation(s, token) is None
        with pytest.raises(AccountError, match="not valid"):
            accept_invitation(s, token, password="again-again")


def test_invite_page_and_outbox(client, db, world):
    from tests.helpers import dash_post, login

    login(client, "admin_a@example.com")
    client.get("/_dash-layout")
    response = dash_post(
        client,
        "..team-message.children...team-refresh.data...team-invite-email.value..",
        [{"id": "team-invite-send", "property": "n_clicks", "value": 1}],
        state=[
            {"id": "team-invite-email", "property": "value", "value": "fresh@example.com"},
            {"id": "team-invite-role", "property": "value", "value": "manager"},
            {"id": "team-refresh", "property": "data", "value": 0},
        ],
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    link = find_prop(response.get_json(), "team-invite-link")
    assert link.startswith("/invite/")
    with db.session() as s:
        mail = s.scalar(select(OutboxMail))
        assert mail.to_address == "fresh@example.com" and link in mail.body
    fresh = client.application.test_client()
    page = fresh.get(link)
    assert page.status_code == 200 and "Join Alpha Co" in page.get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    joined = fresh.post(
        link, data={"csrf_token": token, "name": "Fresh", "password": "fresh-password"}
    )
    assert joined.status_code == 302
    assert fresh.get("/_dash-layout").status_code == 200
    assert fresh.get(link).status_code == 404


def test_manager_cannot_forge_team_changes(client, db, world):
    from tests.helpers import dash_post, login

    login(client, "manager_a@example.com")
    client.get("/_dash-layout")
    forged = dash_post(
        client,
        "..team-message.children...team-refresh.data..",
        [
            [  # an ALL input is a list of the matching components, as the browser sends it
                {
                    "id": {"type": "team-role", "user": world.users["agent_a1"]},
                    "property": "value",
                    "value": "org_admin",
                }
            ]
        ],
        state=[{"id": "team-refresh", "property": "data", "value": 0}],
    )
    assert forged.status_code == 200
    assert "Only org admins" in forged.get_data(as_text=True)
    with db.session() as s:
        role = s.scalar(
            select(Membership.role).where(Membership.user_id == world.users["agent_a1"])
        )
        assert role.value == "agent"
