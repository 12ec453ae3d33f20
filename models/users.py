"""Accounts: organisations, users, passwords, memberships and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from models.base import utcnow
from models.orgs import Membership, Organization, Role, User
from models.params import id_or_none
from models.tokens import ApiToken

#: argon2-cffi's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes, 4 lanes).
PRODUCTION_HASHER = PasswordHasher()
_hasher = PRODUCTION_HASHER
# Verified against when the email is unknown, so a miss costs as much as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD = 8


def use_hasher(hasher: PasswordHasher) -> None:
    """Swap the argon2 parameters for this process (tests use cheap ones; production never calls it)."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash("not-a-real-password")


class AccountError(ValueError):
    """A request about accounts that cannot be carried out, in words for a person."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD} characters.")
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and bool(user)
    except (VerificationError, InvalidHashError):
        return False


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise AccountError(f"{email or 'An empty value'} is not an email address.")
    return email


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:80] or "org"


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (one answer for every failure)."""
    user = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if not verify_password(user, password or "") or user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Change the password and end every existing session of that user."""
    user.password_hash = hash_password(password)
    user.session_version += 1


def revoke_sessions(session: Session, user_id: int) -> None:
    user = session.get(User, user_id)
    if user is not None:
        user.session_version += 1


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == (email or "").strip().lower()))


def find_org(session: Session, ref: str | int) -> Organization | None:
    """An organisation by id, slug or name."""
    ref = str(ref).strip()
    conds = [Organization.slug == ref.lower(), func.lower(Organization.name) == ref.lower()]
    org_id = id_or_none(ref)
    if org_id is not None:
        conds.append(Organization.id == org_id)
    return session.scalar(select(Organization).where(or_(*conds)).order_by(Organization.id))


def create_org(session: Session, name: str, slug: str | None = None) -> Organization:
    name = (name or "").strip()
    if not name:
        raise AccountError("An organisation needs a name.")
    slug = slugify(slug or name)
    if session.scalar(select(Organization.id).where(Organization.slug == slug)) is not None:
        raise AccountError(f"An organisation with the slug {slug!r} already exists.")
    org = Organization(name=name, slug=slug)
    session.add(org)
    session.flush()
    return org


def create_user(
    session: Session,
    email: str,
    password: str,
    *,
    name: str = "",
    platform_admin: bool = False,
) -> User:
    email = normalize_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"A user with the email {email} already exists.")
    user = User(
        email=email,
        name=name or email.split("@")[0],
        password_hash=hash_password(password),
        is_platform_admin=platform_admin,
        is_active=True,
        session_version=1,
    )
    session.add(user)
    session.flush()
    return user


def add_membership(session: Session, user: User, org: Organization, role: Role | str) -> Membership:
    """Give `user` a role in `org`, replacing the role they had there."""
    try:
        role = Role(role)
    except ValueError as exc:
        choices = ", ".join(r.value for r in Role)
        raise AccountError(f"Unknown role {role!r}; choose one of {choices}.") from exc
    membership = session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.org_id == org.id)
    )
    if membership is None:
        membership = Membership(user_id=user.id, org_id=org.id, role=role)
        session.add(membership)
    else:
        membership.role = role
    session.flush()
    return membership


def user_count(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0


def load_user(session: Session, user_id: int, session_version: int) -> User | None:
    """The user for a session cookie, if the cookie has not been revoked."""
    user = session.get(User, user_id)
    if user is None or not user.is_active or user.session_version != session_version:
        return None
    return user


@dataclass(frozen=True)
class NewToken:
    token: str
    record: ApiToken


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str = "") -> NewToken:
    """A new API token; the plain value is shown once and only its hash is kept."""
    token = "sb_" + secrets.token_urlsafe(32)
    record = ApiToken(user_id=user.id, name=name or "cli", token_hash=_token_hash(token))
    session.add(record)
    session.flush()
    return NewToken(token, record)


def revoke_token(session: Session, user_id: int, token_id: int) -> bool:
    """Revoke one of `user_id`'s tokens; False when they have no such live token."""
    stmt = (
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.user_id == user_id, ApiToken.revoked.is_(False))
        .values(revoked=True)
    )
    revoked = cast(CursorResult, session.execute(stmt))  # what an UPDATE returns: has rowcount
    return revoked.rowcount == 1


def deactivate_user(session: Session, user: User) -> None:
    """Sign the user out everywhere and revoke every API token, for good.

    Tokens stay revoked if the account is reactivated: a token leaked while the account
    was off must not come back to life with it.
    """
    user.is_active = False
    user.session_version += 1
    session.execute(update(ApiToken).where(ApiToken.user_id == user.id).values(revoked=True))


def user_for_token(session: Session, token: str) -> User | None:
    record = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _token_hash(token), ApiToken.revoked.is_(False)
        )
    )
    if record is None:
        return None
    user = session.get(User, record.user_id)
    if user is None or not user.is_active:
        return None
    record.last_used_at = utcnow()
    return user
