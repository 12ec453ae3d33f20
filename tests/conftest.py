"""Fixtures: real SQLite and PostgreSQL databases, a real Redis db, the app built once per run.

PostgreSQL and Redis tests skip with a reason when the service is absent, except
under CI=true, where an absent service is a failure.
"""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("SYNCBOARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_TEST_URL = os.environ.get("SYNCBOARD_TEST_REDIS", "redis://127.0.0.1:6379")

_tmp = Path(tempfile.mkdtemp(prefix="syncboard-tests-"))
os.environ.update(
    SYNCBOARD_INSTANCE_DIR=str(_tmp / "instance"),
    DATABASE_URL=f"sqlite:///{_tmp / 'app.db'}",
    SECRET_KEY="test-secret-key-" + secrets.token_hex(8),
    ADMIN_EMAIL="root@example.com",
    ADMIN_PASSWORD="root-password",
    SYNCBOARD_LOGIN_LIMIT="5 per minute",
    # The vendor fakes (tests/fakes) listen on 127.0.0.1, which connectors refuse by default;
    # tests/connectors/test_egress.py runs with the list empty.
    SYNCBOARD_CONNECTOR_ALLOW_HOSTS="127.0.0.1",
)
for _name in ("REDIS_URL", "SYNCBOARD_URL_PREFIX", "SMTP_URL"):
    os.environ.pop(_name, None)


def _cheap_password_hashes() -> None:
    """argon2 with tiny costs: the suite signs in hundreds of times (tests/models/test_users keeps production's)."""
    from argon2 import PasswordHasher

    from models.users import use_hasher

    use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


_cheap_password_hashes()


def unavailable(what: str, why: str):
    """Skip, or fail under CI where every service must be there."""
    message = f"{what} not available: {why}"
    if CI:
        pytest.fail(message + " (CI=true requires it)")
    pytest.skip(message)


# --- databases ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_url():
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    try:
        import psycopg

        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001
        unavailable("PostgreSQL", str(exc).strip().splitlines()[0])
    name = f"syncboard_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}"
    from models.db import dispose_engines

    dispose_engines()
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session")
def sqlite_url():
    return f"sqlite:///{_tmp / 'data.db'}"


_migrated: set[str] = set()


def _clean(engine) -> None:
    """Empty every table; once more if PostgreSQL picked this cleanup as a deadlock's victim
    (a job thread of the previous test may still be finishing its last write)."""
    from sqlalchemy.exc import OperationalError

    try:
        _clean_once(engine)
    except OperationalError as exc:
        if "deadlock" not in str(exc):
            raise
        time.sleep(0.5)
        _clean_once(engine)


def _clean_once(engine) -> None:
    from sqlalchemy import text

    from models.base import Base

    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        # DELETE children first, then restart the id sequences: on the suite's small tables
        # this is ~5 ms where TRUNCATE ... RESTART IDENTITY takes ~70 ms per test.
        for name in tables:
            conn.execute(text(f"DELETE FROM {name}"))
        if engine.dialect.name == "postgresql":
            sequences = conn.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
            ).scalars()
            calls = ", ".join(f"setval('{name}', 1, false)" for name in sequences)
            if calls:
                conn.execute(text(f"SELECT {calls}"))


@dataclass
class Database:
    """The database a test runs against, switched in as the app's database too."""

    url: str
    engine: object

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def session(self):
        from models.db import session_factory

        return session_factory()()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, app_settings):
    """A clean, migrated database on each backend; the app reads and writes it too."""
    from models.db import get_engine
    from models.migrate import upgrade
    from settings import reset_settings

    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    reset_settings(replace(app_settings, database_url=url))
    engine = get_engine()
    if url not in _migrated:
        upgrade(engine)
        _migrated.add(url)
    _clean(engine)
    yield Database(url, engine)
    reset_settings(app_settings)


@pytest.fixture
def sqlite_db(app_settings):
    """The app's own SQLite database, cleaned (for browser and live-server tests)."""
    from models.db import get_engine

    engine = get_engine()
    _clean(engine)
    return Database(app_settings.database_url, engine)


# --- the app -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def app_settings():
    from settings import get_settings

    return get_settings()


@pytest.fixture(scope="session")
def dash_app(app_settings):
    """The app module, imported once: Dash keeps page and callback registries per process."""
    import app as app_module

    return app_module


