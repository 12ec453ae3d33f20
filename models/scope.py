"""Who may see what: the one place that turns a viewer into query filters.

Every query function takes a `Viewer` and calls `visible()` for each table it reads;
no page or callback decides access on its own. Agents see only the phone numbers
assigned to them and the calls and SMS on those numbers; they see their org's contacts, cases and tickets so
they can work on them. Managers and org admins see their whole organisation. A
platform admin sees the organisation they have chosen, with org-admin rights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from models.orgs import Membership, Organization, PhoneAssignment, PhoneNumber, Role, User
from models.records import Call, Sms

PLATFORM_ADMIN = "platform_admin"
ROLE_RANK = {PLATFORM_ADMIN: 4, Role.ORG_ADMIN.value: 3, Role.MANAGER.value: 2, Role.AGENT.value: 1}


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

    def at_least(self, role: str) -> bool:
        return self.role is not None and ROLE_RANK[self.role] >= ROLE_RANK[role]

    @property
    def can_manage_syncs(self) -> bool:
        return self.at_least(Role.ORG_ADMIN.value)

    def require(self, role: str) -> None:
        if self.org_id is None or not self.at_least(role):
            raise AccessDenied("You do not have permission to do that.")


def orgs_for(session: Session, user: User) -> list[tuple[int, str, str]]:
    """(id, name, role) of every organisation the user may switch to."""
    if user.is_platform_admin:
        rows = session.execute(
            select(Organization.id, Organization.name).order_by(Organization.name)
        )
        return [(oid, name, PLATFORM_ADMIN) for oid, name in rows]
    rows = session.execute(
        select(Organization.id, Organization.name, Membership.role)
        .join(Membership, Membership.org_id == Organization.id)
        .where(Membership.user_id == user.id)
        .order_by(Organization.name)
    )
    return [(oid, name, Role(role).value) for oid, name, role in rows]


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
