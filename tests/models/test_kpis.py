"""KPI and chart queries on SQLite and PostgreSQL, with numbers worked out by hand.

`add_analytics` adds a small, fixed week of calls, cases and tickets to the `world`
(1–7 March 2026, compared with 22–28 February); the expected figures below are counted
from that list, not computed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import select

from models.kpis import (
    CallFilter,
    Period,
    agent_choices,
    call_kpis,
    call_kpis_compared,
    calls_by_hour,
    case_stats,
    daily_counts,
    hourly_counts,
    overview_data,
    phone_choices,
    ticket_stats,
    utc_hour,
    utc_hour_start,
    utc_weekday,
    weekly_heatmap,
)
from models.orgs import User
from models.records import Call, Case, Cluster, Office, Ticket
from models.scope import Viewer, build_viewer


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


WEEK = Period.of(at(1), at(8))  # 1–7 March; compared with 22–28 February


def add_analytics(db, world) -> None:
    """The hand-counted week (see the module docstring)."""
    n, u = world.numbers, world.users
    calls = [
        # key, number, agent, direction, status, started, seconds
        ("c1", "a1", "agent_a1", "inbound", "answered", at(2, 9, 15), 100),  # Mon 09h
        ("c2", "a1", "agent_a1", "inbound", "missed", at(2, 9, 40), 0),  # Mon 09h
        ("c3", "a1", "agent_a1", "outbound", "answered", at(3, 14, 5), 200),  # Tue 14h
        ("c4", "a2", None, "inbound", "voicemail", at(2, 9, 5), 30),  # Mon 09h
        ("c5", "a2", "agent_a2", "inbound", "answered", at(7, 23, 59, 59), 60),  # Sat 23h
        ("c6", "a3", "agent_a2", "inbound", "answered", at(8), 45),  # end is exclusive
        ("c7", "a3", "agent_a2", "inbound", "answered", at(1), 300),  # start is inclusive
        ("b1", "b1", None, "inbound", "answered", at(2, 9), 500),  # org B
        ("p1", "a1", "agent_a1", "inbound", "answered", at(25, 10, month=2), 50),
        ("p2", "a2", None, "inbound", "missed", at(28, 23, 59, month=2), 0),
        ("p3", "a1", "agent_a1", "inbound", "answered", at(21, 23, 59, month=2), 70),  # too old
    ]
    with db.session() as s:
        north_cluster = Cluster(org_id=world.org_a, name="North Cluster")
        s.add(north_cluster)
        s.flush()
        north = Office(org_id=world.org_a, name="North Office", cluster_id=north_cluster.id)
        s.add(north)
        s.flush()
        for key, number, agent, direction, status, started, seconds in calls:
            s.add(
                Call(
                    org_id=world.org_b if key == "b1" else world.org_a,
                    phone_number_id=n[number],
                    agent_id=u[agent] if agent else None,
                    direction=direction,
                    status=status,
                    started_at=started,
                    ended_at=started + timedelta(seconds=seconds),
                    duration_seconds=seconds,
                    source="test",
                    external_id=f"analytics-{key}",
                )
            )
        cases = [
            # key, status, reported, resolved, updated, office
            ("k1", "new", at(2), None, at(2), north),
            ("k2", "in_progress", at(10, month=2), None, at(20, month=2), north),
            ("k3", "resolved", at(10, month=2), at(3), at(3), north),
            ("k4", "closed", at(20, month=2), at(26, month=2), at(5), None),
            ("k5", "rejected", at(27, month=2), None, at(4), None),
            ("k6", "acknowledged", at(9), None, at(9), north),
            ("k7", "resolved", at(1, month=1), at(5, month=1), at(5, month=1), north),
            ("k8", "new", at(2), None, at(2), None),  # org B
            ("k9", "resolved", at(4), at(6), at(6), None),
        ]
        for key, status, reported, resolved, updated, office in cases:
            s.add(
                Case(
                    org_id=world.org_b if key == "k8" else world.org_a,
                    title=key,
                    status=status,
                    office_id=office.id if office else None,
                    cluster_id=office.cluster_id if office else None,
                    reported_at=reported,
                    resolved_at=resolved,
                    updated_at=updated,
                    source="test",
                    external_id=key,
                )
            )
        tickets = [
            # key, status, created, resolved, due, breached
            ("t1", "open", at(2), None, at(3), True),
            ("t2", "pending", at(20, month=2), None, at(27, month=2), True),
            ("t3", "resolved", at(25, month=2), at(2), at(1), True),
            ("t4", "closed", at(3), at(4), at(10), False),
            ("t5", "in_progress", at(9), None, at(12), False),
            ("t6", "open", at(2), None, at(2), True),  # org B
            ("t7", "resolved", at(23, month=2), at(24, month=2), at(26, month=2), False),
        ]
        for key, status, created, resolved, due, breached in tickets:
            s.add(
                Ticket(
                    org_id=world.org_b if key == "t6" else world.org_a,
                    subject=key,
                    status=status,
                    created_at=created,
                    updated_at=resolved or created,
                    resolved_at=resolved,
                    due_at=due,
                    sla_breached=breached,
                    source="test",
                    external_id=key,
                )
            )
        s.commit()


def viewer_for(db, world, key: str) -> Viewer:
    with db.session() as s:
        return build_viewer(s, s.get(User, world.users[key]), None)


@pytest.fixture
def week(db, world):
    add_analytics(db, world)
    return world


def test_calls_this_week_and_last(db, week):
    manager = viewer_for(db, week, "manager_a")
    with db.session() as s:
        now, before = call_kpis_compared(s, manager, WEEK)
    assert (now.total, now.answered, now.missed, now.voicemail) == (6, 4, 1, 1)
    assert now.total_duration == 690
    assert now.average_handle_time == 165  # (100 + 200 + 60 + 300) / 4
    assert now.answer_rate == pytest.approx(4 / 6)
    assert (before.total, before.answered, before.missed, before.voicemail) == (2, 1, 1, 0)
    assert before.total_duration == 50 and before.average_handle_time == 50


def test_compared_kpis_match_two_single_period_queries(db, week):
    manager = viewer_for(db, week, "manager_a")
    with db.session() as s:
        now, before = call_kpis_compared(s, manager, WEEK)
        assert now == call_kpis(s, manager, start=WEEK.start, end=WEEK.end)
        assert before == call_kpis(s, manager, start=WEEK.prev_start, end=WEEK.prev_end)


def test_today_so_far_is_compared_with_yesterday_until_the_same_time(db, week):
    manager = viewer_for(db, week, "manager_a")
    # Monday 2 March until 09:30: c4 (09:05) and c1 (09:15) count; yesterday until 09:30: c7.
    today = Period.of(at(2), at(2, 9, 30), timedelta(days=1))
    assert (today.prev_start, today.prev_end) == (at(1), at(1, 9, 30))
    with db.session() as s:
        now, before = call_kpis_compared(s, manager, today)
    assert (now.total, now.answered, now.voicemail) == (2, 1, 1)
    assert (before.total, before.answered) == (1, 1)


def test_agent_sees_only_their_numbers(db, week):
    one = viewer_for(db, week, "agent_a1")
    two = viewer_for(db, week, "agent_a2")
    with db.session() as s:
        now, before = call_kpis_compared(s, one, WEEK)
        assert (now.total, now.answered, now.missed, now.total_duration) == (3, 2, 1, 300)
        assert before.total == 1
        now, _ = call_kpis_compared(s, two, WEEK)
        assert (now.total, now.answered, now.voicemail) == (3, 2, 1)
        # A number that is not theirs narrows to nothing; it never widens the scope.
        forged, forged_before = call_kpis_compared(
            s, one, WEEK, CallFilter(phone=week.numbers["a2"])
        )
        assert forged.total == 0 and forged_before.total == 0
        other_org = CallFilter(phone=week.numbers["b1"])
        assert (
            call_kpis_compared(s, viewer_for(db, week, "manager_a"), WEEK, other_org)[0].total == 0
        )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (dict(phone="a2"), (2, 1)),  # c4, c5
        (dict(agent="agent_a2"), (2, 2)),  # c5, c7
        (dict(direction="outbound"), (1, 1)),  # c3
        (dict(weekday=0, hour=9), (3, 1)),  # c1, c2, c4
        (dict(weekday=6), (1, 1)),  # c7 (Sunday)
        (dict(hour=23), (1, 1)),  # c5
    ],
)
def test_filters(db, week, filters, expected):
    ids = {**week.numbers, **week.users}
    f = CallFilter(**{k: ids.get(v, v) if isinstance(v, str) else v for k, v in filters.items()})
    with db.session() as s:
        now, _ = call_kpis_compared(s, viewer_for(db, week, "manager_a"), WEEK, f)
    assert (now.total, now.answered) == expected


def test_charts(db, week):
    manager = viewer_for(db, week, "manager_a")
    with db.session() as s:
        data = overview_data(s, manager, WEEK)
    days = data.per_day.set_index("day")[["answered", "missed", "voicemail"]]
    assert list(days.index) == [date(2026, 3, d) for d in range(1, 8)]
    assert days.to_dict("index") == {
        date(2026, 3, 1): {"answered": 1, "missed": 0, "voicemail": 0},
        date(2026, 3, 2): {"answered": 1, "missed": 1, "voicemail": 1},
        date(2026, 3, 3): {"answered": 1, "missed": 0, "voicemail": 0},
        date(2026, 3, 4): {"answered": 0, "missed": 0, "voicemail": 0},
        date(2026, 3, 5): {"answered": 0, "missed": 0, "voicemail": 0},
        date(2026, 3, 6): {"answered": 0, "missed": 0, "voicemail": 0},
        date(2026, 3, 7): {"answered": 1, "missed": 0, "voicemail": 0},
    }
    cells = {(r.weekday, r.hour): r.calls for r in data.heatmap.itertuples()}
    assert cells == {(0, 9): 3, (1, 14): 1, (5, 23): 1, (6, 0): 1}
    agents = {r.agent_id: (r.agent, r.calls, r.answered) for r in data.agents.itertuples()}
    u = week.users
    assert agents == {
        u["agent_a1"]: ("agent_a1", 3, 2),
        u["agent_a2"]: ("agent_a2", 2, 2),
    }
    assert list(data.agents["agent_id"]) == [u["agent_a1"], u["agent_a2"]]  # busiest first
    numbers = {r.phone_number_id: (r.calls, r.answered) for r in data.numbers.itertuples()}
    n = week.numbers
    assert numbers == {n["a1"]: (3, 2), n["a2"]: (2, 1), n["a3"]: (1, 1)}
    assert list(data.numbers["phone_number_id"]) == [n["a1"], n["a2"], n["a3"]]


def test_a_heatmap_cell_narrows_cards_and_days_but_not_the_heatmap(db, week):
    manager = viewer_for(db, week, "manager_a")
    with db.session() as s:
        data = overview_data(s, manager, WEEK, CallFilter(weekday=0, hour=9))
    assert (data.calls.total, data.calls_before.total) == (3, 0)
    assert data.per_day[["answered", "missed", "voicemail"]].sum().to_dict() == {
        "answered": 1,
        "missed": 1,
        "voicemail": 1,
    }
    assert int(data.heatmap["calls"].sum()) == 6
    assert data.agents[["calls", "answered"]].sum().to_dict() == {"calls": 2, "answered": 1}


def test_cases(db, week):
    with db.session() as s:
        stats = case_stats(s, viewer_for(db, week, "manager_a"), WEEK)
        as_agent = case_stats(s, viewer_for(db, week, "agent_a1"), WEEK)
    assert (stats.open_now, stats.open_before) == (2, 3)  # k1 k2 / k2 k3 k5
    assert (stats.resolved, stats.resolved_before) == (2, 1)  # k3 k9 / k4
    rows = {tuple(r) for r in stats.breakdown.itertuples(index=False)}
    assert rows == {
        ("new", "North Office", "North Cluster", 1),
        ("resolved", "No office", "No cluster", 1),
    }
    # Cases are the organisation's, for agents too (see models/scope.py).
    assert (as_agent.open_now, as_agent.resolved) == (2, 2)


def test_tickets(db, week):
    with db.session() as s:
        stats = ticket_stats(s, viewer_for(db, week, "manager_a"), WEEK)
    assert (stats.open_now, stats.open_before) == (2, 2)  # t1 t2 / t2 t3
    assert (stats.breaches, stats.breaches_before) == (2, 1)  # t1 t3 / t2
    assert dict(zip(stats.by_status["status"], stats.by_status["tickets"], strict=True)) == {
        "open": 1,
        "closed": 1,
    }


def test_nothing_for_a_viewer_without_an_org(db, week):
    nobody = Viewer(0, "x@example.com", None, None)
    with db.session() as s:
        data = overview_data(s, nobody, WEEK)
        assert phone_choices(s, nobody) == [] and agent_choices(s, nobody) == []
    assert data.calls.total == 0 and data.cases.open_now == 0 and data.tickets.open_now == 0
    assert data.heatmap.empty and data.agents.empty and data.numbers.empty
    assert len(data.per_day) == 7 and int(data.per_day[["answered"]].sum().iloc[0]) == 0


def test_filter_choices_are_scoped(db, week):
    n, u = week.numbers, week.users
    with db.session() as s:
        manager = viewer_for(db, week, "manager_a")
        assert {pid for pid, _ in phone_choices(s, manager)} == {n["a1"], n["a2"], n["a3"]}
        assert {uid for uid, _ in agent_choices(s, manager)} == {
            u["admin_a"],
            u["manager_a"],
            u["agent_a1"],
            u["agent_a2"],
        }
        one = viewer_for(db, week, "agent_a1")
        assert phone_choices(s, one) == [(n["a1"], "a1 · +15550000000")]
        assert agent_choices(s, one) == [(u["agent_a1"], "agent_a1")]
        two = viewer_for(db, week, "agent_a2")
        assert {pid for pid, _ in phone_choices(s, two)} == {n["a2"], n["a3"]}
        assert [uid for uid, _ in agent_choices(s, two)] == [u["agent_a2"]]


def test_utc_parts_on_this_backend(db, week):
    with db.session() as s:
        row = s.execute(
            select(
                utc_weekday(Call.started_at),
                utc_hour(Call.started_at),
                utc_hour_start(Call.started_at),
            ).where(Call.external_id == "analytics-c5")
        ).one()
    assert row[0] == 5 and row[1] == 23  # Saturday 23:59:59 UTC
    assert pd.Timestamp(row[2]) == pd.Timestamp("2026-03-07 23:00:00")


def test_daily_counts_and_heatmap_fold_hours():
    by_hour = [
        (datetime(2026, 3, 2, 9), 1, 0, 0),  # Monday
        (datetime(2026, 3, 2, 10), 2, 1, 0),
        (datetime(2026, 3, 4, 9), 3, 0, 1),  # Wednesday
        (datetime(2026, 3, 9, 9), 5, 0, 0),  # the next Monday
    ]
    out = daily_counts(by_hour, Period.of(at(1), at(5)))
    assert out["day"].tolist() == [date(2026, 3, d) for d in range(1, 5)]
    assert out["answered"].tolist() == [0, 3, 0, 3]
    assert out["missed"].tolist() == [0, 1, 0, 0]
    assert daily_counts(by_hour, Period.of(at(1), at(5)), hour=9)["answered"].tolist() == [
        0,
        1,
        0,
        3,
    ]
    monday = daily_counts(by_hour, Period.of(at(1), at(5)), weekday=0)
    assert monday["answered"].tolist() == [0, 3, 0, 0]
    assert daily_counts([], Period.of(at(1), at(3)))["day"].tolist() == [
        date(2026, 3, 1),
        date(2026, 3, 2),
    ]
    heat = weekly_heatmap(by_hour)
    assert {(r.weekday, r.hour): r.calls for r in heat.itertuples()} == {
        (0, 9): 6,
        (0, 10): 3,
        (2, 9): 4,
    }
    assert weekly_heatmap([]).empty


def test_hourly_counts_cover_every_hour_of_a_day():
    by_hour = [(datetime(2026, 3, 2, 9), 1, 2, 0), (datetime(2026, 3, 2, 23), 0, 0, 4)]
    out = hourly_counts(by_hour, Period.of(at(2), at(3)))
    assert len(out) == 24 and out["hour"].iloc[0] == datetime(2026, 3, 2)
    assert out["missed"].iloc[9] == 2 and out["voicemail"].iloc[23] == 4
    today = hourly_counts(by_hour, Period.of(at(2), at(2, 9, 30), timedelta(days=1)))
    assert len(today) == 10 and int(today["answered"].sum()) == 1  # until 09:30
    assert int(hourly_counts(by_hour, Period.of(at(2), at(3)), hour=23)["answered"].sum()) == 0


def test_a_single_day_comes_by_hour_too(db, week):
    manager = viewer_for(db, week, "manager_a")
    with db.session() as s:
        one_day = overview_data(s, manager, Period.of(at(2), at(3)))
        whole_week = overview_data(s, manager, WEEK)
    assert whole_week.per_hour is None
    assert len(one_day.per_hour) == 24
    nine = one_day.per_hour.iloc[9]
    assert (nine["answered"], nine["missed"], nine["voicemail"]) == (1, 1, 1)


def test_period_days_and_shift():
    assert Period.of(at(1), at(1, 12)).days() == [date(2026, 3, 1)]
    p = Period.of(at(1), at(8))
    assert (p.prev_start, p.prev_end) == (at(22, month=2), at(1))
    assert len(p.days()) == 7


def test_overview_matches_pandas_on_demo_data(db):
    """At demo scale, the SQL aggregates agree with the same sums done row by row in pandas."""
    from models.demo_data import seed_demo

    now = datetime(2026, 3, 15, 12, tzinfo=UTC)
    summary = seed_demo(db.engine, orgs=1, calls=3000, cases=300, contacts=100, now=now)
    org_id = summary.org_ids[0]
    viewer = Viewer(0, "bench@example.com", org_id, "manager")
    period = Period.of(at(1), at(15), timedelta(days=14))
    with db.session() as s:
        data = overview_data(s, viewer, period)
        by_hour = calls_by_hour(s, viewer, period)
        rows = pd.DataFrame(
            s.execute(
                select(Call.started_at, Call.status, Call.duration_seconds).where(
                    Call.org_id == org_id
                )
            ).all(),
            columns=["started_at", "status", "duration"],
        )
    rows["started_at"] = pd.to_datetime(rows["started_at"], utc=True)
    current = rows[(rows.started_at >= period.start) & (rows.started_at < period.end)]
    before = rows[(rows.started_at >= period.prev_start) & (rows.started_at < period.prev_end)]
    assert data.calls.total == len(current) > 100
    assert data.calls.answered == int((current.status == "answered").sum())
    assert data.calls.total_duration == int(current.duration.sum())
    assert data.calls_before.total == len(before) > 100
    per_day = current.groupby(current.started_at.dt.date).size()
    got = data.per_day.set_index("day")[["answered", "missed", "voicemail"]].sum(axis=1)
    assert got[got > 0].to_dict() == per_day.to_dict()
    cells = current.groupby([current.started_at.dt.day_of_week, current.started_at.dt.hour]).size()
    assert {(r.weekday, r.hour): r.calls for r in data.heatmap.itertuples()} == cells.to_dict()
    assert sum(a + m + v for _h, a, m, v in by_hour) == len(current)
