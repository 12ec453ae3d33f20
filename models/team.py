"""The team of an organisation: members, roles, phone-number assignments and invitations."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.base import utcnow
from models.invitations import Invitation, hash_token, make_token, stored_token
from models.orgs import Membership, Organization, PhoneAssignment, PhoneNumber, Role, User
from models.paging import fetch_page, search_clause
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
    #: why the viewer may not remove this member (themself, the last org admin), else None
    refusal: str | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.email


@dataclass(frozen=True)
class PendingInvitation:
    """An open invitation; `token` only for viewers who may manage the team (a link lets its
    holder make an account for that address), and None when the link cannot be made again."""

    id: int
    email: str
    role: str
    expires_at: datetime
    token: str | None


@dataclass(frozen=True)
class Removal:
    """Who a removal would take out of which organisation, and why it would be refused."""

    user_id: int
    name: str
    email: str
    org_name: str
    refusal: str | None


ONE_ADMIN = "An organisation needs at least one org admin."
NOT_YOURSELF = "You cannot remove yourself."


def removal_refusal(*, is_self: bool, is_admin: bool, admins: int) -> str | None:
    """Why a member may not be removed: the page disables the button, the server refuses."""
    if is_self:
        return NOT_YOURSELF
    if is_admin and admins <= 1:
        return ONE_ADMIN
    return None


def _can_view(viewer: Viewer) -> None:
    viewer.require_to(SEE_ORG)


def _can_edit(viewer: Viewer) -> None:
    viewer.require_to(MANAGE_TEAM)


def _member_select():
    return select(
        User.id.label("user_id"),
        User.email.label("email"),
        User.name.label("name"),
        Membership.role.label("role"),
        User.last_login_at.label("last_login_at"),
    ).join(Membership, Membership.user_id == User.id)


def _as_members(session: Session, viewer: Viewer, rows: list[Any]) -> list[Member]:
    """Members from `_member_select` rows, with their numbers and whether they can be removed."""
    ids = [row["user_id"] for row in rows]
    assigned: dict[int, list[int]] = {}
    for user_id, number_id in session.execute(
        select(PhoneAssignment.user_id, PhoneAssignment.phone_number_id).where(
            visible(viewer, PhoneAssignment), PhoneAssignment.user_id.in_(ids)
        )
    ):
        assigned.setdefault(user_id, []).append(number_id)
    admins = _admins(session, viewer) if rows else 0
    found = []
    for row in rows:
        role = Role(row["role"])
        last = row["last_login_at"]
        found.append(
            Member(
                row["user_id"],
                row["email"],
                row["name"],
                role.value,
                tuple(sorted(assigned.get(row["user_id"], []))),
                last.strftime("%Y-%m-%d %H:%M") if last else None,
                removal_refusal(
                    is_self=row["user_id"] == viewer.user_id,
                    is_admin=role == Role.ORG_ADMIN,
                    admins=admins,
                ),
            )
        )
    return found


def members(session: Session, viewer: Viewer) -> list[Member]:
    """Everyone in the viewer's organisation with their role and assigned numbers."""
    _can_view(viewer)
    rows = session.execute(
        _member_select().where(visible(viewer, Membership)).order_by(User.email)
    ).mappings()
    return _as_members(session, viewer, list(rows))


#: What the members grid may sort on (anything else falls back to the name).
MEMBER_SORTS = {
    "name": func.lower(func.coalesce(func.nullif(User.name, ""), User.email)),
    "email": User.email,
    "role": Membership.role,
    "last_login": User.last_login_at,
}


def member_page(
    session: Session,
    viewer: Viewer,
    *,
    search: str | None = None,
    sort: str | None = None,
    descending: bool = False,
    page: int = 0,
    page_size: int = 25,
) -> tuple[list[Member], int]:
    """One page of the members grid (searched on name and email) and how many match."""
    _can_view(viewer)
    stmt = _member_select().where(visible(viewer, Membership))
    found = search_clause([User.name, User.email], search)
    if found is not None:
        stmt = stmt.where(found)
    result = fetch_page(
        session,
        stmt,
        sortable=MEMBER_SORTS,
        sort=sort if sort in MEMBER_SORTS else "name",
        descending=descending if sort in MEMBER_SORTS else False,
        page=page,
        page_size=page_size,
        tiebreak=User.id,
    )
    return _as_members(session, viewer, result.rows), result.total


