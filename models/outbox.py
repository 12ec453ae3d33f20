"""The mail outbox: messages kept in the database when no SMTP server is set (or it failed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow


class OutboxMail(Base):
    """Mail that would have been sent when SMTP_URL is unset."""

    __tablename__ = "outbox_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def keep_in_outbox(session: Session, to: str, subject: str, body: str) -> OutboxMail:
    """Store a message that was not sent, for an admin to read or resend."""
    mail = OutboxMail(to_address=to, subject=subject, body=body)
    session.add(mail)
    session.flush()
    return mail
