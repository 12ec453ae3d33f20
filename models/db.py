"""The engine and sessionmaker: the one place that opens database connections."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from settings import get_settings

_lock = threading.Lock()
_engines: dict[str, tuple[Engine, sessionmaker[Session]]] = {}


def _private_sqlite_file(url: str) -> None:
    """Create the database file 0600 (SQLite gives its -wal and -shm files the same mode)."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass  # not ours to change (a read-only mount, another owner): SQLite reports real errors


def make_engine(url: str) -> Engine:
    """An engine tuned per backend: WAL and a busy timeout for SQLite so threads can share it."""
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # psycopg's automatic server-side prepares let PostgreSQL switch the upsert's key lookup
    # to a generic plan that scans the whole source; planning each time is far cheaper.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"prepare_threshold": None},
    )


def _pair(url: str) -> tuple[Engine, sessionmaker[Session]]:
    with _lock:
        if url not in _engines:
            engine = make_engine(url)
            _engines[url] = (engine, sessionmaker(bind=engine, expire_on_commit=False))
        return _engines[url]


def get_engine() -> Engine:
    return _pair(get_settings().database_url)[0]


def session_factory() -> sessionmaker[Session]:
    return _pair(get_settings().database_url)[1]


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = session_factory()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def ping() -> None:
    """Raise unless the database answers a trivial query (the health check)."""
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))


def _after_fork_in_child() -> None:
    """A forked RQ work-horse must not reuse the parent's pooled connections."""
    for engine, _ in list(_engines.values()):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)


def dispose_engines() -> None:
    """Close and forget every engine (after a fork, or when tests switch databases)."""
    with _lock:
        for engine, _ in _engines.values():
            engine.dispose()
        _engines.clear()
