"""Who may see what: the one place that turns a viewer into query filters.

Every query function takes a `Viewer` and calls `visible()` for each table it reads;
no page or callback decides access on its own. Agents see only the phone numbers
assigned to them and the calls and SMS on those numbers; they see their org's contacts, cases and tickets so
they can work on them. Managers and org admins see their whole organisation. A
platform admin sees the organisation they have chosen, with org-admin rights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, String, cast, false, func, or_, select, true
from sqlalchemy.orm import Session

from models.orgs import Membership, Organization, PhoneAssignment, PhoneNumber, Role, User
from models.records import Call, Sms

PLATFORM_ADMIN = "platform_admin"

#: What each role may do: the one map every check reads (through `Viewer.may`/`require_to`).
MANAGE_SYNCS = "manage_syncs"  # connections, schedules, runs, cancels, uploads
MANAGE_TEAM = "manage_team"  # members, numbers, invitations
SEE_ORG = "see_org"  # the whole organisation's data: reports, exports, team
WORK_RECORDS = "work_records"  # cases and tickets
PERMISSIONS: dict[str, frozenset[str]] = {
    PLATFORM_ADMIN: frozenset({MANAGE_SYNCS, MANAGE_TEAM, SEE_ORG, WORK_RECORDS}),
    Role.ORG_ADMIN.value: frozenset({MANAGE_SYNCS, MANAGE_TEAM, SEE_ORG, WORK_RECORDS}),
    Role.MANAGER.value: frozenset({SEE_ORG, WORK_RECORDS}),
    Role.AGENT.value: frozenset({WORK_RECORDS}),
}
DENIED = {
    MANAGE_SYNCS: "Only org admins can configure and run syncs.",
    MANAGE_TEAM: "Only org admins can manage the team.",
    SEE_ORG: "Only managers and admins can see the whole organisation's data.",
    WORK_RECORDS: "You do not have permission to do that.",
}


class AccessDenied(PermissionError):
    """The viewer may not do or see this."""


@dataclass(frozen=True)
class Viewer:
    """A signed-in user looking at one organisation."""

    user_id: int
    email: str
    org_id: int | None
    role: str | None
    is_platform_admin: bool = False
    phone_number_ids: frozenset[int] = field(default_factory=frozenset)

    def may(self, permission: str) -> bool:
        """Whether the viewer's role in their organisation grants `permission` (PERMISSIONS)."""
        if self.org_id is None or self.role is None:
            return False
        return permission in PERMISSIONS.get(self.role, frozenset())

    def require_to(self, permission: str) -> None:
        """AccessDenied unless the viewer may do `permission`."""
        if not self.may(permission):
            raise AccessDenied(DENIED.get(permission, "You do not have permission to do that."))

    def may_all_of(self, role: str) -> bool:
        """Whether the viewer may do everything `role` may (what a page open to `role` asks)."""
        if self.org_id is None or self.role is None:
            return False
        return PERMISSIONS[role] <= PERMISSIONS.get(self.role, frozenset())

    @property
    def can_manage_syncs(self) -> bool:
        return self.may(MANAGE_SYNCS)


def orgs_for(session: Session, user: User) -> list[tuple[int, str, str]]:
    """(id, name, role) of every organisation the user may switch to."""
    if user.is_platform_admin:
        every = session.execute(
            select(Organization.id, Organization.name).order_by(Organization.name)
        )
        return [(oid, name, PLATFORM_ADMIN) for oid, name in every]
    rows = session.execute(
        select(Organization.id, Organization.name, Membership.role)
        .join(Membership, Membership.org_id == Organization.id)
        .where(Membership.user_id == user.id)
        .order_by(Organization.name)
    )
    return [(oid, name, Role(role).value) for oid, name, role in rows]


def org_by_ref(session: Session, user: User, ref: str) -> int | None:
    """The id of one of the user's organisations named by id, slug or name (one query), else None."""
    ref = (ref or "").strip()
    wanted = or_(
        Organization.slug == ref,
        func.lower(Organization.name) == ref.lower(),
        cast(Organization.id, String) == ref,
    )
    stmt = select(Organization.id).where(wanted).order_by(Organization.id).limit(1)
    if not user.is_platform_admin:
        stmt = stmt.join(Membership, Membership.org_id == Organization.id).where(
            Membership.user_id == user.id
        )
    return session.scalar(stmt)


def build_viewer(session: Session, user: User, wanted_org_id: int | None) -> Viewer:
    """The viewer for `user` in `wanted_org_id`, or in their first org when that is not theirs."""
    orgs = orgs_for(session, user)
    chosen = next((o for o in orgs if o[0] == wanted_org_id), orgs[0] if orgs else None)
    if chosen is None:
        return Viewer(user.id, user.email, None, None, user.is_platform_admin)
    org_id, _name, role = chosen
    numbers: frozenset[int] = frozenset()
    if role == Role.AGENT.value:
        numbers = frozenset(
            session.scalars(
                select(PhoneAssignment.phone_number_id).where(
                    PhoneAssignment.user_id == user.id, PhoneAssignment.org_id == org_id
                )
            )
        )
    return Viewer(user.id, user.email, org_id, role, user.is_platform_admin, numbers)


def visible(viewer: Viewer, model) -> ColumnElement[bool]:
    """The WHERE clause that limits `model`'s rows to what `viewer` may see."""
    if viewer.org_id is None or viewer.role is None:
        return false()
    clause = model.org_id == viewer.org_id
    if viewer.role == Role.AGENT.value and model in (Call, Sms, PhoneNumber):
        if not viewer.phone_number_ids:
            return false()
        number = model.id if model is PhoneNumber else model.phone_number_id
        clause = clause & number.in_(sorted(viewer.phone_number_ids))
    return clause if clause is not None else true()
