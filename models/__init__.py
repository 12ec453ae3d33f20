"""SQLAlchemy models, the session, and the query functions that pages and jobs use."""

from models.base import Base
from models.orgs import (
    ApiToken,
    Invitation,
    Membership,
    Organization,
    OutboxMail,
    PhoneAssignment,
    PhoneNumber,
    Role,
    User,
)
from models.records import (
    Call,
    Case,
    CaseStatusChange,
    Cluster,
    Company,
    Contact,
    Deal,
    Office,
    Sms,
    Tag,
    Ticket,
    case_tags,
)
from models.sync import Connection, RunStatus, SyncRun, SyncState

__all__ = [
    "ApiToken",
    "Base",
    "Call",
    "Connection",
    "RunStatus",
    "SyncRun",
    "SyncState",
    "Case",
    "CaseStatusChange",
    "Cluster",
    "Company",
    "Contact",
    "Deal",
    "Invitation",
    "Membership",
    "Office",
    "Organization",
    "OutboxMail",
    "PhoneAssignment",
    "PhoneNumber",
    "Role",
    "Sms",
    "Tag",
    "Ticket",
    "User",
    "case_tags",
]
