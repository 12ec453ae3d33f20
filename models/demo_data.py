"""Demo data: a deterministic, realistic generator that fills a database for demos and load tests.

Columns are generated vectorised with numpy; big tables go in by COPY on PostgreSQL and by
Core executemany on SQLite, all in one transaction.
"""

from __future__ import annotations

import io
import itertools
import time
import wave
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, String, Table, insert, select, text

from models.orgs import Membership, Organization, PhoneAssignment, PhoneNumber, Role, User
from models.records import (
    Call,
    Case,
    CaseStatusChange,
    Cluster,
    Contact,
    Office,
    Sms,
    Tag,
    Ticket,
    case_tags,
)
from models.users import hash_password

SOURCE = "demo"
WINDOW_DAYS = 120
#: The demo's recordings: short generated sounds the app serves from assets/ (stored as paths
#: from the app's root; the player puts them under SYNCBOARD_URL_PREFIX). A demo that pointed
#: at a host that does not exist showed a dead player on every call.
DEMO_RECORDINGS = tuple(f"/assets/demo-recordings/call-{i}.wav" for i in (1, 2, 3))
AUDIO_RATE = 8000  # Hz: a phone line's, and it keeps each file near 25 KB
COPY_CHUNK = 100_000
SQLITE_CHUNK = 20_000


def _words(text: str, sep: str | None = None) -> np.ndarray:
    return np.array(text.split(sep))


ORG_NAMES = (
    "Northwind Support",
    "Bluebird Dispatch",
    "Harbor City Services",
    "Summit Health Line",
    "Cedar Valley Utilities",
    "Lakeside Property Care",
    "Pinecrest Insurance",
    "Redwood Logistics",
    "Maple Grove Council",
    "Silverline Telecom",
    "Brightpath Solar",
    "Ironwood Facilities",
    "Coastal Water Authority",
    "Evergreen Home Services",
    "Granite Legal Aid",
    "Oakridge Veterinary",
    "Riverbend Transit",
    "Sunrise Dental Group",
    "Trailhead Outfitters",
    "Willow Creek Clinic",
)
FIRST_NAMES = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William "
    "Barbara Richard Susan Joseph Jessica Thomas Sarah Carlos Karen Daniel Lisa Matthew "
    "Nancy Anthony Sandra Mark Ashley Priya Emily Kevin Maria Brian Michelle George "
    "Amanda Wei Melissa Omar Stephanie Luis Rebecca Ahmed Laura Kenji Sofia Ethan Olivia "
    "Noah Ava Liam Chloe Mateo Fatima Hannah Diego Aisha Lucas Grace"
)
LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright "
    "Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell "
    "Mitchell Carter Roberts Patel Kim Chen Okafor Silva Novak Fischer Rossi Dubois "
    "Tanaka"
)
COMPANIES = np.array(
    [
        "Acme Corp",
        "Globex",
        "Initech",
        "Umbrella Health",
        "Stark Industries",
        "Wayne Enterprises",
        "Hooli",
        "Vandelay Imports",
        "Soylent Foods",
        "Cyberdyne Systems",
        "Wonka Confectionery",
        "Tyrell Labs",
        "Gringotts Bank",
        "Pied Piper",
        "Dunder Mifflin",
        "Bluth Company",
        "Prestige Worldwide",
        "Oscorp",
        "Massive Dynamic",
        "Aperture Science",
        "Monarch Solutions",
        "Sterling Cooper",
        "Wernham Hogg",
        "Good Burger",
        "Los Pollos Hermanos",
        "Paper Street Soap",
        "Nakatomi Trading",
        "Virtucon",
        "Gekko & Co",
        "Ollivanders",
    ]
)
LIFECYCLE = (
    "subscriber",
    "lead",
    "marketing_qualified",
    "sales_qualified",
    "opportunity",
    "customer",
    "evangelist",
)
LIFECYCLE_P = (0.10, 0.30, 0.15, 0.10, 0.10, 0.22, 0.03)
MAIL_DOMAINS = np.array(["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me"])
AREA_CODES = np.array([206, 212, 213, 303, 305, 312, 404, 415, 503, 512, 602, 617, 646, 702, 713])
NUMBER_LABELS = (
    "Main line",
    "Sales line",
    "Support line",
    "Billing line",
    "After-hours line",
    "Spanish line",
    "Partner line",
    "Returns line",
    "VIP line",
    "Campaign: spring promo",
)
CITIES = (
    ("Springfield", 39.7817, -89.6501),
    ("Riverside", 33.9806, -117.3755),
    ("Fairview", 35.0456, -85.3097),
    ("Madison", 43.0731, -89.4012),
    ("Georgetown", 30.6333, -97.6770),
    ("Salem", 44.9429, -123.0351),
    ("Franklin", 35.9251, -86.8689),
    ("Greenville", 34.8526, -82.3940),
)
STREETS = _words(
    "Main St|Oak Ave|Maple Dr|Cedar Ln|Elm St|Pine St|Washington Blvd|Lakeview Rd|"
    "Hillside Ave|Park Pl|River Rd|Church St|Mill Ln|Station Rd|Highland Ave|Sunset Blvd|"
    "Broadway|Market St|Union St|Spring St|Forest Dr|Meadow Ln|Bridge St|Harbor Way",
    sep="|",
)
OFFICE_NAMES = (
    "North District Office",
    "South District Office",
    "East District Office",
    "West District Office",
    "Central Office",
    "Harbourside Office",
    "Old Town Office",
    "University Office",
)
CLUSTER_NAMES = ("North Cluster", "South Cluster", "Central Cluster")
TAG_NAMES = (
    "urgent",
    "repeat",
    "safety",
    "accessibility",
    "weekend",
    "needs-photo",
    "contractor",
    "follow-up",
    "elderly",
    "school-zone",
    "media",
    "escalated",
)
CASE_CATEGORIES = (
    ("Pothole", 0.18),
    ("Streetlight out", 0.12),
    ("Illegal dumping", 0.11),
    ("Graffiti", 0.08),
    ("Noise complaint", 0.10),
    ("Water leak", 0.09),
    ("Fallen tree", 0.06),
    ("Blocked drain", 0.09),
    ("Abandoned vehicle", 0.07),
    ("Damaged sidewalk", 0.10),
)
CASE_PATH = np.array(["new", "acknowledged", "in_progress", "resolved", "closed"])
REJECTED_PATH = np.array(["new", "rejected", "", "", ""])
CASE_NOTES = {
    "new": "Reported via the mobile app",
    "acknowledged": "Acknowledged by the office",
    "in_progress": "Crew assigned",
    "resolved": "Work completed",
    "closed": "Closed after confirmation",
    "rejected": "Rejected: duplicate or outside our area",
}
TICKET_SUBJECTS = np.array(
    [
        "Callback request",
        "Billing question about last invoice",
        "Cannot log in to the portal",
        "Request for a quote",
        "Complaint about a service visit",
        "Change of address",
        "Refund request",
        "Reschedule appointment",
        "Device not working",
        "Order not received",
        "Warranty claim",
        "Feedback on a support call",
    ]
)
TICKET_PRIORITIES = np.array(["low", "normal", "high", "urgent"])
TICKET_PRIORITY_P = (0.20, 0.50, 0.22, 0.08)
TICKET_SLA_HOURS = np.array([168, 72, 24, 4])
SMS_INBOUND = np.array(
    [
        "Hi, are you open on Saturday?",
        "Can someone call me back about my order?",
        "Yes, that time works for me.",
        "Thanks for the quick help!",
        "What's the status of my ticket?",
        "Running 10 minutes late, sorry.",
        "Can I reschedule to next week?",
        "STOP",
    ]
)
SMS_OUTBOUND = np.array(
    [
        "Your appointment is confirmed for tomorrow at 10:00.",
        "Thanks for calling! Reply here if you need anything else.",
        "Your ticket has been resolved. Reply REOPEN if not.",
        "Reminder: your invoice is due on Friday.",
        "We tried to reach you, please call us back when convenient.",
        "Your technician is on the way.",
    ]
)

