"""The demo-data generator on real SQLite and PostgreSQL: counts, consistency, shape, determinism."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models.db import make_engine
from models.demo_data import (
    DEMO_RECORDINGS,
    DemoSummary,
    database_is_empty,
    demo_recording_wav,
    seed_demo,
)
from models.migrate import upgrade
from models.orgs import Membership, Organization, PhoneAssignment, PhoneNumber, User
from models.records import Call, Case, CaseStatusChange, Contact, Tag, Ticket, case_tags
from models.users import verify_password

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1/postgres"
NOW = datetime(2025, 3, 12, 15, tzinfo=UTC)
SMALL = {"orgs": 2, "calls": 5_000, "cases": 400, "contacts": 300, "now": NOW}
SLA = {"urgent": 4, "high": 24, "normal": 72, "low": 168}


def _sqlite(path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


@pytest.fixture(scope="module")
def pg_factory() -> Iterator[Callable[[], Engine]]:
    """Make fresh, migrated scratch PostgreSQL databases; drop them all afterwards."""
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    made: list[tuple[str, Engine]] = []

    def make() -> Engine:
        name = f"demo_test_{uuid.uuid4().hex[:12]}"
        admin.execute(f'CREATE DATABASE "{name}"')
        engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1/{name}")
        made.append((name, engine))
        upgrade(engine)
        return engine

    yield make
    for name, engine in made:
        engine.dispose()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path) -> Engine:
    if request.param == "sqlite":
        return _sqlite(tmp_path / "demo.db")
    return request.getfixturevalue("pg_factory")()


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request, tmp_path_factory) -> tuple[Engine, DemoSummary]:
    """One small seeded database per backend, shared by the read-only tests."""
    if request.param == "sqlite":
        engine = _sqlite(tmp_path_factory.mktemp("seeded") / "demo.db")
    else:
        engine = request.getfixturevalue("pg_factory")()
    return engine, seed_demo(engine, **SMALL)


def _frame(engine: Engine, stmt) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def _count(engine: Engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def test_counts_match_the_request(seeded):
    engine, summary = seeded
    assert _count(engine, Call) == summary.counts["calls"] == 5_000
    assert _count(engine, Case) == summary.counts["cases"] == 400
    assert _count(engine, Contact) == summary.counts["contacts"] == 300
    assert _count(engine, Ticket) == summary.counts["tickets"] == 200
    assert _count(engine, Organization) == len(summary.orgs) == 2
    assert not database_is_empty(engine)
    assert summary.seconds > 0


def test_each_org_has_an_admin_managers_and_agents(seeded):
    engine, summary = seeded
    people = _frame(
        engine,
        select(Organization.slug, User.email, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .join(Organization, Organization.id == Membership.org_id),
    )
    people["role"] = people["role"].astype(str)
    assert sorted(people["email"]) == sorted(email for email, _ in summary.users)
    for slug, mine in people.groupby("slug"):
        roles = mine["role"].value_counts()
        assert roles["org_admin"] == 1
        assert 1 <= roles["manager"] <= 2
        assert 6 <= roles["agent"] <= 12
        assert f"admin@{slug}.example" in set(mine["email"])
        assert f"agent1@{slug}.example" in set(mine["email"])


def test_demo_users_can_sign_in_with_the_password(seeded):
    engine, summary = seeded
    with Session(engine) as session:
        user = session.scalar(select(User).where(User.email == summary.users[0][0]))
        hashes = set(session.scalars(select(User.password_hash)))
    assert verify_password(user, "demo-password")
    assert not verify_password(user, "wrong-password")
    assert len(hashes) == 1


def test_every_number_has_an_agent_and_agents_have_one_or_two(seeded):
    engine, _ = seeded
    numbers = _frame(engine, select(PhoneNumber.id, PhoneNumber.org_id, PhoneNumber.number))
    assert numbers.groupby("org_id").size().between(4, 10).all()
    assert numbers["number"].str.fullmatch(r"\+1555\d{7}").all()
    links = _frame(
        engine,
        select(PhoneAssignment.user_id, PhoneAssignment.phone_number_id, Membership.role)
        .join(Membership, Membership.user_id == PhoneAssignment.user_id)
        .join(PhoneNumber, PhoneNumber.id == PhoneAssignment.phone_number_id)
        .where(PhoneNumber.org_id == Membership.org_id),
    )
    assert len(links) == _count(engine, PhoneAssignment)
    assert set(links["phone_number_id"]) == set(numbers["id"])
    assert links.groupby("user_id").size().between(1, 2).all()
    assert set(links["role"].astype(str)) == {"agent"}


def test_calls_belong_to_their_org_and_answered_ones_to_an_assigned_agent(seeded):
    engine, _ = seeded
    calls = _frame(
        engine,
        select(
            Call.org_id,
            Call.phone_number_id,
            Call.agent_id,
            Call.direction,
            Call.status,
            Call.started_at,
            Call.ended_at,
            Call.duration_seconds,
            Call.recording_url,
            Call.external_id,
            PhoneNumber.org_id.label("number_org_id"),
        ).join(PhoneNumber, PhoneNumber.id == Call.phone_number_id),
    )
    assert len(calls) == 5_000
    assert (calls["org_id"] == calls["number_org_id"]).all()
    assigned = _frame(engine, select(PhoneAssignment.user_id, PhoneAssignment.phone_number_id))
    pairs = set(zip(assigned["user_id"], assigned["phone_number_id"], strict=True))
    answered = calls[calls["status"] == "answered"]
    assert all(
        (int(a), int(n)) in pairs
        for a, n in zip(answered["agent_id"], answered["phone_number_id"], strict=True)
    )
    assert (answered["duration_seconds"] > 0).all()
    assert (calls.loc[calls["status"] == "missed", "duration_seconds"] == 0).all()
    assert (calls["ended_at"] >= calls["started_at"]).all()
    assert calls["started_at"].min() >= NOW - timedelta(days=120)
    assert calls["ended_at"].max() <= NOW
    assert 0.70 < (calls["direction"] == "inbound").mean() < 0.80
    recorded = calls["recording_url"].notna()
    assert set(calls.loc[recorded, "status"]) == {"answered"}
    assert 0.5 < recorded[calls["status"] == "answered"].mean() < 0.7
    # Every recording is one the app serves itself (the demo's used a host that did not exist).
    assert set(calls.loc[recorded, "recording_url"]) == set(DEMO_RECORDINGS)
    assert not calls.duplicated(["org_id", "external_id"]).any()


def test_calls_follow_weekly_and_daily_rhythm(seeded):
    engine, _ = seeded
    calls = _frame(engine, select(Call.started_at, Call.status, Call.direction))
    started = pd.to_datetime(calls["started_at"], utc=True)
    days = started.dt.normalize()
    per_day = days.value_counts()
    weekday = per_day[per_day.index.day_of_week < 5].mean()
    weekend = per_day[per_day.index.day_of_week >= 5].mean()
    assert weekday > 2 * weekend

    hour = started.dt.hour
    assert (hour == 10).sum() > 10 * (hour == 3).sum()
    inbound = calls["direction"] == "inbound"
    answered = (calls["status"] == "answered")[inbound]
    by_hour = answered.groupby(hour[inbound]).mean()
    office = answered[hour[inbound].between(8, 17)].mean()
    night = answered[~hour[inbound].between(7, 19)].mean()
    assert office > night + 0.2
    assert by_hour.loc[8:17].max() - by_hour.loc[8:17].min() > 0.05


def test_case_history_walks_from_new_to_the_current_status(seeded):
    engine, _ = seeded
    cases = _frame(engine, select(Case.id, Case.org_id, Case.status, Case.resolved_at))
    history = _frame(
        engine,
        select(
            CaseStatusChange.case_id,
            CaseStatusChange.from_status,
            CaseStatusChange.to_status,
            CaseStatusChange.changed_at,
        ).order_by(CaseStatusChange.id),
    )
    assert len(cases) == 400 and cases["status"].nunique() >= 4
    assert set(history["case_id"]) == set(cases["id"])
    for case_id, steps in history.groupby("case_id"):
        assert steps["to_status"].iloc[0] == "new" and pd.isna(steps["from_status"].iloc[0])
        assert list(steps["from_status"].iloc[1:]) == list(steps["to_status"].iloc[:-1])
        assert steps["changed_at"].is_monotonic_increasing
        status = cases.loc[cases["id"] == case_id, "status"].item()
        assert steps["to_status"].iloc[-1] == status
    done = cases["status"].isin(["resolved", "closed"])
    assert cases.loc[done, "resolved_at"].notna().all()
    assert cases.loc[~done, "resolved_at"].isna().all()

    tagged = _frame(
        engine,
        select(case_tags.c.case_id, Tag.org_id.label("tag_org"), Case.org_id.label("case_org"))
        .join(Tag, Tag.id == case_tags.c.tag_id)
        .join(Case, Case.id == case_tags.c.case_id),
    )
    assert (tagged["tag_org"] == tagged["case_org"]).all()
    assert tagged.groupby("case_id").size().max() <= 3


def test_ticket_deadlines_follow_priority_sla(seeded):
    engine, _ = seeded
    tickets = _frame(
        engine,
        select(
            Ticket.status,
            Ticket.priority,
            Ticket.created_at,
            Ticket.due_at,
            Ticket.resolved_at,
            Ticket.sla_breached,
        ),
    )
    hours = (tickets["due_at"] - tickets["created_at"]).dt.total_seconds() / 3600
    assert (hours == tickets["priority"].map(SLA)).all()
    done = tickets["status"].isin(["resolved", "closed"])
    assert tickets.loc[done, "resolved_at"].notna().all()
    assert tickets.loc[~done, "resolved_at"].isna().all()
    late = tickets["resolved_at"].where(done, NOW) > tickets["due_at"]
    assert (tickets["sla_breached"] == late).all()
    assert 0 < tickets["sla_breached"].mean() < 0.6
    assert {"resolved", "closed"} <= set(tickets["status"])
    assert (~done).any()


def _call_figures(engine: Engine) -> dict:
    """Aggregates that must be equal for equal seeds, whatever the backend and ids."""
    with engine.connect() as conn:
        by_status = conn.execute(
            select(
                Call.status,
                Call.direction,
                func.count(),
                func.sum(Call.duration_seconds),
                func.count(Call.agent_id),
                func.count(Call.contact_id),
                func.count(Call.recording_url),
            )
            .group_by(Call.status, Call.direction)
            .order_by(Call.status, Call.direction)
        ).all()
        span = conn.execute(select(func.min(Call.started_at), func.max(Call.started_at))).one()
        per_org = conn.execute(
            select(Organization.slug, func.count(Call.id))
            .join(Call, Call.org_id == Organization.id)
            .group_by(Organization.slug)
            .order_by(Organization.slug)
        ).all()
        cases = conn.execute(
            select(Case.status, func.count()).group_by(Case.status).order_by(Case.status)
        ).all()
    return {
        "by_status": [tuple(r) for r in by_status],
        "span": tuple(span),
        "per_org": [tuple(r) for r in per_org],
        "cases": [tuple(r) for r in cases],
    }


def test_same_seed_gives_the_same_data(tmp_path):
    first, second, other = (_sqlite(tmp_path / f"{n}.db") for n in ("a", "b", "c"))
    seed_demo(first, seed=7, **SMALL)
    seed_demo(second, seed=7, **SMALL)
    seed_demo(other, seed=8, **SMALL)
    assert _call_figures(first) == _call_figures(second)
    assert _call_figures(first) != _call_figures(other)


@pytest.mark.postgres
def test_postgres_copy_and_sqlite_inserts_store_the_same_data(tmp_path, pg_factory):
    sqlite_engine, pg_engine = _sqlite(tmp_path / "a.db"), pg_factory()
    seed_demo(sqlite_engine, seed=7, **SMALL)
    seed_demo(pg_engine, seed=7, **SMALL)
    assert _call_figures(sqlite_engine) == _call_figures(pg_engine)


def test_seeding_twice_adds_new_orgs_with_unique_slugs_and_emails(engine):
    assert database_is_empty(engine)
    first = seed_demo(engine, **SMALL)
    second = seed_demo(engine, **SMALL)
    assert not set(first.slugs) & set(second.slugs)
    with engine.connect() as conn:
        slugs = list(conn.execute(select(Organization.slug)).scalars())
        emails = list(conn.execute(select(User.email)).scalars())
    assert len(slugs) == len(set(slugs)) == 4
    assert len(emails) == len(set(emails)) == len(first.users) + len(second.users)
    assert _count(engine, Call) == 10_000


def test_rejects_nonsense_arguments(tmp_path):
    engine = _sqlite(tmp_path / "x.db")
    with pytest.raises(ValueError):
        seed_demo(engine, orgs=0)
    with pytest.raises(ValueError):
        seed_demo(engine, calls=-1)
    assert database_is_empty(engine)


def test_the_demo_recordings_are_short_small_mono_wavs_the_generator_makes():
    """assets/demo-recordings holds exactly what `demo_recording_wav` writes, and each file is
    2–4 s, mono and under 50 KB; each is served under the URL prefix, as the player links it."""
    import io
    import wave
    from pathlib import Path

    from models.calls import playable_url

    root = Path(__file__).resolve().parents[2]
    for index, path in enumerate(DEMO_RECORDINGS):
        data = (root / path.lstrip("/")).read_bytes()
        assert data == demo_recording_wav(index), path
        assert len(data) < 50_000
        with wave.open(io.BytesIO(data)) as wav:
            assert wav.getnchannels() == 1
            assert 2 <= wav.getnframes() / wav.getframerate() <= 4
        assert playable_url(path, "/analytics/") == "/analytics" + path