@pytest.fixture
def server(dash_app):
    from web.auth import limiter

    limiter.reset()
    dash_app.server.config["TESTING"] = True
    return dash_app.server


@pytest.fixture
def client(server):
    return server.test_client()


# --- Redis -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url():
    """An empty Redis database for this run, flushed before and after.

    Under pytest-xdist each worker takes its own database (gw0: 15, gw1: 14, ...), so
    parallel workers never pick the same empty one.
    """
    try:
        import redis

        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        start = 15 - int(worker[2:]) if worker.startswith("gw") else 15
        for number in range(start, 0, -(8 if worker else 1)):
            conn = redis.Redis.from_url(f"{REDIS_TEST_URL}/{number}", socket_connect_timeout=2)
            if conn.dbsize() == 0:
                break
        else:
            number = start
    except Exception as exc:  # noqa: BLE001
        unavailable("Redis", str(exc))
    url = f"{REDIS_TEST_URL}/{number}"
    conn.flushdb()
    yield url
    conn.flushdb()


# --- a live server for the browser -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(dash_app):
    """The app on a real port, served by werkzeug in a thread."""
    from werkzeug.serving import make_server

    port = free_port()
    httpd = make_server("127.0.0.1", port, dash_app.server, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()


# --- a small world of two organisations ---------------------------------------------------

from tests.helpers import PASSWORD  # noqa: E402


@dataclass
class World:
    org_a: int
    org_b: int
    users: dict[str, int]
    numbers: dict[str, int]
    calls_a: int
    calls_b: int


@pytest.fixture
def world(db) -> World:
    """Org A (admin, manager, two agents, three numbers) and org B, with calls on each number."""
    return build_world(db)


@pytest.fixture
def app_world(sqlite_db) -> World:
    """The same world in the app's own SQLite database (for live-server and browser tests)."""
    return build_world(sqlite_db)


def build_world(db) -> World:
    from datetime import timedelta

    from models.base import utcnow
    from models.orgs import PhoneAssignment, PhoneNumber
    from models.records import Call
    from models.users import add_membership, create_org, create_user

    now = utcnow()
    with db.session() as s:
        a = create_org(s, "Alpha Co", "alpha")
        b = create_org(s, "Beta Co", "beta")
        users = {}
        for key, org, role in [
            ("admin_a", a, "org_admin"),
            ("manager_a", a, "manager"),
            ("agent_a1", a, "agent"),
            ("agent_a2", a, "agent"),
            ("admin_b", b, "org_admin"),
        ]:
            user = create_user(s, f"{key}@example.com", PASSWORD)
            add_membership(s, user, org, role)
            users[key] = user.id
        users["platform"] = create_user(s, "platform@example.com", PASSWORD, platform_admin=True).id
        numbers = {}
        for key, org in [("a1", a), ("a2", a), ("a3", a), ("b1", b)]:
            number = PhoneNumber(org_id=org.id, number=f"+1555000{len(numbers):04d}", label=key)
            s.add(number)
            s.flush()
            numbers[key] = number.id
        s.add(
            PhoneAssignment(org_id=a.id, user_id=users["agent_a1"], phone_number_id=numbers["a1"])
        )
        s.add(
            PhoneAssignment(org_id=a.id, user_id=users["agent_a2"], phone_number_id=numbers["a2"])
        )
        s.add(
            PhoneAssignment(org_id=a.id, user_id=users["agent_a2"], phone_number_id=numbers["a3"])
        )
        # a1: 4 calls (3 answered), a2: 3 calls (1 answered), a3: 2 calls, b1: 5 calls
        plan = [
            ("a1", a, ["answered"] * 3 + ["missed"]),
            ("a2", a, ["answered", "missed", "voicemail"]),
            ("a3", a, ["answered", "answered"]),
            ("b1", b, ["answered"] * 5),
        ]
        n = 0
        for key, org, statuses in plan:
            for status in statuses:
                n += 1
                s.add(
                    Call(
                        org_id=org.id,
                        phone_number_id=numbers[key],
                        direction="inbound",
                        from_number="+15559990000",
                        to_number="+1555000",
                        status=status,
                        started_at=now - timedelta(hours=n),
                        duration_seconds=120 if status == "answered" else 0,
                        source="test",
                        external_id=f"c{n}",
                    )
                )
        s.commit()
        return World(a.id, b.id, users, numbers, calls_a=9, calls_b=5)