# Share of calls per hour of day (UTC): peaks at 10-11 and 14-15, a lunch dip, quiet nights.
CALL_HOURS = np.array(
    [0.05, 0.03, 0.02, 0.02, 0.03, 0.06, 0.15, 0.35, 0.75, 1.10, 1.45, 1.40]
    + [0.95, 1.05, 1.35, 1.30, 1.05, 0.75, 0.45, 0.30, 0.22, 0.15, 0.10, 0.07]
)
# Reports from a mobile app spread more evenly over the waking day.
CASE_HOURS = np.array(
    [0.10, 0.05, 0.03, 0.03, 0.05, 0.15, 0.40, 0.80, 1.10, 1.20, 1.20, 1.15]
    + [1.10, 1.10, 1.10, 1.10, 1.05, 1.00, 0.95, 0.85, 0.70, 0.50, 0.30, 0.15]
)
WEEKDAYS = np.array([1.12, 1.05, 1.00, 0.98, 0.90, 0.35, 0.22])
# Chance that an inbound call is picked up, by hour: lower at peaks, lunch and after hours.
ANSWER_BY_HOUR = np.array(
    [0.45] * 8 + [0.92, 0.95, 0.82, 0.84, 0.72, 0.78, 0.85, 0.86, 0.93, 0.88, 0.70] + [0.45] * 5
)


@dataclass
class DemoSummary:
    """What `seed_demo` created, for the CLI to print and tests to check."""

    orgs: list[tuple[int, str]]
    users: list[tuple[str, str]]
    counts: dict[str, int]
    seconds: float
    password: str = field(repr=False, default="")

    @property
    def org_ids(self) -> list[int]:
        return [org_id for org_id, _ in self.orgs]

    @property
    def slugs(self) -> list[str]:
        return [slug for _, slug in self.orgs]


@dataclass
class _Org:
    """One organisation's ids and shapes, shared by the table generators."""

    index: int
    id: int
    slug: str
    name: str
    numbers: np.ndarray
    number_ids: np.ndarray
    number_p: np.ndarray
    agent_ids: np.ndarray
    agent_skill: np.ndarray
    agent_p: np.ndarray
    number_agents: np.ndarray  # padded (numbers x k) agent indexes
    number_agent_count: np.ndarray
    agent_numbers: np.ndarray  # padded (agents x 2) number indexes
    agent_number_count: np.ndarray
    city: tuple[str, float, float]
    office_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    office_cluster_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    office_centres: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    tag_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    contact_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    contact_phones: np.ndarray = field(default_factory=lambda: np.zeros(0, object))


