"""Invitations: a link, sent by email, that lets someone join an organisation in a role.

The link's token is not random but an HMAC, keyed from SECRET_KEY, of the invitation's id,
organisation, address and expiry; only its SHA-256 is stored. So the team page can show
and copy a pending invitation's link again (an admin who lost it, or works without SMTP,
needs it), while a copy of the database alone still opens no invitation: making a token
takes the key that also signs sessions. A new expiry (Resend) makes a new token and the
old link stops working; so does changing SECRET_KEY (the page then offers Resend only).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow
from models.orgs import Role
from settings import get_settings


class Invitation(Base):
    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)


def hash_token(token: str) -> str:
    """What is stored for a token: its SHA-256, so the table never holds a working link."""
    return hashlib.sha256((token or "").encode()).hexdigest()


def make_token(invitation: Invitation) -> str:
    """The link token of this invitation (it needs an id and a whole-second expiry)."""
    key = hashlib.sha256(("syncboard-invitation:" + get_settings().secret_key).encode()).digest()
    message = "|".join(
        (
            str(invitation.id),
            str(invitation.org_id),
            invitation.email,
            str(int(invitation.expires_at.timestamp())),
        )
    )
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def stored_token(invitation: Invitation) -> str | None:
    """The token of the link already given out, or None when it can no longer be made again
    (SECRET_KEY changed, or the invitation predates derived tokens): then only Resend helps."""
    token = make_token(invitation)
    return token if hmac.compare_digest(hash_token(token), invitation.token_hash) else None
