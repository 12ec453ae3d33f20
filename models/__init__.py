"""SQLAlchemy models, the session, and the query functions that pages and jobs use."""

from models.base import Base
from models.invitations import Invitation
from models.orgs import Membership, Organization, PhoneAssignment, PhoneNumber, Role, User
from models.outbox import OutboxMail
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
from models.saved_reports import ReportDefinition
from models.sync import Connection, ConnectionCheck, RunStatus, SyncRun, SyncState
from models.tokens import ApiToken

__all__ = [
    "ApiToken",
    "Base",
    "Call",
    "Connection",
    "ConnectionCheck",
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
    "ReportDefinition",
    "Role",
    "Sms",
    "Tag",
    "Ticket",
    "User",
    "case_tags",
]
