"""Visibility is decided once: org membership, role, and an agent's assigned numbers."""

from __future__ import annotations

from sqlalchemy import func, select

from models.kpis import call_kpis
from models.orgs import User
from models.records import Call
from models.scope import MANAGE_SYNCS, SEE_ORG, AccessDenied, build_viewer, orgs_for, visible


def viewer_for(db, world, key, org=None):
    with db.session() as s:
        return build_viewer(s, s.get(User, world.users[key]), org)


def visible_calls(db, viewer) -> set[int]:
    with db.session() as s:
        return set(s.scalars(select(Call.phone_number_id).where(visible(viewer, Call))))


def test_agent_sees_only_calls_on_their_numbers(db, world):
    one = viewer_for(db, world, "agent_a1")
    two = viewer_for(db, world, "agent_a2")
    assert one.role == "agent" and one.phone_number_ids == {world.numbers["a1"]}
    assert visible_calls(db, one) == {world.numbers["a1"]}
    assert visible_calls(db, two) == {world.numbers["a2"], world.numbers["a3"]}
    with db.session() as s:
        assert call_kpis(s, one).total == 4
        assert call_kpis(s, one).answered == 3
        assert call_kpis(s, two).total == 5


def test_agent_sees_only_their_own_phone_numbers(db, world):
    from models.orgs import PhoneNumber

    def numbers(viewer) -> set[int]:
        with db.session() as s:
            return set(s.scalars(select(PhoneNumber.id).where(visible(viewer, PhoneNumber))))

    org_a = {world.numbers[k] for k in ("a1", "a2", "a3")}
    assert numbers(viewer_for(db, world, "agent_a1")) == {world.numbers["a1"]}
    assert numbers(viewer_for(db, world, "agent_a2")) == {world.numbers["a2"], world.numbers["a3"]}
    assert numbers(viewer_for(db, world, "manager_a")) == org_a


def test_agent_without_numbers_sees_no_calls(db, world):
    from models.orgs import PhoneAssignment

    with db.session() as s:
        s.execute(
            PhoneAssignment.__table__.delete().where(
                PhoneAssignment.user_id == world.users["agent_a1"]
            )
        )
        s.commit()
    viewer = viewer_for(db, world, "agent_a1")
    assert viewer.phone_number_ids == frozenset()
    with db.session() as s:
        assert call_kpis(s, viewer).total == 0


def test_managers_and_admins_see_their_whole_org_only(db, world):
    for key in ("manager_a", "admin_a"):
        viewer = viewer_for(db, world, key)
        with db.session() as s:
            kpis = call_kpis(s, viewer)
        assert kpis.total == world.calls_a
        assert kpis.answered == 6 and kpis.missed == 2 and kpis.voicemail == 1
        assert kpis.answer_rate == 6 / 9
        assert kpis.average_handle_time == 120
    # asking for another org's id falls back to an org the user belongs to
    sneaky = viewer_for(db, world, "manager_a", org=world.org_b)
    assert sneaky.org_id == world.org_a


def test_platform_admin_sees_the_org_they_choose(db, world):
    viewer = viewer_for(db, world, "platform", org=world.org_b)
    assert viewer.org_id == world.org_b and viewer.role == "platform_admin"
    with db.session() as s:
        assert call_kpis(s, viewer).total == world.calls_b
        assert [o[0] for o in orgs_for(s, s.get(User, world.users["platform"]))] == [
            world.org_a,
            world.org_b,
        ]


def test_user_without_membership_sees_nothing(db, world):
    from models.users import create_user

    with db.session() as s:
        user = create_user(s, "loner@example.com", "loner-password")
        s.commit()
        viewer = build_viewer(s, user, None)
        assert viewer.org_id is None
        assert call_kpis(s, viewer).total == 0
        assert s.scalar(select(func.count()).select_from(Call)) == world.calls_a + world.calls_b


def test_role_checks_read_the_permission_map(db, world):
    agent = viewer_for(db, world, "agent_a1")
    admin = viewer_for(db, world, "admin_a")
    assert admin.can_manage_syncs and not agent.can_manage_syncs
    try:
        agent.require_to(SEE_ORG)
    except AccessDenied:
        pass
    else:
        raise AssertionError("an agent passed a manager check")
    admin.require_to(MANAGE_SYNCS)
    manager = viewer_for(db, world, "manager_a")
    assert manager.may_all_of("manager") and admin.may_all_of("manager")
    assert agent.may_all_of("agent") and not agent.may_all_of("manager")
    assert not manager.may_all_of("org_admin")


def test_schedule_writes_read_the_permission_map(db, world):
    import pytest

    from models.connections import set_schedule
    from models.scope import MANAGE_SYNCS, PERMISSIONS
    from models.sync_errors import NotFound
    from tests.helpers import make_connection

    conn = make_connection(db, world.org_a, "demo")
    assert {role for role, may in PERMISSIONS.items() if MANAGE_SYNCS in may} == {
        "platform_admin",
        "org_admin",
    }
    for key in ("manager_a", "agent_a1"):
        with db.session() as s, pytest.raises(AccessDenied):
            set_schedule(s, viewer_for(db, world, key), conn.id, 30)
    with db.session() as s, pytest.raises(NotFound):
        set_schedule(s, viewer_for(db, world, "admin_b"), conn.id, 30)
    for key, org in (("admin_a", None), ("platform", world.org_a)):
        with db.session() as s:
            saved = set_schedule(s, viewer_for(db, world, key, org), conn.id, 30)
            assert (saved.schedule_minutes, saved.schedule_enabled) == (30, True)
