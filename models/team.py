"""The team of an organisation: members, roles, phone-number assignments and invitations."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.base import utcnow
from models.invitations import Invitation
from models.orgs import Membership, PhoneAssignment, PhoneNumber, Role, User
from models.params import id_or_none
from models.scope import MANAGE_TEAM, SEE_ORG, AccessDenied, Viewer, visible
from models.users import AccountError, add_membership, create_user, normalize_email

INVITE_DAYS = 7


@dataclass(frozen=True)
class Member:
    user_id: int
    email: str
    name: str
    role: str
    numbers: tuple[int, ...]
    last_login: str | None


def _can_view(viewer: Viewer) -> None:
    viewer.require_to(SEE_ORG)


def _can_edit(viewer: Viewer) -> None:
    viewer.require_to(MANAGE_TEAM)


def members(session: Session, viewer: Viewer) -> list[Member]:
    """Everyone in the viewer's organisation with their role and assigned numbers."""
    _can_view(viewer)
    rows = session.execute(
        select(User.id, User.email, User.name, Membership.role, User.last_login_at)
        .join(Membership, Membership.user_id == User.id)
        .where(visible(viewer, Membership))
        .order_by(User.email)
    ).all()
    assigned: dict[int, list[int]] = {}
    for user_id, number_id in session.execute(
        select(PhoneAssignment.user_id, PhoneAssignment.phone_number_id).where(
            visible(viewer, PhoneAssignment)
        )
    ):
        assigned.setdefault(user_id, []).append(number_id)
    return [
        Member(
            uid,
            email,
            name,
            Role(role).value,
            tuple(sorted(assigned.get(uid, []))),
            last.strftime("%Y-%m-%d %H:%M") if last else None,
        )
        for uid, email, name, role, last in rows
    ]


def org_numbers(session: Session, viewer: Viewer) -> list[tuple[int, str]]:
    """(id, "label (number)") of the organisation's phone numbers."""
    _can_view(viewer)
    rows = session.execute(
        select(PhoneNumber.id, PhoneNumber.number, PhoneNumber.label)
        .where(visible(viewer, PhoneNumber))
        .order_by(PhoneNumber.label, PhoneNumber.number)
    )
    return [
        (nid, f"{label} ({number})" if label and label != number else number)
        for nid, number, label in rows
    ]


def _membership(session: Session, viewer: Viewer, user_id: int) -> Membership:
    member_id = id_or_none(user_id)  # a forged id (1.5, "x", 2**64) is nobody
    membership = session.scalar(
        select(Membership).where(visible(viewer, Membership), Membership.user_id == member_id)
    )
    if membership is None:
        raise AccountError("That person is not a member of this organisation.")
    return membership


def _admins(session: Session, viewer: Viewer) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                visible(viewer, Membership), Membership.role == Role.ORG_ADMIN
            )
        )
        or 0
    )


def set_role(session: Session, viewer: Viewer, user_id: int, role: str) -> None:
    _can_edit(viewer)
    try:
        new_role = Role(role)
    except ValueError as exc:
        raise AccountError(f"Unknown role {role!r}.") from exc
    membership = _membership(session, viewer, user_id)
    if (
        membership.role == Role.ORG_ADMIN
        and new_role != Role.ORG_ADMIN
        and _admins(session, viewer) <= 1
    ):
        raise AccountError("An organisation needs at least one org admin.")
    membership.role = new_role
    if new_role != Role.AGENT:
        session.execute(
            delete(PhoneAssignment).where(
                visible(viewer, PhoneAssignment),
                PhoneAssignment.user_id == membership.user_id,
            )
        )


def remove_member(session: Session, viewer: Viewer, user_id: int) -> None:
    _can_edit(viewer)
    membership = _membership(session, viewer, user_id)
    if membership.user_id == viewer.user_id:
        raise AccountError("You cannot remove yourself.")
    if membership.role == Role.ORG_ADMIN and _admins(session, viewer) <= 1:
        raise AccountError("An organisation needs at least one org admin.")
    session.execute(
        delete(PhoneAssignment).where(
            visible(viewer, PhoneAssignment), PhoneAssignment.user_id == membership.user_id
        )
    )
    session.delete(membership)


