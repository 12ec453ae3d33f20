"""What happens before the app serves: schema upgrade (SQLite) and the first platform admin."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy import inspect

from models.db import get_engine, session_scope
from models.migrate import is_current, upgrade
from models.users import create_user, user_count
from settings import Settings

log = logging.getLogger("syncboard")
DEFAULT_ADMIN = "admin@syncboard.local"


def prepare(settings: Settings) -> None:
    """Upgrade an embedded SQLite database by itself; PostgreSQL is upgraded by `init-db`."""
    engine = get_engine()
    if settings.is_sqlite:
        upgrade(engine)
    elif not is_current(engine):
        names = inspect(engine).get_table_names()
        hint = "empty" if not names else "behind the code"
        log.warning("The database schema is %s; run `syncboard init-db`.", hint)
        return
    ensure_admin(settings.admin_email, settings.admin_password)


def ensure_admin(email: str | None, password: str | None) -> tuple[str, str] | None:
    """Create the first platform admin when no user exists; returns (email, generated password)."""
    with session_scope() as db:
        if user_count(db):
            return None
        email = email or DEFAULT_ADMIN
        generated = password is None
        password = password or secrets.token_urlsafe(12)
        create_user(db, email, password, name="Platform admin", platform_admin=True)
    if generated:
        banner = f"Created platform admin {email} with password: {password}"
        print(
            f"\n{'=' * len(banner)}\n{banner}\n(shown once; set ADMIN_PASSWORD to choose it)\n{'=' * len(banner)}\n",
            flush=True,
        )
        return email, password
    log.info("Created platform admin %s", email)
    return None
