"""Connections to external systems, their sync runs, and the per-stream cursors."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, JSONType, utcnow


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)
FINISHED = ("success", "partial", "failed", "cancelled")
TRIGGERS = ("user", "schedule", "api", "cli")


class Connection(Base):
    """One organisation's account at one external system."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    connector: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str] = mapped_column(String(500), default="")
    #: Fernet-encrypted JSON of the credentials; never sent back to a browser.
    credentials_encrypted: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[dict] = mapped_column(JSONType, default=dict)
    schedule_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    schedule_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    next_run_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class SyncRun(Base):
    """One sync of one connection (one stream, or all when `stream` is NULL)."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        Index("ix_sync_runs_org_created", "org_id", "created_at"),
        Index("ix_sync_runs_connection_created", "connection_id", "created_at"),
        Index("ix_sync_runs_status", "status"),
        # At most one queued or running run per connection and stream ('*' = all streams).
        Index(
            "uq_sync_runs_active",
            "connection_id",
            "lock_key",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    stream: Mapped[str | None] = mapped_column(String(100), default=None)
    lock_key: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(String(20), default="user")
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    options: Mapped[dict] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.QUEUED.value)
    job_id: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Who asked for the cancel from the page or the API (NULL: nobody did, or the user is gone).
    cancelled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    total: Mapped[int | None] = mapped_column(Integer, default=None)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    error_samples: Mapped[list] = mapped_column(JSONType, default=list)
    stats: Mapped[dict] = mapped_column(JSONType, default=dict)
    debug_log: Mapped[str | None] = mapped_column(Text, default=None)

    @property
    def progress(self) -> float:
        """0–1; finished runs are 1, running runs with an unknown total are unknown (0)."""
        if self.status in FINISHED:
            return 1.0
        if self.total:
            return min(self.processed / self.total, 1.0)
        return 0.0

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or utcnow()
        return max((end - self.started_at).total_seconds(), 0.0)


class SyncState(Base):
    """Where a stream's incremental sync resumes; moved only after a batch commits."""

    __tablename__ = "sync_states"
    __table_args__ = (UniqueConstraint("connection_id", "stream"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(100))
    cursor: Mapped[str | None] = mapped_column(String(100), default=None)
    last_success_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConnectionCheck(Base):
    """A Test of a connection not saved yet, kept for the one job that reads and deletes it.

    Jobs take ids only, so the "Add connection" form's input (credentials encrypted like a
    connection's) waits here instead of travelling through Redis as job arguments.
    """

    __tablename__ = "connection_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    connector: Mapped[str] = mapped_column(String(50))
    base_url: Mapped[str] = mapped_column(String(500), default="")
    credentials_encrypted: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