def database_is_empty(engine: Engine) -> bool:
    """True when no organisation exists yet (so `serve --demo` may seed)."""
    with engine.connect() as conn:
        return conn.execute(select(Organization.id).limit(1)).first() is None


def seed_demo(
    engine: Engine,
    *,
    orgs: int = 2,
    calls: int = 20_000,
    cases: int = 2_000,
    contacts: int = 2_000,
    seed: int = 42,
    password: str = "demo-password",
    progress: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> DemoSummary:
    """Add `orgs` demo organisations sharing the given totals, in one transaction.

    The same seed gives the same data; slugs already taken are skipped so seeding twice
    adds new organisations. Calls cover the 120 days before `now` (default: this hour,
    UTC). Synced rows have `source = "demo"` and `raw = NULL`, which keeps the bulk
    load light.
    """
    if orgs < 1 or min(calls, cases, contacts) < 0:
        raise ValueError("orgs must be at least 1 and the counts must not be negative")
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    now_s = int(now.timestamp())
    rng = np.random.default_rng(seed)
    weights = rng.lognormal(0.0, 0.5, orgs)
    order = rng.permutation(len(ORG_NAMES))
    per_org = {
        "calls": _split(calls, weights),
        "cases": _split(cases, weights),
        "contacts": _split(contacts, weights),
        "tickets": _split(cases // 2, weights),
    }
    password_hash = hash_password(password)
    counts: dict[str, int] = {}
    users: list[tuple[str, str]] = []

    with engine.begin() as conn:
        load = _Loader(conn, now, counts)
        names = _free_names(conn, [ORG_NAMES[i] for i in order], orgs)
        say(f"organisations: {', '.join(slug for _, slug in names)}")
        orgs_ = [
            _create_org(load, i, name, slug, seed, password_hash, now, users)
            for i, (name, slug) in enumerate(names)
        ]
        org_ids = [o.id for o in orgs_]

        say(f"contacts: {contacts:,}")
        for o in orgs_:
            load.bulk(Contact.__table__, _contacts(o, per_org["contacts"][o.index], now_s, seed))
        ids = load.read_ids(Contact.__table__, org_ids, extra="phone")
        for o in orgs_:
            mine = ids[ids["org_id"] == o.id]
            o.contact_ids = mine["id"].to_numpy(np.int64)
            o.contact_phones = mine["phone"].to_numpy(object)

        def prepared_calls(o: _Org) -> _Batch:
            return load.prepare(Call.__table__, _calls(o, per_org["calls"][o.index], now_s, seed))

        # The next org's calls are generated in a thread while the database takes this one's.
        with ThreadPoolExecutor(max_workers=1) as pool:
            upcoming = pool.submit(prepared_calls, orgs_[0])
            for i, o in enumerate(orgs_):
                batch = upcoming.result()
                if i + 1 < len(orgs_):
                    upcoming = pool.submit(prepared_calls, orgs_[i + 1])
                say(f"calls: {o.slug} {batch.rows:,}")
                load.send(batch)
                load.bulk(Sms.__table__, _sms(o, now_s, seed))

        say(f"cases: {cases:,}")
        extras = {}
        for o in orgs_:
            frame, history, tag_rows = _cases(o, per_org["cases"][o.index], now_s, seed)
            load.bulk(Case.__table__, frame)
            extras[o.id] = (frame["external_id"], history, tag_rows)
        case_ids = load.read_ids(Case.__table__, org_ids)
        for o in orgs_:
            external, history, tag_rows = extras.pop(o.id)
            by_external = case_ids[case_ids["org_id"] == o.id].set_index("external_id")["id"]
            id_of = by_external.reindex(external).to_numpy(np.int64)
            history.insert(0, "case_id", id_of[history.pop("case_index").to_numpy()])
            tag_rows.insert(0, "case_id", id_of[tag_rows.pop("case_index").to_numpy()])
            load.bulk(CaseStatusChange.__table__, history)
            load.bulk(case_tags, tag_rows)

        say("tickets")
        for o in orgs_:
            load.bulk(Ticket.__table__, _tickets(o, per_org["tickets"][o.index], now_s, seed))

    if engine.dialect.name == "postgresql":
        # Fresh statistics so the dashboards' first queries get good plans.
        with engine.begin() as conn:
            for table in ("contacts", "calls", "sms_messages", "cases", "tickets"):
                conn.execute(text(f"ANALYZE {table}"))
    seconds = time.perf_counter() - started
    say(f"done in {seconds:.1f}s")
    return DemoSummary(
        orgs=[(o.id, o.slug) for o in orgs_],
        users=users,
        counts=counts,
        seconds=seconds,
        password=password,
    )


@dataclass
class _Batch:
    """Rows ready for the driver: CSV chunks for COPY, or lists of dicts for executemany."""

    table: Table
    rows: int
    copy_sql: str | None
    parts: list


def _chunks(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [frame.iloc[start : start + size] for start in range(0, len(frame), size)]


class _Loader:
    """Bulk inserts on the transaction's connection: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, conn: Connection, now: datetime, counts: dict[str, int]):
        self.conn = conn
        self.now = now
        self.counts = counts
        self.postgres = conn.dialect.name == "postgresql"

    def rows(self, table: Table, rows: list[dict]) -> list[int]:
        """Insert a few rows and return their ids in order."""
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)
        if not rows:
            return []
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(self.conn.execute(stmt, rows).scalars())

    def bulk(self, table: Table, frame: pd.DataFrame) -> None:
        self.send(self.prepare(table, frame))

    def prepare(self, table: Table, frame: pd.DataFrame) -> _Batch:
        """Turn a frame into what the driver takes; touches no connection, so a thread may run it."""
        if frame.empty:
            return _Batch(table, 0, None, [])
        if "synced_at" in table.c and "synced_at" not in frame:
            frame = frame.assign(synced_at=pd.Timestamp(self.now))
        if not self.postgres:
            records = [
                part.astype(object).where(part.notna(), None).to_dict("records")
                for part in _chunks(frame, SQLITE_CHUNK)
            ]
            return _Batch(table, len(frame), None, records)
        # In CSV an unquoted empty field is NULL; FORCE_NOT_NULL keeps "" for text columns
        # that cannot be NULL anyway.
        frame = frame.apply(_iso_if_time)
        cols = list(frame.columns)
        keep = [c for c in cols if isinstance(table.c[c].type, String) and not table.c[c].nullable]
        options = "FORMAT csv" + (f", FORCE_NOT_NULL ({', '.join(keep)})" if keep else "")
        sql = f"COPY {table.name} ({', '.join(cols)}) FROM STDIN WITH ({options})"
        parts = [
            part.to_csv(index=False, header=False, lineterminator="\n")
            for part in _chunks(frame, COPY_CHUNK)
        ]
        return _Batch(table, len(frame), sql, parts)

    def send(self, batch: _Batch) -> None:
        name = batch.table.name
        self.counts[name] = self.counts.get(name, 0) + batch.rows
        if not batch.rows:
            return
        if batch.copy_sql is None:
            for records in batch.parts:
                self.conn.execute(batch.table.insert(), records)
            return
        driver = self.conn.connection.driver_connection
        if driver is None:  # only after the connection was invalidated
            raise RuntimeError("the database connection was lost during the load")
        cursor = driver.cursor()
        with cursor.copy(batch.copy_sql) as copy:
            for text_ in batch.parts:
                copy.write(text_)

    def read_ids(self, table: Table, org_ids: list[int], extra: str | None = None) -> pd.DataFrame:
        cols = [table.c.org_id, table.c.external_id, table.c.id]
        if extra:
            cols.append(table.c[extra])
        stmt = (
            select(*cols)
            .where(table.c.org_id.in_(org_ids), table.c.source == SOURCE)
            .order_by(table.c.id)
        )
        return pd.DataFrame(self.conn.execute(stmt).all(), columns=[c.name for c in cols])


def _iso_if_time(column: pd.Series) -> pd.Series:
    """ISO text with +00:00 for a UTC timestamp column; numpy formats ~10x faster than to_csv."""
    if not isinstance(column.dtype, pd.DatetimeTZDtype):
        return column
    raw = column.dt.tz_convert(None).to_numpy("datetime64[s]")
    text_ = np.strings.add(np.datetime_as_string(raw, unit="s"), "+00:00").astype(object)
    text_[np.isnat(raw)] = None
    return pd.Series(text_, index=column.index, name=column.name)


def _split(total: int, weights: np.ndarray) -> list[int]:
    """Share `total` by `weights` in whole numbers that add up exactly."""
    share = total * weights / weights.sum()
    out = np.floor(share).astype(np.int64)
    out[np.argsort(out - share)[: total - int(out.sum())]] += 1
    return out.tolist()


def _rng(seed: int, org_index: int, purpose: int) -> np.random.Generator:
    """One stream per org and table, so each table's rows do not depend on the others."""
    return np.random.default_rng([seed, org_index, purpose])


def _free_names(conn: Connection, ordered: list[str], wanted: int) -> list[tuple[str, str]]:
    """The first `wanted` names whose slugs (and demo email domains) are still unused."""
    taken = set(conn.execute(select(Organization.slug)).scalars())
    domains = {e.rsplit("@", 1)[-1] for e in conn.execute(select(User.email)).scalars()}
    found: list[tuple[str, str]] = []
    for round_ in itertools.count(1):
        for name in ordered:
            slug = name.split()[0].lower()
            if round_ > 1:
                name, slug = f"{name} {round_}", f"{slug}{round_}"
            if slug not in taken and f"{slug}.example" not in domains:
                taken.add(slug)
                found.append((name, slug))
                if len(found) == wanted:
                    return found
    raise AssertionError("unreachable")


def _person(rng: np.random.Generator) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _create_org(
    load: _Loader,
    index: int,
    name: str,
    slug: str,
    seed: int,
    password_hash: str,
    now: datetime,
    users: list[tuple[str, str]],
) -> _Org:
    """The small per-org tables, through Core inserts that return ids."""
    rng = _rng(seed, index, 0)
    created = now - timedelta(days=200)
    (org_id,) = load.rows(
        Organization.__table__,
        [{"name": name, "slug": slug, "timezone": "UTC", "created_at": created}],
    )
    n_managers, n_agents = int(rng.integers(1, 3)), int(rng.integers(6, 13))
    people = [("admin", Role.ORG_ADMIN)]
    people += [
        ("manager" if i == 1 else f"manager{i}", Role.MANAGER) for i in range(1, n_managers + 1)
    ]
    people += [(f"agent{i}", Role.AGENT) for i in range(1, n_agents + 1)]
    user_rows: list[dict[str, Any]] = [
        {
            "email": f"{local}@{slug}.example",
            "name": _person(rng),
            "password_hash": password_hash,
            "is_active": True,
            "is_platform_admin": False,
            "session_version": 1,
            "created_at": created + timedelta(days=int(rng.integers(0, 30))),
            "last_login_at": now - timedelta(minutes=int(rng.integers(5, 60 * 24 * 14))),
        }
        for local, _ in people
    ]
    user_ids = load.rows(User.__table__, user_rows)
    load.rows(
        Membership.__table__,
        [
            {"user_id": uid, "org_id": org_id, "role": role, "created_at": created}
            for uid, (_, role) in zip(user_ids, people, strict=True)
        ],
    )
    users += [(row["email"], role.value) for row, (_, role) in zip(user_rows, people, strict=True)]
    agent_ids = np.array(user_ids[1 + n_managers :], dtype=np.int64)

    n_numbers = int(rng.integers(4, 11))
    digits = rng.choice(9_000_000, size=n_numbers, replace=False) + 1_000_000
    numbers = np.array([f"+1555{d}" for d in digits], dtype=object)
    number_ids = np.array(
        load.rows(
            PhoneNumber.__table__,
            [
                {
                    "org_id": org_id,
                    "number": str(numbers[i]),
                    "label": NUMBER_LABELS[i % len(NUMBER_LABELS)],
                    "source": SOURCE,
                    "external_id": f"number-{i + 1:03d}",
                    "created_at": created,
                }
                for i in range(n_numbers)
            ],
        ),
        dtype=np.int64,
    )
    # Every number gets an agent first, then agents get a first or second number at random.
    held: list[set[int]] = [set() for _ in range(n_agents)]
    for j, num in enumerate(rng.permutation(n_numbers)):
        held[j % n_agents].add(int(num))
    for mine in held:
        while not mine or (len(mine) < 2 and rng.random() < 0.4):
            mine.add(int(rng.integers(0, n_numbers)))
    load.rows(
        PhoneAssignment.__table__,
        [
            {"org_id": org_id, "user_id": int(agent_ids[a]), "phone_number_id": int(number_ids[n])}
            for a, mine in enumerate(held)
            for n in sorted(mine)
        ],
    )
    agent_numbers = np.array([sorted(m) + sorted(m)[:1] * (2 - len(m)) for m in held])
    by_number = [[a for a, m in enumerate(held) if n in m] for n in range(n_numbers)]
    width = max(len(a) for a in by_number)
    number_agents = np.array([a + a[:1] * (width - len(a)) for a in by_number])
    popularity = rng.lognormal(0.0, 0.7, n_numbers)
    activity = rng.lognormal(0.0, 0.3, n_agents)

    city = CITIES[int(rng.integers(0, len(CITIES)))]
    n_clusters, n_offices, n_tags = (
        int(rng.integers(2, 4)),
        int(rng.integers(5, 9)),
        int(rng.integers(8, 13)),
    )
    cluster_ids = load.rows(
        Cluster.__table__,
        [{"org_id": org_id, "name": CLUSTER_NAMES[i]} for i in range(n_clusters)],
    )
    office_cluster = np.array([cluster_ids[i % n_clusters] for i in range(n_offices)], np.int64)
    office_ids = load.rows(
        Office.__table__,
        [
            {"org_id": org_id, "name": OFFICE_NAMES[i], "cluster_id": int(office_cluster[i])}
            for i in range(n_offices)
        ],
    )
    centres = np.array(city[1:]) + rng.normal(0.0, 0.03, (n_offices, 2))
    tag_names = rng.permutation(TAG_NAMES)[:n_tags]
    tag_ids = load.rows(Tag.__table__, [{"org_id": org_id, "name": str(t)} for t in tag_names])
    return _Org(
        index=index,
        id=org_id,
        slug=slug,
        name=name,
        numbers=numbers,
        number_ids=number_ids,
        number_p=popularity / popularity.sum(),
        agent_ids=agent_ids,
        agent_skill=rng.uniform(0.80, 0.98, n_agents),
        agent_p=activity / activity.sum(),
        number_agents=number_agents,
        number_agent_count=np.array([len(a) for a in by_number]),
        agent_numbers=agent_numbers,
        agent_number_count=np.array([len(m) for m in held]),
        city=city,
        office_ids=np.array(office_ids, np.int64),
        office_cluster_ids=office_cluster,
        office_centres=centres,
        tag_ids=np.array(tag_ids, np.int64),
    )


def _times(n: int, now_s: int, hours: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`n` sorted epoch seconds in the window, shaped by hour of day, weekday, trend and noise."""
    start_s = now_s - WINDOW_DAYS * 86_400
    slot_s = start_s + 3600 * np.arange(WINDOW_DAYS * 24)
    day_noise = rng.lognormal(0.0, 0.12, WINDOW_DAYS)[np.arange(WINDOW_DAYS * 24) // 24]
    trend = np.linspace(0.9, 1.1, len(slot_s))
    weight = hours[(slot_s // 3600) % 24] * WEEKDAYS[_weekday(slot_s)] * day_noise * trend
    counts = rng.multinomial(n, weight / weight.sum())
    secs = np.repeat(slot_s, counts) + rng.integers(0, 3600, n)
    return np.sort(secs)


def _weekday(secs: np.ndarray) -> np.ndarray:
    return (secs // 86_400 + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0


def _utc(secs: np.ndarray, missing: np.ndarray | None = None) -> pd.Series:
    out = pd.Series(pd.to_datetime(secs, unit="s", utc=True))
    return out if missing is None else out.mask(missing)


def _nullable(values: np.ndarray, missing: np.ndarray) -> pd.Series:
    return pd.Series(pd.array(np.where(missing, 0, values), dtype="Int64")).mask(missing)


def _phones(n: int, rng: np.random.Generator) -> np.ndarray:
    area = AREA_CODES[rng.integers(0, len(AREA_CODES), n)]
    local = rng.integers(2_000_000, 10_000_000, n)
    return np.array([f"+1{a}{b}" for a, b in zip(area, local, strict=True)], dtype=object)


def _ext(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{i:07d}" for i in range(1, n + 1)]


def _contacts(org: _Org, n: int, now_s: int, seed: int) -> pd.DataFrame:
    rng = _rng(seed, org.index, 1)
    first = rng.choice(FIRST_NAMES, n)
    last = rng.choice(LAST_NAMES, n)
    company = rng.choice(COMPANIES, n)
    has_company = rng.random(n) < 0.8
    free_mail = rng.choice(MAIL_DOMAINS, n)
    domain = [
        c.lower().replace(" ", "").replace("&", "and") + ".com" if own else d
        for c, own, d in zip(company, has_company, free_mail, strict=True)
    ]
    suffix = rng.integers(1, 100, n)
    email = np.array(
        [
            f"{f.lower()}.{la.lower()}{s if s < 20 else ''}@{d}"
            for f, la, s, d in zip(first, last, suffix, domain, strict=True)
        ],
        dtype=object,
    )
    email[rng.random(n) < 0.08] = None
    created = now_s - rng.integers(0, 365 * 86_400, n)
    updated = created + (rng.random(n) * (now_s - created)).astype(np.int64)
    return pd.DataFrame(
        {
            "org_id": org.id,
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": _phones(n, rng),
            # numpy's stubs take no None here; where() broadcasts it as an object scalar.
            "company": np.where(has_company, company, None),  # type: ignore[call-overload]
            "lifecycle_stage": rng.choice(LIFECYCLE, n, p=LIFECYCLE_P),
            "created_at": _utc(created),
            "updated_at": _utc(updated),
            "source": SOURCE,
            "external_id": _ext("contact", n),
        }
    )


def _calls(org: _Org, n: int, now_s: int, seed: int) -> pd.DataFrame:
    """The org's calls, external ids in time order."""
    rng = _rng(seed, org.index, 2)
    started = _times(n, now_s, CALL_HOURS, rng)
    hour = (started // 3600) % 24
    weekend = _weekday(started) >= 5
    inbound = rng.random(n) < 0.75

    # Inbound rings a number and one of its agents; outbound is an agent dialling on their number.
    number = rng.choice(len(org.numbers), n, p=org.number_p)
    pick = (rng.random(n) * org.number_agent_count[number]).astype(np.int64)
    agent = org.number_agents[number, pick]
    caller = rng.choice(len(org.agent_ids), n, p=org.agent_p)
    pick = (rng.random(n) * org.agent_number_count[caller]).astype(np.int64)
    agent = np.where(inbound, agent, caller)
    number = np.where(inbound, number, org.agent_numbers[caller, pick])

    p_inbound = org.agent_skill[agent] * ANSWER_BY_HOUR[hour] * np.where(weekend, 0.85, 1.0)
    p_answer = np.clip(np.where(inbound, p_inbound, 0.55), 0.02, 0.99)
    answered = rng.random(n) < p_answer
    voicemail = ~answered & (rng.random(n) < np.where(inbound, 0.4, 0.6))
    status = np.where(answered, "answered", np.where(voicemail, "voicemail", "missed"))
    talk = rng.lognormal(np.log(np.where(inbound, 215.0, 170.0)), 0.75)
    message = rng.lognormal(np.log(28.0), 0.5, n)
    duration = np.where(
        answered, np.clip(talk, 8, 5400), np.where(voicemail, np.clip(message, 4, 180), 0)
    ).astype(np.int64)
    started = np.minimum(started, now_s - duration - 1)

    known = rng.random(n) < (0.55 if len(org.contact_ids) else 0.0)
    contact = rng.integers(0, max(len(org.contact_ids), 1), n)
    phones = org.contact_phones if len(org.contact_ids) else np.array([""], dtype=object)
    customer = np.where(known, phones[contact], _phones(n, rng))
    contact_id = _nullable(org.contact_ids[contact] if len(org.contact_ids) else contact, ~known)
    ours = org.numbers[number]
    recorded = answered & (rng.random(n) < 0.6)
    external = _ext("call", n)
    recording = np.array(DEMO_RECORDINGS, dtype=object)[rng.integers(0, len(DEMO_RECORDINGS), n)]
    recording[~recorded] = None
    return pd.DataFrame(
        {
            "org_id": org.id,
            "phone_number_id": org.number_ids[number],
            "agent_id": _nullable(org.agent_ids[agent], ~(answered | ~inbound)),
            "contact_id": contact_id,
            "direction": np.where(inbound, "inbound", "outbound"),
            "from_number": np.where(inbound, customer, ours),
            "to_number": np.where(inbound, ours, customer),
            "status": status,
            "started_at": _utc(started),
            "ended_at": _utc(started + duration),
            "duration_seconds": duration,
            "recording_url": recording,
            "source": SOURCE,
            "external_id": external,
        }
    )


def demo_recording_wav(index: int) -> bytes:
    """The demo recording `index` (0, 1 or 2) as a mono 8-bit WAV of 2–4 s, the same bytes on
    every run (tests/models/test_demo_data.py checks the files in assets/ against it):
    0 rings twice and answers with a tone, 1 is a three-note chime, 2 a warbling "voice"."""
    t = np.arange(int(AUDIO_RATE * (3.0, 2.5, 3.5)[index])) / AUDIO_RATE
    if index == 0:  # ring-back (440 + 480 Hz, 0.8 s on, 0.4 s off) twice, then a beep
        ring = (np.sin(2 * np.pi * 440 * t) + np.sin(2 * np.pi * 480 * t)) / 2
        on = ((t % 1.2) < 0.8) & (t < 2.4)
        wave_ = np.where(on, ring, np.where(t > 2.5, np.sin(2 * np.pi * 660 * t), 0))
    elif index == 1:  # C5, E5, G5, each fading out
        note = np.minimum((t // 0.8).astype(int), 2)
        freq = np.array([523.25, 659.25, 783.99])[note]
        wave_ = np.sin(2 * np.pi * freq * t) * np.exp(-3 * (t % 0.8))
    else:  # a tone whose pitch and loudness wander like speech
        freq = 180 + 60 * np.sin(2 * np.pi * 1.3 * t)
        phase = 2 * np.pi * np.cumsum(freq) / AUDIO_RATE
        wave_ = np.sin(phase) * (0.55 + 0.45 * np.sin(2 * np.pi * 3.1 * t) ** 2)
    fade = np.minimum(1, np.minimum(t, t[-1] - t) / 0.05)  # no click at either end
    samples = (128 + 100 * wave_ * fade).round().astype(np.uint8)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(AUDIO_RATE)
        wav.writeframes(samples.tobytes())
    return out.getvalue()


def _sms(org: _Org, now_s: int, seed: int) -> pd.DataFrame:
    rng = _rng(seed, org.index, 3)
    n = int(rng.integers(200, 601))
    sent = _times(n, now_s, CALL_HOURS, rng)
    inbound = rng.random(n) < 0.55
    number = rng.choice(len(org.numbers), n, p=org.number_p)
    customer = _phones(n, rng)
    ours = org.numbers[number]
    body = np.where(inbound, rng.choice(SMS_INBOUND, n), rng.choice(SMS_OUTBOUND, n))
    return pd.DataFrame(
        {
            "org_id": org.id,
            "phone_number_id": org.number_ids[number],
            "direction": np.where(inbound, "inbound", "outbound"),
            "from_number": np.where(inbound, customer, ours),
            "to_number": np.where(inbound, ours, customer),
            "body": body,
            "sent_at": _utc(sent),
            "source": SOURCE,
            "external_id": _ext("sms", n),
        }
    )


def _cases(
    org: _Org, n: int, now_s: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Cases, their status history and their tags (the latter two by case position)."""
    rng = _rng(seed, org.index, 4)
    reported = _times(n, now_s, CASE_HOURS, rng)
    categories = np.array([c for c, _ in CASE_CATEGORIES])
    category = rng.choice(categories, n, p=[p for _, p in CASE_CATEGORIES])
    office = rng.integers(0, len(org.office_ids), n)

    # Each case walks its path with random gaps up to a goal; how far it got depends on its age.
    rejected = rng.random(n) < 0.08
    hours = 3600.0
    gaps = np.column_stack(
        [
            np.zeros(n),
            np.where(
                rejected,
                rng.lognormal(np.log(24 * hours), 0.8, n),
                rng.lognormal(np.log(5 * hours), 0.9, n),
            ),
            rng.lognormal(np.log(20 * hours), 0.8, n),
            rng.lognormal(np.log(72 * hours), 0.8, n),
            rng.lognormal(np.log(48 * hours), 0.6, n),
        ]
    ).astype(np.int64)
    at = reported[:, None] + np.cumsum(gaps, axis=1)
    goal = np.where(rejected, 2, rng.choice([1, 2, 3, 4, 5], n, p=[0.03, 0.04, 0.07, 0.18, 0.68]))
    steps = np.minimum((at <= now_s).sum(axis=1), goal)
    paths = np.where(rejected[:, None], REJECTED_PATH, CASE_PATH)
    status = paths[np.arange(n), steps - 1]
    last = at[np.arange(n), steps - 1]
    resolved = ~rejected & (steps >= 4)

    street = rng.choice(STREETS, n)
    house = rng.integers(1, 2500, n)
    point = org.office_centres[office] + rng.normal(0.0, 0.01, (n, 2))
    reporter = np.array(
        [
            f"{f} {la}"
            for f, la in zip(rng.choice(FIRST_NAMES, n), rng.choice(LAST_NAMES, n), strict=True)
        ],
        dtype=object,
    )
    anonymous = rng.random(n) < 0.15
    phone = _phones(n, rng)
    phone[anonymous | (rng.random(n) < 0.1)] = None
    cases = pd.DataFrame(
        {
            "org_id": org.id,
            "title": [f"{c} on {s}" for c, s in zip(category, street, strict=True)],
            "description": [
                f"{c} reported near {h} {s}."
                for c, h, s in zip(category, house, street, strict=True)
            ],
            "status": status,
            "category": category,
            "office_id": org.office_ids[office],
            "cluster_id": org.office_cluster_ids[office],
            # numpy's stubs take no None here; where() broadcasts it as an object scalar.
            "reporter_name": np.where(anonymous, None, reporter),  # type: ignore[call-overload]
            "reporter_phone": phone,
            "address": [f"{h} {s}, {org.city[0]}" for h, s in zip(house, street, strict=True)],
            "latitude": point[:, 0].round(6),
            "longitude": point[:, 1].round(6),
            "reported_at": _utc(reported),
            "updated_at": _utc(last),
            "resolved_at": _utc(at[:, 3], ~resolved),
            "source": SOURCE,
            "external_id": _ext("case", n),
        }
    )

    case_index = np.repeat(np.arange(n), steps)
    step = np.arange(len(case_index)) - np.repeat(np.cumsum(steps) - steps, steps)
    to_status = paths[case_index, step]
    from_status = np.where(step > 0, paths[case_index, np.maximum(step - 1, 0)], None)
    history = pd.DataFrame(
        {
            "case_index": case_index,
            "from_status": from_status,
            "to_status": to_status,
            "changed_at": _utc(at[case_index, step]),
            "note": [CASE_NOTES[s] for s in to_status],
        }
    )

    k = rng.choice(4, n, p=[0.30, 0.35, 0.25, 0.10])
    chosen = np.argsort(rng.random((n, len(org.tag_ids))), axis=1)[:, :3]
    mask = np.arange(3)[None, :] < k[:, None]
    tags = pd.DataFrame(
        {
            "case_index": np.repeat(np.arange(n), 3)[mask.ravel()],
            "tag_id": org.tag_ids[chosen[mask]],
        }
    )
    return cases, history, tags


def _tickets(org: _Org, n: int, now_s: int, seed: int) -> pd.DataFrame:
    rng = _rng(seed, org.index, 5)
    created = _times(n, now_s, CALL_HOURS, rng)
    priority = rng.choice(len(TICKET_PRIORITIES), n, p=TICKET_PRIORITY_P)
    sla = TICKET_SLA_HOURS[priority] * 3600
    due = created + sla
    # Most tickets close within their SLA, some drag on, a few are forgotten.
    effort = rng.lognormal(np.log(0.55), 0.8, n) * np.where(rng.random(n) < 0.06, 30.0, 1.0)
    finish = created + (sla * effort).astype(np.int64)
    done = finish <= now_s
    closed = done & (now_s - finish > 2 * 86_400) & (rng.random(n) < 0.8)
    waiting = rng.choice(np.array(["open", "pending", "in_progress"]), n, p=[0.4, 0.2, 0.4])
    status = np.where(closed, "closed", np.where(done, "resolved", waiting))
    touched = created + (rng.random(n) * (now_s - created)).astype(np.int64)
    updated = np.where(done, finish, touched)
    breached = np.where(done, finish > due, now_s > due)
    unassigned = (status == "open") & (rng.random(n) < 0.3)
    assignee = org.agent_ids[rng.integers(0, len(org.agent_ids), n)]
    has_contact = (rng.random(n) < 0.8) & (len(org.contact_ids) > 0)
    contact = rng.integers(0, max(len(org.contact_ids), 1), n)
    contact_id = org.contact_ids[contact] if len(org.contact_ids) else contact
    return pd.DataFrame(
        {
            "org_id": org.id,
            "subject": rng.choice(TICKET_SUBJECTS, n),
            "status": status,
            "priority": TICKET_PRIORITIES[priority],
            "contact_id": _nullable(contact_id, ~has_contact),
            "assignee_id": _nullable(assignee, unassigned),
            "created_at": _utc(created),
            "updated_at": _utc(updated),
            "due_at": _utc(due),
            "resolved_at": _utc(finish, ~done),
            "sla_breached": breached,
            "source": SOURCE,
            "external_id": _ext("ticket", n),
        }
    )
