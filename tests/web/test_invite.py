"""Invitation links: no password oracle, no account-existence oracle, one winner under races."""

from __future__ import annotations

import re
import threading

from sqlalchemy import func, select

from models.orgs import Membership, User
from models.scope import build_viewer
from models.team import invite
from tests.helpers import PASSWORD, login


def _invite(db, world, email: str, role: str = "agent") -> str:
    with db.session() as s:
        admin = build_viewer(s, s.get(User, world.users["admin_a"]), world.org_a)
        _, token = invite(s, admin, email, role)
        s.commit()
    return f"/invite/{token}"


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _neutral(page: str, email: str, link: str) -> str:
    page = page.replace(email, "EMAIL").replace(link, "LINK")
    page = re.sub(r'value="[^"]+"', 'value=""', page)
    return re.sub(r"next=[^\"]+", "next=", page)


def test_invite_page_looks_the_same_for_existing_and_new_addresses(client, world, db):
    known = _invite(db, world, "platform@example.com")
    fresh = _invite(db, world, "nobody-yet@example.com")
    one = client.get(known).get_data(as_text=True)
    two = client.get(fresh).get_data(as_text=True)
    assert "Your syncboard password" not in one
    assert _neutral(one, "platform@example.com", known) == _neutral(
        two, "nobody-yet@example.com", fresh
    )


def test_invite_form_never_checks_an_existing_accounts_password(client, world, db):
    """The attack: invite the platform admin, then guess their password on the invite page."""
    link = _invite(db, world, "platform@example.com")
    statuses = []
    for guess in [f"guess-{n:04d}" for n in range(12)] + [PASSWORD]:
        page = client.get(link).get_data(as_text=True)
        answer = client.post(
            link, data={"csrf_token": _csrf(page), "action": "create", "password": guess}
        )
        statuses.append(answer.status_code)
        assert answer.status_code != 302
    assert 429 in statuses, statuses
    assert client.get("/_dash-layout").status_code == 401
    with db.session() as s:
        joined = s.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.user_id == world.users["platform"], Membership.org_id == world.org_a)
        )
        assert joined == 0


def test_existing_user_accepts_by_signing_in(client, world, db):
    link = _invite(db, world, "admin_b@example.com", "manager")
    page = client.get(link).get_data(as_text=True)
    signin = re.search(r'id="invite-signin" href="([^"]+)"', page).group(1)
    assert signin.startswith("/login?next=")
    login(client, "admin_b@example.com")
    page = client.get(link).get_data(as_text=True)
    assert 'id="invite-join"' in page and "password" not in page.lower()
    joined = client.post(link, data={"csrf_token": _csrf(page), "action": "join"})
    assert joined.status_code == 302
    with db.session() as s:
        role = s.scalar(
            select(Membership.role).where(
                Membership.user_id == world.users["admin_b"], Membership.org_id == world.org_a
            )
        )
        assert role.value == "manager"
    assert client.get(link).status_code == 404


def test_a_different_signed_in_user_cannot_take_the_invitation(client, world, db):
    link = _invite(db, world, "admin_b@example.com")
    login(client, "agent_a1@example.com")
    page = client.get(link).get_data(as_text=True)
    assert "invite-join" not in page and "sign out" in page
    forged = client.post(link, data={"csrf_token": _csrf(page), "action": "join"})
    assert forged.status_code == 422
    with db.session() as s:
        assert (
            s.scalar(
                select(Membership.id).where(
                    Membership.user_id == world.users["admin_b"], Membership.org_id == world.org_a
                )
            )
            is None
        )


def test_parallel_accepts_of_one_invitation_have_one_winner_and_no_500(server, world, db):
    link = _invite(db, world, "racer@example.com")
    clients = [server.test_client() for _ in range(5)]  # the limit in tests is 5 a minute
    forms = [_csrf(c.get(link).get_data(as_text=True)) for c in clients]
    statuses: list[int] = []
    start = threading.Barrier(len(clients))

    def accept(c, token):
        start.wait()
        response = c.post(
            link, data={"csrf_token": token, "action": "create", "password": "racer-password"}
        )
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=accept, args=pair) for pair in zip(clients, forms, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses).count(302) == 1, statuses
    assert all(code in (302, 404, 422) for code in statuses), statuses
    with db.session() as s:
        assert s.scalar(select(func.count()).where(User.email == "racer@example.com")) == 1