def assign_numbers(session: Session, viewer: Viewer, user_id: int, number_ids: list[int]) -> None:
    """Replace the agent's numbers; numbers of other organisations are refused."""
    _can_edit(viewer)
    membership = _membership(session, viewer, user_id)
    if membership.role != Role.AGENT:
        raise AccountError("Only agents have assigned numbers; managers see every call.")
    asked = {id_or_none(n) for n in number_ids} if isinstance(number_ids, list | tuple) else {None}
    wanted = {n for n in asked if n is not None}
    if None in asked:
        raise AccountError("Choose numbers from the list.")
    ours = set(session.scalars(select(PhoneNumber.id).where(visible(viewer, PhoneNumber))))
    if not wanted <= ours:
        raise AccessDenied("Those numbers do not belong to this organisation.")
    session.execute(
        delete(PhoneAssignment).where(
            visible(viewer, PhoneAssignment), PhoneAssignment.user_id == membership.user_id
        )
    )
    session.add_all(
        PhoneAssignment(org_id=viewer.org_id, user_id=membership.user_id, phone_number_id=n)
        for n in sorted(wanted)
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(session: Session, viewer: Viewer, email: str, role: str) -> tuple[Invitation, str]:
    """A pending invitation and its secret token (only its hash is stored)."""
    _can_edit(viewer)
    email = normalize_email(email)
    try:
        role = Role(role)
    except ValueError as exc:
        raise AccountError(f"Unknown role {role!r}.") from exc
    existing = session.scalar(
        select(User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(User.email == email, visible(viewer, Membership))
    )
    if existing is not None:
        raise AccountError(f"{email} is already a member.")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        org_id=viewer.org_id,
        email=email,
        role=role,
        token_hash=_hash(token),
        invited_by_id=viewer.user_id,
        expires_at=utcnow() + timedelta(days=INVITE_DAYS),
    )
    session.add(invitation)
    session.flush()
    return invitation, token


def pending_invitations(session: Session, viewer: Viewer) -> list[Invitation]:
    _can_view(viewer)
    return list(
        session.scalars(
            select(Invitation)
            .where(
                visible(viewer, Invitation),
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at.desc())
        )
    )


def revoke_invitation(session: Session, viewer: Viewer, invitation_id: int) -> None:
    _can_edit(viewer)
    found_id = id_or_none(invitation_id)
    invitation = session.scalar(
        select(Invitation).where(visible(viewer, Invitation), Invitation.id == found_id)
    )
    if invitation is None:
        raise AccountError("No such invitation.")
    session.delete(invitation)


def find_invitation(session: Session, token: str) -> Invitation | None:
    """The open invitation for this token, or None (unknown, used or expired)."""
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == _hash(token or ""))
    )
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.expires_at <= utcnow()
    ):
        return None
    return invitation


#: Said for every refused account creation, so the invite page never tells whether an address
#: already has an account.
CANNOT_CREATE = (
    "No new account can be made for this invitation. If you already use syncboard "
    "with this address, sign in to accept it."
)


def invitation_summary(session: Session, token: str) -> tuple[Invitation, str] | None:
    """The open invitation and its organisation's name, for the invite page."""
    from models.orgs import Organization

    invitation = find_invitation(session, token)
    org = None if invitation is None else session.get(Organization, invitation.org_id)
    if invitation is None or org is None:
        return None
    return invitation, org.name


def _claim(session: Session, token: str) -> Invitation:
    """Mark the invitation used in one conditional UPDATE, so parallel accepts yield one winner."""
    invitation = find_invitation(session, token)
    if invitation is None:
        raise AccountError("This invitation link is not valid any more; ask for a new one.")
    stmt = (
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    claimed = cast(CursorResult, session.execute(stmt))  # what an UPDATE returns: has rowcount
    if claimed.rowcount != 1:
        raise AccountError("This invitation link is not valid any more; ask for a new one.")
    session.refresh(invitation)
    return invitation


def accept_invitation(
    session: Session,
    token: str,
    *,
    password: str = "",
    name: str = "",
    user_id: int | None = None,
) -> User:
    """Join the organisation, as the signed-in `user_id` or with a new account.

    An existing account joins only while signed in (the sign-in form and its limiter
    checked the password); a password typed here never unlocks an existing account.
    """
    invitation = _claim(session, token)
    from models.orgs import Organization

    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or user.email != invitation.email or not user.is_active:
            raise AccountError(f"This invitation is for {invitation.email}.")
    else:
        if session.scalar(select(User.id).where(User.email == invitation.email)) is not None:
            raise AccountError(CANNOT_CREATE)
        try:
            user = create_user(session, invitation.email, password, name=name)
        except IntegrityError as exc:  # a parallel accept created the account first
            raise AccountError(CANNOT_CREATE) from exc
    org = session.get(Organization, invitation.org_id)
    if org is None:  # the organisation was deleted since the invitation was claimed
        raise AccountError("This invitation link is not valid any more; ask for a new one.")
    try:
        add_membership(session, user, org, invitation.role)
        session.flush()
    except IntegrityError as exc:
        raise AccountError(CANNOT_CREATE) from exc
    return user