def member(session: Session, viewer: Viewer, user_id: object) -> Member:
    """One member of the viewer's organisation (AccountError for anyone else)."""
    _can_view(viewer)
    rows = session.execute(
        _member_select().where(visible(viewer, Membership), User.id == id_or_none(user_id))
    ).mappings()
    found = _as_members(session, viewer, list(rows))
    if not found:
        raise AccountError("That person is not a member of this organisation.")
    return found[0]


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


def _role(raw: object) -> Role:
    try:
        return Role(raw if isinstance(raw, str) else "")
    except ValueError as exc:
        raise AccountError(f"Unknown role {raw!r}.") from exc


def set_role(session: Session, viewer: Viewer, user_id: int, role: str) -> bool:
    """Give the member `role`; False when they have it already (nothing was changed).

    The team page's selects report their value whenever the table is drawn, and a POST can
    repeat a value: comparing with the stored role is what tells a change from a redraw.
    """
    _can_edit(viewer)
    new_role = _role(role)
    membership = _membership(session, viewer, user_id)
    if membership.role == new_role:
        return False
    if membership.role == Role.ORG_ADMIN and _admins(session, viewer) <= 1:
        raise AccountError(ONE_ADMIN)
    membership.role = new_role
    if new_role != Role.AGENT:
        session.execute(
            delete(PhoneAssignment).where(
                visible(viewer, PhoneAssignment),
                PhoneAssignment.user_id == membership.user_id,
            )
        )
    return True


def removal(session: Session, viewer: Viewer, user_id: int) -> Removal:
    """What the remove-member confirmation names: the person, the organisation, any refusal."""
    _can_edit(viewer)
    membership = _membership(session, viewer, user_id)
    user = session.get(User, membership.user_id)
    org = session.get(Organization, membership.org_id)
    assert user is not None and org is not None  # the membership's foreign keys hold them
    return Removal(
        user.id,
        user.name or user.email,
        user.email,
        org.name,
        removal_refusal(
            is_self=user.id == viewer.user_id,
            is_admin=membership.role == Role.ORG_ADMIN,
            admins=_admins(session, viewer),
        ),
    )


def remove_member(session: Session, viewer: Viewer, user_id: int) -> None:
    _can_edit(viewer)
    membership = _membership(session, viewer, user_id)
    refusal = removal_refusal(
        is_self=membership.user_id == viewer.user_id,
        is_admin=membership.role == Role.ORG_ADMIN,
        admins=_admins(session, viewer),
    )
    if refusal:
        raise AccountError(refusal)
    session.execute(
        delete(PhoneAssignment).where(
            visible(viewer, PhoneAssignment), PhoneAssignment.user_id == membership.user_id
        )
    )
    session.delete(membership)


def assign_numbers(session: Session, viewer: Viewer, user_id: int, number_ids: list[int]) -> bool:
    """Replace the agent's numbers; False when they are the ones held already (no change).

    Numbers of other organisations are refused. Like set_role, an unchanged list is a redraw
    of the picker or a repeated POST, not something the admin did.
    """
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
    held = set(
        session.scalars(
            select(PhoneAssignment.phone_number_id).where(
                visible(viewer, PhoneAssignment), PhoneAssignment.user_id == membership.user_id
            )
        )
    )
    if held == wanted:
        return False
    session.execute(
        delete(PhoneAssignment).where(
            visible(viewer, PhoneAssignment), PhoneAssignment.user_id == membership.user_id
        )
    )
    session.add_all(
        PhoneAssignment(org_id=viewer.org_id, user_id=membership.user_id, phone_number_id=n)
        for n in sorted(wanted)
    )
    return True


