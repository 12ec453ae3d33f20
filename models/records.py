"""Synced records: contacts, calls, SMS, cases with offices/clusters/tags, tickets.

A synced row is keyed on the connection that brought it, (connection_id, external_id),
so two connections of one connector (two HubSpot portals, two CSV files numbered 1..N)
never overwrite each other; `source` (the connector key) stays as the row's label.
Rows no connection brought (the demo seeder's, manual ones) are unique on
(org_id, source, external_id) instead. `raw` keeps the vendor's record as it arrived.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, JSONType, utcnow

CALL_STATUSES = ("answered", "missed", "voicemail")
DIRECTIONS = ("inbound", "outbound")
CASE_STATUSES = ("new", "acknowledged", "in_progress", "resolved", "closed", "rejected")
TICKET_STATUSES = ("open", "pending", "in_progress", "resolved", "closed")
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")


#: Rows that no connection ever brought: the seeder's, manual ones, and rows older than
#: connection keying whose connection could not be told (migration 0007).
UNATTACHED = "origin_connection_id IS NULL"


def _synced(table: str) -> tuple:
    """The two sync keys: per connection, and per source for rows no connection brought."""
    return (
        UniqueConstraint("connection_id", "external_id", name=f"uq_{table}_connection_key"),
        Index(
            f"uq_{table}_unattached_key",
            "org_id",
            "source",
            "external_id",
            unique=True,
            sqlite_where=text(UNATTACHED),
            postgresql_where=text(UNATTACHED),
        ),
    )


class SyncedMixin:
    """Columns every synced record has."""

    #: The connection that keeps this row in sync; NULL when none does (seeded and manual
    #: rows, and rows whose connection was deleted: those are kept, detached).
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("connections.id", ondelete="SET NULL"), default=None
    )
    #: The connection that brought the row, kept after that connection is deleted (no
    #: foreign key): detached rows of two deleted connections may share an external id,
    #: and this keeps them out of the unattached key instead of failing the delete.
    origin_connection_id: Mapped[int | None] = mapped_column(Integer, default=None)
    source: Mapped[str] = mapped_column(String(50), default="manual")
    external_id: Mapped[str] = mapped_column(String(200))
    raw: Mapped[dict | None] = mapped_column(JSONType, default=None)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class Contact(SyncedMixin, Base):
    __tablename__ = "contacts"
    __table_args__ = _synced("contacts")

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    first_name: Mapped[str] = mapped_column(String(200), default="")
    last_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    phone: Mapped[str | None] = mapped_column(String(32), default=None)
    company: Mapped[str | None] = mapped_column(String(300), default=None)
    lifecycle_stage: Mapped[str | None] = mapped_column(String(50), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Company(SyncedMixin, Base):
    """A CRM company (HubSpot companies)."""

    __tablename__ = "companies"
    __table_args__ = _synced("companies")

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(300), default="")
    domain: Mapped[str | None] = mapped_column(String(300), default=None)
    industry: Mapped[str | None] = mapped_column(String(100), default=None)
    phone: Mapped[str | None] = mapped_column(String(32), default=None)
    city: Mapped[str | None] = mapped_column(String(200), default=None)
    country: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Deal(SyncedMixin, Base):
    """A CRM deal (HubSpot deals)."""

    __tablename__ = "deals"
    __table_args__ = _synced("deals")

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(300), default="")
    stage: Mapped[str | None] = mapped_column(String(100), default=None)
    pipeline: Mapped[str | None] = mapped_column(String(100), default=None)
    amount: Mapped[float | None] = mapped_column(default=None)
    close_date: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Call(SyncedMixin, Base):
    __tablename__ = "calls"
    __table_args__ = (
        *_synced("calls"),
        # Covering on PostgreSQL: the overview's aggregates (0004) and the calls table's
        # count and page ordering (0005) read only these indexes.
        Index(
            "ix_calls_org_started_page",
            "org_id",
            "started_at",
            "id",
            postgresql_include=[
                "status",
                "direction",
                "duration_seconds",
                "agent_id",
                "phone_number_id",
                "contact_id",
                "from_number",
                "to_number",
            ],
        ),
        Index(
            "ix_calls_org_phone_started_cover",
            "org_id",
            "phone_number_id",
            "started_at",
            postgresql_include=["status", "direction", "duration_seconds", "agent_id"],
        ),
        Index("ix_calls_org_agent_started", "org_id", "agent_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    phone_number_id: Mapped[int | None] = mapped_column(
        ForeignKey("phone_numbers.id", ondelete="SET NULL"), default=None
    )
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    direction: Mapped[str] = mapped_column(String(10))
    from_number: Mapped[str] = mapped_column(String(32), default="")
    to_number: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    duration_seconds: Mapped[int] = mapped_column(Integer, default=0)
    recording_url: Mapped[str | None] = mapped_column(String(500), default=None)


class Sms(SyncedMixin, Base):
    __tablename__ = "sms_messages"
    __table_args__ = (
        *_synced("sms_messages"),
        Index("ix_sms_org_sent", "org_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    phone_number_id: Mapped[int | None] = mapped_column(
        ForeignKey("phone_numbers.id", ondelete="SET NULL"), default=None
    )
    direction: Mapped[str] = mapped_column(String(10))
    from_number: Mapped[str] = mapped_column(String(32), default="")
    to_number: Mapped[str] = mapped_column(String(32), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime]


class Office(Base):
    __tablename__ = "offices"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    cluster_id: Mapped[int | None] = mapped_column(
        ForeignKey("clusters.id", ondelete="SET NULL"), default=None
    )


class Cluster(Base):
    __tablename__ = "clusters"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))


case_tags = Table(
    "case_tags",
    Base.metadata,
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Case(SyncedMixin, Base):
    """A citizen's report turned into a case handled by an office."""

    __tablename__ = "cases"
    __table_args__ = (
        *_synced("cases"),
        Index("ix_cases_org_reported", "org_id", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="new")
    category: Mapped[str | None] = mapped_column(String(100), default=None)
    office_id: Mapped[int | None] = mapped_column(
        ForeignKey("offices.id", ondelete="SET NULL"), default=None
    )
    cluster_id: Mapped[int | None] = mapped_column(
        ForeignKey("clusters.id", ondelete="SET NULL"), default=None
    )
    reporter_name: Mapped[str | None] = mapped_column(String(200), default=None)
    reporter_phone: Mapped[str | None] = mapped_column(String(32), default=None)
    address: Mapped[str | None] = mapped_column(String(500), default=None)
    latitude: Mapped[float | None] = mapped_column(default=None)
    longitude: Mapped[float | None] = mapped_column(default=None)
    reported_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)

    tags: Mapped[list[Tag]] = relationship(secondary=case_tags)


class CaseStatusChange(Base):
    __tablename__ = "case_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20), default=None)
    to_status: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")


class Ticket(SyncedMixin, Base):
    """A call-centre ticket with a status workflow and an SLA deadline."""

    __tablename__ = "tickets"
    __table_args__ = (
        *_synced("tickets"),
        Index("ix_tickets_org_status", "org_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="open")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    sla_breached: Mapped[bool] = mapped_column(default=False)
