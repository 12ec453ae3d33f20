"""Team management: roles, number assignments and invitations, checked against the viewer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.orgs import Membership, PhoneAssignment, User
from models.scope import AccessDenied, build_viewer
from models.team import (
    ONE_ADMIN,
    accept_invitation,
    assign_numbers,
    find_invitation,
    invitation_problem,
    invite,
    members,
    pending_invitations,
    removal,
    remove_member,
    renew_invitation,
    set_role,
)
from models.users import AccountError


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


def test_an_unchanged_role_or_number_list_changes_nothing(db, world):
    """What the page's selects report when drawn is the stored value: not a change."""
    with db.session() as s:
        admin = viewer(s, world, "admin_a")
        assert set_role(s, admin, world.users["agent_a2"], "agent") is False
        assert set_role(s, admin, world.users["admin_a"], "org_admin") is False  # the only admin
        held = [world.numbers["a3"], world.numbers["a2"]]
        assert assign_numbers(s, admin, world.users["agent_a2"], held) is False
        assert assign_numbers(s, admin, world.users["agent_a2"], [world.numbers["a2"]]) is True
        assert set_role(s, admin, world.users["agent_a1"], "manager") is True
        s.commit()
        rows = {m.email: m for m in members(s, admin)}
        assert rows["agent_a2@example.com"].numbers == (world.numbers["a2"],)
        assert rows["agent_a1@example.com"].role == "manager"
        with pytest.raises(AccountError, match="Unknown role"):
            set_role(s, admin, world.users["agent_a2"], ["agent"])  # a forged non-string


def test_removal_names_the_person_and_refuses_the_last_admin(db, world):
    with db.session() as s:
        admin = viewer(s, world, "admin_a")
        found = removal(s, admin, world.users["agent_a1"])
        assert (found.email, found.org_name, found.refusal) == (
            "agent_a1@example.com",
            "Alpha Co",
            None,
        )
        assert removal(s, admin, world.users["admin_a"]).refusal == "You cannot remove yourself."
        rows = {m.email: m for m in members(s, admin)}
        assert rows["admin_a@example.com"].refusal == "You cannot remove yourself."
        assert rows["manager_a@example.com"].refusal is None
        set_role(s, admin, world.users["manager_a"], "org_admin")
        s.commit()
        other = viewer(s, world, "manager_a")  # now an org admin too
        set_role(s, other, world.users["admin_a"], "manager")
        s.commit()
        # admin_a is a manager now; manager_a, the only org admin, is refused by everyone
        assert removal(s, other, world.users["manager_a"]).refusal == "You cannot remove yourself."
        with pytest.raises(AccountError, match=ONE_ADMIN):
            set_role(s, other, world.users["manager_a"], "agent")
        with pytest.raises(AccountError, match="not a member"):
            removal(s, other, world.users["admin_b"])


def test_invitation_problems_are_named(db, world):
    with db.session() as s:
        admin = viewer(s, world, "admin_a")
        assert "not an email address" in invitation_problem(s, admin, "jane@")
        assert "already a member" in invitation_problem(s, admin, " Manager_A@example.com ")
        assert invitation_problem(s, admin, "admin_b@example.com") is None  # org B's only
        invite(s, admin, "jane@example.com", "agent")
        s.commit()
        assert "invited already" in invitation_problem(s, admin, "JANE@example.com")
        with pytest.raises(AccountError, match="invited already"):
            invite(s, admin, "jane@example.com", "manager")
        with pytest.raises(AccessDenied):
            invitation_problem(s, viewer(s, world, "manager_a"), "x@example.com")


def test_a_pending_link_can_be_shown_again_and_resend_replaces_it(db, world):
    from dataclasses import replace

    from settings import get_settings, reset_settings

    with db.session() as s:
        admin = viewer(s, world, "admin_a")
        invitation, token = invite(s, admin, "jane@example.com", "agent")
        s.commit()
        [pending] = pending_invitations(s, admin)
        assert pending.token == token and pending.email == "jane@example.com"
        assert [p.token for p in pending_invitations(s, viewer(s, world, "manager_a"))] == [None]
        assert pending_invitations(s, viewer(s, world, "admin_b")) == []
        with pytest.raises(AccountError, match="No such invitation"):
            renew_invitation(s, viewer(s, world, "admin_b"), invitation.id)
        first_expiry = invitation.expires_at
        renewed, new_token = renew_invitation(s, admin, invitation.id)
        s.commit()
        assert new_token != token and renewed.expires_at >= first_expiry
        assert find_invitation(s, token) is None
        assert find_invitation(s, new_token).id == invitation.id
        assert pending_invitations(s, admin)[0].token == new_token
        settings = get_settings()
        reset_settings(replace(settings, secret_key="another-secret-key-0123456789"))
        try:  # a new SECRET_KEY cannot make the link again: the page offers Resend only
            assert pending_invitations(s, admin)[0].token is None
            assert find_invitation(s, new_token).id == invitation.id  # the link still works
        finally:
            reset_settings(settings)
