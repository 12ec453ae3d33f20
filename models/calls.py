"""Queries of the record pages: calls, recordings and SMS, paged for tables and streamed for CSV.

Every query starts from `models.kpis.call_filters` (which applies the viewer's scope) or
`models.scope.visible`, so a forged filter can only narrow what the viewer may see.
Filters arrive as query-string-like mappings (the page's URL, the export link) and are
parsed once here, by `CallFilters.from_params`, for the table and for the export.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from models.kpis import agent_choices, call_filters
from models.orgs import Organization, PhoneNumber, User
from models.paging import (
    ColumnExpr,
    TablePage,
    contains_clause,
    fetch_page,
    page_order,
    search_clause,
)
from models.params import ParamError, day_range, first, parse_date, parse_int
from models.records import CALL_STATUSES, DIRECTIONS, Call, Contact, Sms
from models.scope import Viewer, visible

YIELD_PER = 2000
MAX_SEARCH = 100

AGENT_NAME = func.coalesce(func.nullif(User.name, ""), User.email)
CONTACT_NAME = func.nullif(  # NULL, not "", without a contact: sorts last, like no agent
    func.trim(func.coalesce(Contact.first_name, "") + " " + func.coalesce(Contact.last_name, "")),
    "",
)

# Column ids of the calls table → the SQL they sort on (nothing else can reach ORDER BY).
CALL_SORTABLE: dict[str, ColumnExpr] = {
    "time": Call.started_at,
    "number": PhoneNumber.label,
    "direction": Call.direction,
    "from": Call.from_number,
    "to": Call.to_number,
    "contact": CONTACT_NAME,
    "status": Call.status,
    "duration": Call.duration_seconds,
    "agent": AGENT_NAME,
}
SMS_SORTABLE: dict[str, ColumnExpr] = {
    "time": Sms.sent_at,
    "number": PhoneNumber.label,
    "direction": Sms.direction,
    "from": Sms.from_number,
    "to": Sms.to_number,
}

CALL_EXPORT_HEADER = (
    "Time (UTC)",
    "Number label",
    "Number",
    "Direction",
    "From",
    "To",
    "Contact",
    "Status",
    "Duration (seconds)",
    "Agent",
    "Recording URL",
)


# Query-string names (the overview's too: `from`/`to` are inclusive UTC days).
URL_NAMES = {"search": "q", "start": "from", "end": "to", "descending": "desc"}


# A filter value that cannot be used, in words for a person: the one error of `models.params`.
FilterError = ParamError


def _parse_choice(name: str, raw: Any, allowed: tuple[str, ...]) -> str | None:
    raw = str(first(raw) or "").strip().lower()
    if not raw:
        return None
    if raw not in allowed:
        raise FilterError(f"{name} must be one of: {', '.join(allowed)}.")
    return raw


def _parse_flag(raw: Any) -> bool:
    return str(first(raw) or "").strip().lower() in ("1", "true", "yes", "desc")


@dataclass(frozen=True)
class CallFilters:
    """What a calls/recordings/SMS view asks for: search, filters and sort (never the scope)."""

    search: str = ""
    start: date | None = None
    end: date | None = None  # inclusive
    phone: int | None = None
    agent: int | None = None
    direction: str | None = None
    status: str | None = None
    sort: str | None = None
    descending: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any], *, strict: bool = True) -> CallFilters:
        """Filters from query-string parameters; bad values raise FilterError (or are dropped)."""
        parsers = {
            "search": lambda v: str(first(v) or "").strip()[:MAX_SEARCH],
            "start": lambda v: parse_date("The start date", first(v)),
            "end": lambda v: parse_date("The end date", first(v)),
            "phone": lambda v: parse_int("The phone number", first(v), low=1),
            "agent": lambda v: parse_int("The agent", first(v), low=1),
            "direction": lambda v: _parse_choice("The direction", v, DIRECTIONS),
            "status": lambda v: _parse_choice("The status", v, CALL_STATUSES),
            "sort": lambda v: str(first(v) or "").strip() or None,
            "descending": _parse_flag,
        }
        values: dict[str, Any] = {}
        for field_name, parse in parsers.items():
            name = URL_NAMES.get(field_name, field_name)
            raw = params.get(name) if name in params else params.get(field_name)
            try:
                values[field_name] = parse(raw)
            except FilterError:
                if strict:
                    raise
        filters = cls(**values)
        if filters.start and filters.end and filters.start > filters.end:
            if strict:
                raise FilterError("The start date is after the end date.")
            filters = replace(filters, end=None)
        return filters

    @classmethod
    def from_url(cls, params: Mapping[str, Any]) -> tuple[CallFilters, tuple[str, ...]]:
        """A page's filters from its URL, leniently: bad values are dropped, an end before the
        start is swapped with it, and what was wrong with the dates comes back in words (the
        page shows it next to the date picker and rewrites the URL to what it uses)."""
        days = day_range(params.get("from"), params.get("to"))
        rest = {k: v for k, v in params.items() if k not in ("from", "to", "start", "end")}
        filters = replace(cls.from_params(rest, strict=False), start=days.start, end=days.end)
        return filters, days.problems

    def for_sms(self) -> CallFilters:
        """What an SMS view filters on: the search and the days (texts have no agent, status or
        call direction filter), without a sort (the grid's header sorts)."""
        return CallFilters(search=self.search, start=self.start, end=self.end)

    def to_params(self) -> dict[str, str]:
        """The query-string parameters that `from_params` reads back into the same filters."""
        out: dict[str, str] = {}
        for key, value in asdict(self).items():
            if value in (None, "", False):
                continue
            name = URL_NAMES.get(key, key)
            out[name] = "1" if value is True else str(value)
        return out

    @property
    def start_at(self) -> datetime | None:
        return datetime.combine(self.start, time(), UTC) if self.start else None

    @property
    def end_before(self) -> datetime | None:
        """The end date is inclusive: calls before the next midnight (UTC) count."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC) if self.end else None

    def range_text(self) -> str:
        """The days in words: `between 1 Nov 2026 and 30 Nov 2026`, `since …`, `until …`."""

        def day(d: date) -> str:
            return f"{d.day} {d:%b %Y}"

        if self.start and self.end:
            if self.start == self.end:
                return f"on {day(self.start)}"
            return f"between {day(self.start)} and {day(self.end)}"
        if self.start:
            return f"since {day(self.start)}"
        return f"until {day(self.end)}" if self.end else ""

    def range_label(self, today: date) -> str:
        """`2026-01-01-to-2026-01-31` for file names."""
        if self.start is None:
            return f"until-{self.end.isoformat()}" if self.end else "all-dates"
        return f"{self.start.isoformat()}-to-{(self.end or today).isoformat()}"


# --- calls ----------------------------------------------------------------------------------


def _call_search(viewer: Viewer, text: str) -> ColumnElement[bool] | None:
    """Calls whose numbers, number label, agent or contact contain `text`.

    The names are looked up in their own (small) tables first and matched on the call's
    ids, so the search reads only `calls` columns the page index holds, not the joins.
    The lookups only narrow calls that are already scoped to the viewer.
    """
    text = text.strip()
    if not text:
        return None
    numbers = select(PhoneNumber.id).where(
        visible(viewer, PhoneNumber),
        contains_clause([PhoneNumber.number, PhoneNumber.label], text),
    )
    agents = select(User.id).where(contains_clause([User.name, User.email], text))
    contacts = select(Contact.id).where(
        visible(viewer, Contact),
        contains_clause([Contact.first_name, Contact.last_name], text),
    )
    return or_(
        contains_clause([Call.from_number, Call.to_number], text),
        Call.phone_number_id.in_(numbers),
        Call.agent_id.in_(agents),
        Call.contact_id.in_(contacts),
    )


def _calls_select(viewer: Viewer, filters: CallFilters) -> Select:
    """Calls the viewer may see that match the filters, joined to number, agent and contact."""
    clauses = call_filters(
        viewer,
        start=filters.start_at,
        end=filters.end_before,
        phone=filters.phone,
        agent=filters.agent,
        direction=filters.direction,
    )
    if filters.status:
        clauses.append(Call.status == filters.status)
    found = _call_search(viewer, filters.search)
    if found is not None:
        clauses.append(found)
    return (
        select(
            Call.id.label("id"),
            Call.started_at.label("started_at"),
            PhoneNumber.label.label("number_label"),
            PhoneNumber.number.label("number"),
            Call.direction.label("direction"),
            Call.from_number.label("from_number"),
            Call.to_number.label("to_number"),
            CONTACT_NAME.label("contact"),
            Call.status.label("status"),
            Call.duration_seconds.label("duration_seconds"),
            AGENT_NAME.label("agent"),
            Call.recording_url.label("recording_url"),
        )
        .select_from(Call)
        .outerjoin(
            PhoneNumber,
            (PhoneNumber.id == Call.phone_number_id) & (PhoneNumber.org_id == Call.org_id),
        )
        .outerjoin(User, User.id == Call.agent_id)
        .outerjoin(Contact, (Contact.id == Call.contact_id) & (Contact.org_id == Call.org_id))
        .where(*clauses)
    )


def call_page(
    session: Session,
    viewer: Viewer,
    filters: CallFilters,
    *,
    page: int = 0,
    page_size: int = 25,
    offset: int | None = None,
) -> TablePage:
    """One page of the calls table, newest first unless a whitelisted column is sorted on
    (`offset`, the API's paging, skips that many rows instead of whole pages)."""
    return fetch_page(
        session,
        _calls_select(viewer, filters),
        sortable=CALL_SORTABLE,
        sort=filters.sort,
        descending=filters.descending,
        default_sort=Call.started_at,
        page=page,
        page_size=page_size,
        tiebreak=Call.id,
        key=Call.id,
        offset=offset,
    )


def count_calls(session: Session, viewer: Viewer, filters: CallFilters) -> int:
    stmt = _calls_select(viewer, filters).with_only_columns(Call.id).subquery()
    return session.scalar(select(func.count()).select_from(stmt)) or 0


def iter_calls(session: Session, viewer: Viewer, filters: CallFilters) -> Iterator[tuple]:
    """Every matching call as a CSV row, fetched `YIELD_PER` at a time (a server-side cursor
    on PostgreSQL), so an export of millions of calls holds one batch in memory."""
    order = page_order(CALL_SORTABLE, filters.sort, filters.descending, Call.started_at, Call.id)
    stmt = _calls_select(viewer, filters).order_by(*order)
    rows = session.execute(stmt.execution_options(yield_per=YIELD_PER))
    for (
        _id,
        at,
        label,
        number,
        direction,
        caller,
        callee,
        contact,
        status,
        secs,
        agent,
        rec,
    ) in rows:
        yield (
            at.isoformat(" ", "seconds")[:19],  # no offset: the header says UTC
            label or "",
            number or "",
            direction,
            caller,
            callee,
            contact or "",
            status,
            secs,
            agent or "",
            rec or "",
        )


# --- recordings ------------------------------------------------------------------------------


#: Recordings the app serves itself (the demo's, under assets/) are stored as a path from the
#: app's root, which the player puts under SYNCBOARD_URL_PREFIX.
_APP_PATH = re.compile(r"/[A-Za-z0-9][A-Za-z0-9._/-]{0,300}")


def playable_url(url: str | None, prefix: str = "/") -> str | None:
    """Where a browser may fetch the recording as audio, else None: an http(s) URL with a
    host as it is, or a path of this app (`/assets/demo-recordings/call-1.wav`) under
    `prefix`. A `javascript:` or `data:` link, `//host` or `..` never comes back."""
    url = (url or "").strip()
    if not url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    if _APP_PATH.fullmatch(url) and ".." not in url:
        return prefix.rstrip("/") + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def recording_page(
    session: Session, viewer: Viewer, filters: CallFilters, *, page: int = 0, page_size: int = 20
) -> TablePage:
    """Calls that have a recording, newest first."""
    stmt = _calls_select(viewer, filters).where(
        Call.recording_url.is_not(None), Call.recording_url != ""
    )
    return fetch_page(
        session,
        stmt,
        sortable={},
        default_sort=Call.started_at,
        page=page,
        page_size=page_size,
        tiebreak=Call.id,
        key=Call.id,
    )


# --- SMS ---------------------------------------------------------------------------------


def _sms_select(viewer: Viewer, filters: CallFilters) -> Select:
    clauses = [visible(viewer, Sms)]
    if filters.start_at is not None:
        clauses.append(Sms.sent_at >= filters.start_at)
    if filters.end_before is not None:
        clauses.append(Sms.sent_at < filters.end_before)
    if filters.phone is not None:
        clauses.append(Sms.phone_number_id == filters.phone)
    if filters.direction:
        clauses.append(Sms.direction == filters.direction)
    found = search_clause(
        [Sms.from_number, Sms.to_number, Sms.body, PhoneNumber.number, PhoneNumber.label],
        filters.search,
    )
    if found is not None:
        clauses.append(found)
    return (
        select(
            Sms.id.label("id"),
            Sms.sent_at.label("sent_at"),
            PhoneNumber.label.label("number_label"),
            PhoneNumber.number.label("number"),
            Sms.direction.label("direction"),
            Sms.from_number.label("from_number"),
            Sms.to_number.label("to_number"),
            Sms.body.label("body"),
        )
        .select_from(Sms)
        .outerjoin(
            PhoneNumber,
            (PhoneNumber.id == Sms.phone_number_id) & (PhoneNumber.org_id == Sms.org_id),
        )
        .where(*clauses)
    )


def sms_page(
    session: Session, viewer: Viewer, filters: CallFilters, *, page: int = 0, page_size: int = 25
) -> TablePage:
    """One page of text messages, newest first unless a whitelisted column is sorted on."""
    return fetch_page(
        session,
        _sms_select(viewer, filters),
        sortable=SMS_SORTABLE,
        sort=filters.sort,
        descending=filters.descending,
        default_sort=Sms.sent_at,
        page=page,
        page_size=page_size,
        tiebreak=Sms.id,
    )


def has_sms(session: Session, viewer: Viewer) -> bool:
    """Whether any text message is visible at all (else the page explains why there are none)."""
    return session.scalar(select(Sms.id).where(visible(viewer, Sms)).limit(1)) is not None


# --- names ------------------------------------------------------------------------------


def org_slug(session: Session, viewer: Viewer) -> str:
    """The slug of the viewer's organisation (for file names)."""
    slug = session.scalar(select(Organization.slug).where(Organization.id == viewer.org_id))
    return slug or "export"


def export_name_parts(
    session: Session, viewer: Viewer, filters: CallFilters, today: date
) -> list[str]:
    """What a calls file is named after, so two exports of different filters never share a
    name: `calls`, the org, the days, then direction, status, number and agent when set
    (`calls-riverbend-2026-11-01-to-2026-11-30-inbound-missed-15555919122.csv`). The number
    and the agent are looked up within the viewer's scope; one they may not see adds nothing."""
    parts = ["calls", org_slug(session, viewer), filters.range_label(today)]
    parts += [v for v in (filters.direction, filters.status) if v]
    if filters.phone is not None:
        number = session.scalar(
            select(PhoneNumber.number).where(
                PhoneNumber.id == filters.phone, visible(viewer, PhoneNumber)
            )
        )
        parts.append("".join(ch for ch in number or "" if ch.isdigit()) or "number")
    if filters.agent is not None:
        agents = dict(agent_choices(session, viewer))
        name = agents.get(filters.agent)
        parts.append(f"agent-{name}" if name else "")
    return [p for p in parts if p]
