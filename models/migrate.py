"""Schema upgrades through Alembic, callable from the CLI, the app start and tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    if engine.dialect.name == "sqlite":
        _upgrade_sqlite(engine, cfg)
        return
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _upgrade_sqlite(engine: Engine, cfg: Config) -> None:
    """Upgrade with foreign keys off, as SQLite asks for rebuilding tables (batch mode).

    Our engine turns foreign keys on; then dropping a table that batch mode rebuilds runs
    its ON DELETE actions, so rebuilding `cases` would empty case_tags and the status
    history, and rebuilding `contacts` would unlink every call from its contact. The
    pragma is ignored inside a transaction, so it is set before one starts; violations are
    checked before the commit and the connection goes back to the pool as it came.
    """
    with engine.connect() as conn:
        enforced = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"The upgrade left broken foreign keys: {broken[:5]}")
        finally:
            conn.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")
            conn.commit()


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest revision."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head
