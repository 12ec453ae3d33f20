"""The lookups connectors' mappers make while a sync runs: numbers, agents, offices, clusters, tags."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.orgs import Membership, PhoneNumber, User
from models.records import Cluster, Office, Tag


class DbMappingContext:
    """The MappingContext connectors use, backed by this session; caches within a run.

    Numbers, offices, clusters and tags belong to the organisation, not to a connection, so
    two syncs at once (two connections of one connector) may both create the same one; the
    one that comes second reads the first one's row instead of failing its batch.
    """

    def __init__(self, session: Session, org_id: int, source: str, *, create: bool = True):
        self.session = session
        self.org_id = org_id
        self.source = source
        self.create = create
        self._numbers: dict[str, int | None] = {}
        self._agents: dict[str, int | None] = {}
        self._offices: dict[str, int | None] = {}
        self._clusters: dict[str, int | None] = {}
        self._tags: dict[str, int | None] = {}

    def phone_number_id(self, number: str | None, *, label: str = "") -> int | None:
        number = (number or "").strip()
        if not number:
            return None
        if number not in self._numbers:
            lookup = select(PhoneNumber.id).where(
                PhoneNumber.org_id == self.org_id, PhoneNumber.number == number
            )
            found = self.session.scalar(lookup)
            if found is None and self.create:
                values = dict(number=number, label=label or number, source=self.source)
                found = self._create(PhoneNumber, values, lookup)
            self._numbers[number] = found
        return self._numbers[number]

    def _create(self, model, values: dict[str, Any], lookup) -> int | None:
        """The id of a new row of `model`, or of the one another sync inserted first."""
        values = {"org_id": self.org_id, **values}
        bind = self.session.get_bind()
        if bind.dialect.name == "postgresql":
            # Committed at once on a connection of its own: an insert held until our batch
            # commits would make the other sync wait on it, and two syncs creating two
            # numbers in opposite orders would deadlock.
            with bind.engine.begin() as own:
                own.execute(pg_insert(model).values(**values).on_conflict_do_nothing())
            return self.session.scalar(lookup)
        # SQLite lets one writer in at a time, so the other sync's row is committed (or
        # not there) by the time this insert runs; a savepoint keeps our batch if it is.
        try:
            with self.session.begin_nested():
                return self.session.scalar(insert(model).values(**values).returning(model.id))
        except IntegrityError:
            return self.session.scalar(lookup)

    def agent_id(self, email: str | None) -> int | None:
        email = (email or "").strip().lower()
        if not email:
            return None
        if email not in self._agents:
            self._agents[email] = self.session.scalar(
                select(User.id)
                .join(Membership, Membership.user_id == User.id)
                .where(User.email == email, Membership.org_id == self.org_id)
            )
        return self._agents[email]

    def _named(self, model, cache: dict, name: str | None, **extra) -> int | None:
        name = (name or "").strip()[: model.__table__.c.name.type.length]
        if not name:
            return None
        if name not in cache:
            lookup = select(model.id).where(and_(model.org_id == self.org_id, model.name == name))
            found = self.session.scalar(lookup)
            if found is None and self.create:
                found = self._create(model, dict(name=name, **extra), lookup)
            cache[name] = found
        return cache[name]

    def cluster_id(self, name: str | None) -> int | None:
        return self._named(Cluster, self._clusters, name)

    def office_id(self, name: str | None, *, cluster: str | None = None) -> int | None:
        return self._named(Office, self._offices, name, cluster_id=self.cluster_id(cluster))

    def tag_ids(self, names: list[str]) -> list[int]:
        ids = [self._named(Tag, self._tags, str(n)[:100]) for n in names or [] if str(n).strip()]
        return [i for i in ids if i is not None]
