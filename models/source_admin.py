"""The sync console's writes (org admins): add, edit and delete a connection.

Each checks that the viewer may manage syncs first and finds the connection through the
viewer's scope. Credentials are stored encrypted and belong to the address they were
entered for (models/url_origin.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models.connections import create_connection, get_connection
from models.connector_facts import Catalogue
from models.credentials import decrypt_credentials, encrypt_credentials
from models.records import SyncedMixin
from models.scope import DENIED, MANAGE_SYNCS, AccessDenied, Viewer
from models.source_views import DEMO_CONNECTOR
from models.sync import ACTIVE, Connection, SyncRun, SyncState
from models.sync_errors import SyncConflict
from models.upserts import TARGETS
from models.url_origin import origin

NAME_LIMIT = 200
URL_LIMIT = 500
BAD_URL = (
    "Enter an address that starts with http:// or https:// and names a host, "
    "e.g. https://api.example.com — or leave it empty for the connector's default."
)


def check_base_url(value: Any) -> str:
    """The base URL as it is saved ("" for the connector's default); ValueError says why not.

    Checked when the form is typed, again when it is saved: "not a url" used to be saved and
    surfaced much later as "Unexpected error: InvalidURL".
    """
    text = str(value or "").strip()
    if not text:
        return ""
    if len(text) > URL_LIMIT:
        raise ValueError(f"A base URL has at most {URL_LIMIT} characters.")
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ValueError(BAD_URL)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError:
        raise ValueError(BAD_URL) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(BAD_URL)
    return text


def check_name(value: Any) -> str:
    """A connection's name, trimmed; ValueError when empty or too long."""
    name = str(value or "").strip()
    if not name:
        raise ValueError("A connection needs a name.")
    if len(name) > NAME_LIMIT:
        raise ValueError(f"A name has at most {NAME_LIMIT} characters.")
    return name


def _synced_models() -> list[type[SyncedMixin]]:
    return [t.model for t in TARGETS.values() if issubclass(t.model, SyncedMixin)]


def _require_manager_of_syncs(viewer: Viewer) -> int:
    """The id of the organisation whose syncs the viewer may manage; AccessDenied if none."""
    viewer.require_to(MANAGE_SYNCS)
    if viewer.org_id is None:  # may() grants nothing without one; this tells the type checker
        raise AccessDenied(DENIED[MANAGE_SYNCS])
    return viewer.org_id


def add_connection(
    session: Session,
    viewer: Viewer,
    *,
    connector: str,
    name: str,
    base_url: str = "",
    token: str = "",
    schedule_minutes: int | None = None,
    settings: dict[str, Any] | None = None,
    credentials: dict[str, str] | None = None,
    catalogue: Catalogue,
) -> Connection:
    """A new connection of the viewer's org; ValueError says what is wrong, in words.

    `credentials` are the connector's secret settings (all stored encrypted); `token` is
    the one named token, kept for callers that have only that. `catalogue` says which
    connectors are installed.
    """
    org_id = _require_manager_of_syncs(viewer)
    if (connector or "") not in catalogue:
        raise ValueError("Choose a connector.")
    name = check_name(name)
    return create_connection(
        session,
        org_id=org_id,
        connector=connector,
        name=name,
        base_url=check_base_url(base_url),
        credentials=dict(credentials or {}) | ({"token": token} if token else {}),
        settings=settings or {},
        schedule_minutes=schedule_minutes,
        created_by_id=viewer.user_id,
    )


@dataclass
class SettingsSaved:
    """A saved connection, and whether its credentials were dropped by the save."""

    connection: Connection
    credentials_cleared: bool = False


def update_connection(
    session: Session,
    viewer: Viewer,
    connection_id: Any,
    *,
    name: str | None = None,
    base_url: str | None = None,
    token: str | None = None,
    credentials: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
    catalogue: Catalogue,
) -> SettingsSaved:
    """Rename, change the base URL, replace secrets (an empty one keeps the saved one), set settings.

    Credentials belong to the address they were entered for: when the origin (scheme,
    host, port) of the base URL changes, every saved secret is dropped unless a new token
    comes with the same save, so a token is never sent to a host nobody typed it for.
    `settings` are the connection's plain settings as they are to be saved: the caller
    merges the form's into the saved ones (Connector.merged_settings keeps undeclared ones).
    """
    _require_manager_of_syncs(viewer)
    conn = get_connection(session, viewer, connection_id)
    typed = dict(credentials or {}) | ({"token": token} if token else {})
    cleared = False
    if name is not None:
        new_name = check_name(name)
        taken = session.scalar(
            select(Connection.id).where(
                Connection.org_id == conn.org_id,
                Connection.name == new_name,
                Connection.id != conn.id,
            )
        )
        if taken is not None:
            raise ValueError(f"This organisation already has a connection named {new_name!r}.")
        conn.name = new_name
    if base_url is not None:
        new_url = check_base_url(base_url)
        facts = catalogue.get(conn.connector)
        default = facts.default_base_url if facts else ""
        if origin(new_url or default) != origin(conn.base_url or default):
            cleared = bool(conn.credentials_encrypted) and not typed
            conn.credentials_encrypted = ""
        conn.base_url = new_url
    if typed:
        try:
            saved = decrypt_credentials(conn.credentials_encrypted)
        except ValueError:
            saved = {}
        conn.credentials_encrypted = encrypt_credentials(saved | typed)
    if settings is not None:
        conn.settings = dict(settings)
    session.flush()
    return SettingsSaved(conn, cleared)


def delete_connection(
    session: Session, viewer: Viewer, connection_id: Any, *, purge_demo_records: bool = False
) -> str:
    """Remove a connection with its runs and cursors; the records it synced are kept, detached.

    Kept rows lose their connection (the foreign key sets connection_id NULL) and keep their
    source label, so the record pages, charts and exports still show them; no other
    connection's rows are touched. A demo connection's records are generated, not anyone's
    data, so `purge_demo_records` deletes them with it (the seeder's demo rows, which no
    connection brought, stay). Asked of any other connector, it keeps the records.
    """
    _require_manager_of_syncs(viewer)
    conn = get_connection(session, viewer, connection_id)
    running = session.scalar(
        select(SyncRun.id).where(SyncRun.connection_id == conn.id, SyncRun.status.in_(ACTIVE))
    )
    if running is not None:
        raise SyncConflict(running, f"Stop the sync in progress (run {running}) before deleting.")
    name = conn.name
    if purge_demo_records and conn.connector == DEMO_CONNECTOR:
        for model in _synced_models():
            session.execute(delete(model).where(model.connection_id == conn.id))
    session.execute(delete(SyncState).where(SyncState.connection_id == conn.id))
    session.execute(delete(SyncRun).where(SyncRun.connection_id == conn.id))
    session.delete(conn)
    session.flush()
    return name
