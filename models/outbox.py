"""The mail outbox: messages kept in the database when no SMTP server is set (or it failed)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models.orgs import OutboxMail


def keep_in_outbox(session: Session, to: str, subject: str, body: str) -> OutboxMail:
    """Store a message that was not sent, for an admin to read or resend."""
    mail = OutboxMail(to_address=to, subject=subject, body=body)
    session.add(mail)
    session.flush()
    return mail