def _open(viewer: Viewer):
    """The clauses of the viewer's organisation's open invitations."""
    return (
        visible(viewer, Invitation),
        Invitation.accepted_at.is_(None),
        Invitation.expires_at > utcnow(),
    )


def invitation_problem(session: Session, viewer: Viewer, email: str) -> str | None:
    """Why this address cannot be invited (not an address, a member, invited already), or None.

    The invite form shows it next to the field as the admin types; invite() asks it again.
    """
    _can_edit(viewer)
    try:
        address = normalize_email(email)
    except AccountError as exc:
        return str(exc)
    member = session.scalar(
        select(User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(User.email == address, visible(viewer, Membership))
    )
    if member is not None:
        return f"{address} is already a member."
    invited = session.scalar(
        select(Invitation.id).where(*_open(viewer), Invitation.email == address)
    )
    if invited is not None:
        return f"{address} is invited already: copy or resend that invitation below."
    return None


def _new_expiry() -> datetime:
    """Seven days from now in whole seconds, as the token derives from it (see make_token)."""
    return (utcnow() + timedelta(days=INVITE_DAYS)).replace(microsecond=0)


def invite(session: Session, viewer: Viewer, email: str, role: str) -> tuple[Invitation, str]:
    """A pending invitation and its link token (only the token's hash is stored)."""
    _can_edit(viewer)
    new_role = _role(role)
    problem = invitation_problem(session, viewer, email)
    if problem:
        raise AccountError(problem)
    invitation = Invitation(
        org_id=viewer.org_id,
        email=normalize_email(email),
        role=new_role,
        token_hash=hash_token(secrets.token_urlsafe(16)),  # a placeholder until the id is known
        invited_by_id=viewer.user_id,
        expires_at=_new_expiry(),
    )
    session.add(invitation)
    session.flush()  # the token derives from the id
    token = make_token(invitation)
    invitation.token_hash = hash_token(token)
    session.flush()
    return invitation, token


def pending_invitations(session: Session, viewer: Viewer) -> list[PendingInvitation]:
    """Open invitations, newest first; links only for viewers who may manage the team."""
    _can_view(viewer)
    links = viewer.may(MANAGE_TEAM)
    return [
        PendingInvitation(
            inv.id,
            inv.email,
            inv.role.value,
            inv.expires_at,
            stored_token(inv) if links else None,
        )
        for inv in session.scalars(
            select(Invitation).where(*_open(viewer)).order_by(Invitation.created_at.desc())
        )
    ]


def _invitation(session: Session, viewer: Viewer, invitation_id: object) -> Invitation:
    found = session.scalar(
        select(Invitation).where(
            visible(viewer, Invitation), Invitation.id == id_or_none(invitation_id)
        )
    )
    if found is None:
        raise AccountError("No such invitation.")
    return found


def renew_invitation(
    session: Session, viewer: Viewer, invitation_id: int
) -> tuple[Invitation, str]:
    """Resend: seven more days and a new link; the previous link stops working.

    A fresh link rather than the same one: an invitation is resent because the mail was
    lost or the week ran out, and a link that may have gone astray should not keep working.
    """
    _can_edit(viewer)
    invitation = _invitation(session, viewer, invitation_id)
    if invitation.accepted_at is not None:
        raise AccountError(f"{invitation.email} has accepted this invitation already.")
    # A later expiry, by a second at least, is what makes the token new (see make_token).
    invitation.expires_at = max(_new_expiry(), invitation.expires_at + timedelta(seconds=1))
    token = make_token(invitation)
    invitation.token_hash = hash_token(token)
    session.flush()
    return invitation, token


def revoke_invitation(session: Session, viewer: Viewer, invitation_id: int) -> None:
    _can_edit(viewer)
    session.delete(_invitation(session, viewer, invitation_id))


def find_invitation(session: Session, token: str) -> Invitation | None:
    """The open invitation for this token, or None (unknown, used or expired)."""
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == hash_token(token or ""))
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
