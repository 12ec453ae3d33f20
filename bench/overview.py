"""Overview benchmark: every card and chart of one organisation over 90 days, on 1M calls.

A scratch PostgreSQL database gets 20 demo organisations with 1,000,000 calls, 20,000 cases
and 50,000 contacts (`models.demo_data.seed_demo`), and is VACUUM ANALYZEd. For the busiest
organisation, 90 days compared with the 90 before, each method runs warm and is timed
(median of `--overview-runs`, default 5, after one warm-up run):

- `overview functions`: `models.kpis.overview_data`, exactly what the page's callback runs
  (five scoped SQLAlchemy queries and the pandas shaping of their small results);
- `... + cards and figures`: the same plus the KPI cards and the seven plotly figures, i.e.
  everything the callback does except HTTP and JSON;
- `raw SQL, same statements`: the same five aggregates hand-written and run with psycopg,
  rows fetched, nothing shaped (the floor for these queries);
- `raw SQL, one query per chart`: the way such a page is often written by hand, one
  statement per card group and chart (days, heatmap, agents, numbers separately);
- `pandas naive`: `pandas.read_sql` of the organisation's calls of both periods (all
  columns), its cases and its tickets, everything aggregated in pandas.

Every method's results are checked against the others (totals, days, heatmap cells,
agents, numbers, cases and tickets); a mismatch fails the benchmark. The run is repeated
with the calls table rewritten in random order ("shuffled": one org's rows spread over
the whole heap, as when many organisations sync at once; the seeded table is "clustered",
each org's calls stored together), and on the shuffled table once more without the
covering indexes of migrations 0004 and 0005, to show what they are for. The first and
the 400th page of the calls table (25 rows, 90 days; newest first, sorted by agent, sorted
by caller, searched) are timed too, against the same page from one joined select.
EXPLAIN ANALYZE of each overview statement is printed with `--overview-explain`.

Run: `python -m bench overview` (or `python -m bench.overview`); `--quick` seeds 50,000
calls in 2 organisations and writes nothing.
"""

from __future__ import annotations

import contextlib
import os
import platform
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import BenchError
from bench.doc import DOC, write_section

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Overview: 1M calls, one org, 90 days"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
FULL = {"orgs": 20, "calls": 1_000_000, "cases": 20_000, "contacts": 50_000}
QUICK = {"orgs": 2, "calls": 50_000, "cases": 2_000, "contacts": 2_000}
DAYS = 90
# The covering indexes (0004, 0005) and the plain ones of 0001 they replaced:
# (covering name, its keys, what it INCLUDEs, plain name, plain keys).
INDEXES = (
    (
        "ix_calls_org_started_page",
        "org_id, started_at, id",
        "status, direction, duration_seconds, agent_id, phone_number_id, contact_id, "
        "from_number, to_number",
        "ix_calls_org_started",
        "org_id, started_at",
    ),
    (
        "ix_calls_org_phone_started_cover",
        "org_id, phone_number_id, started_at",
        "status, direction, duration_seconds, agent_id",
        "ix_calls_org_phone_started",
        "org_id, phone_number_id, started_at",
    ),
)


# --- the hand-written SQL ------------------------------------------------------------------

WHERE = "org_id = %(org)s AND started_at >= {lo} AND started_at < {hi}"
SAME_KPIS = f"""
SELECT count(*) FILTER (WHERE started_at >= %(start)s),
       count(*) FILTER (WHERE started_at >= %(start)s AND status = 'answered'),
       count(*) FILTER (WHERE started_at >= %(start)s AND status = 'missed'),
       count(*) FILTER (WHERE started_at >= %(start)s AND status = 'voicemail'),
       coalesce(sum(duration_seconds) FILTER (WHERE started_at >= %(start)s), 0),
       coalesce(sum(duration_seconds) FILTER (WHERE started_at >= %(start)s AND status = 'answered'), 0),
       count(*) FILTER (WHERE started_at < %(prev_end)s),
       count(*) FILTER (WHERE started_at < %(prev_end)s AND status = 'answered'),
       count(*) FILTER (WHERE started_at < %(prev_end)s AND status = 'missed'),
       count(*) FILTER (WHERE started_at < %(prev_end)s AND status = 'voicemail'),
       coalesce(sum(duration_seconds) FILTER (WHERE started_at < %(prev_end)s), 0),
       coalesce(sum(duration_seconds) FILTER (WHERE started_at < %(prev_end)s AND status = 'answered'), 0)
FROM calls
WHERE {WHERE.format(lo="%(prev_start)s", hi="%(end)s")}
  AND (started_at >= %(start)s OR started_at < %(prev_end)s)
"""
SAME_HOURS = f"""
SELECT date_trunc('hour', started_at AT TIME ZONE 'UTC') AS hour,
       count(*) FILTER (WHERE status = 'answered'),
       count(*) FILTER (WHERE status = 'missed'),
       count(*) FILTER (WHERE status = 'voicemail')
FROM calls WHERE {WHERE.format(lo="%(start)s", hi="%(end)s")}
GROUP BY 1
"""
SAME_PAIRS = f"""
SELECT c.agent_id, coalesce(nullif(u.name, ''), u.email), c.phone_number_id, p.number, p.label,
       c.calls, c.answered
FROM (SELECT agent_id, phone_number_id, count(*) AS calls,
             count(*) FILTER (WHERE status = 'answered') AS answered
      FROM calls WHERE {WHERE.format(lo="%(start)s", hi="%(end)s")}
      GROUP BY agent_id, phone_number_id) AS c
LEFT JOIN users u ON u.id = c.agent_id
LEFT JOIN phone_numbers p ON p.id = c.phone_number_id
"""
CASES = """
SELECT c.status, coalesce(o.name, 'No office'), coalesce(k.name, 'No cluster'),
       count(*) FILTER (WHERE c.reported_at >= %(start)s),
       count(*) FILTER (WHERE c.reported_at < %(end)s AND (c.status IN ('new', 'acknowledged', 'in_progress')
                                 OR coalesce(c.resolved_at, c.updated_at) >= %(end)s)),
       count(*) FILTER (WHERE c.reported_at < %(start)s AND (c.status IN ('new', 'acknowledged', 'in_progress')
                                 OR coalesce(c.resolved_at, c.updated_at) >= %(start)s)),
       count(*) FILTER (WHERE c.resolved_at >= %(start)s AND c.resolved_at < %(end)s),
       count(*) FILTER (WHERE c.resolved_at >= %(prev_start)s AND c.resolved_at < %(prev_end)s)
FROM cases c
LEFT JOIN offices o ON o.id = c.office_id
LEFT JOIN clusters k ON k.id = c.cluster_id
WHERE c.org_id = %(org)s AND c.reported_at < %(end)s
  AND (c.status IN ('new', 'acknowledged', 'in_progress')
       OR coalesce(c.resolved_at, c.updated_at) >= %(prev_start)s OR c.reported_at >= %(start)s)
GROUP BY 1, 2, 3
"""
TICKETS = """
SELECT status,
       count(*) FILTER (WHERE created_at >= %(start)s),
       count(*) FILTER (WHERE status IN ('open', 'pending', 'in_progress')
                           OR coalesce(resolved_at, updated_at) >= %(end)s),
       count(*) FILTER (WHERE created_at < %(start)s AND (status IN ('open', 'pending', 'in_progress')
                           OR coalesce(resolved_at, updated_at) >= %(start)s)),
       count(*) FILTER (WHERE sla_breached AND due_at >= %(start)s AND due_at < %(end)s),
       count(*) FILTER (WHERE sla_breached AND due_at >= %(prev_start)s AND due_at < %(prev_end)s)
FROM tickets
WHERE org_id = %(org)s AND created_at < %(end)s
  AND (status IN ('open', 'pending', 'in_progress') OR coalesce(resolved_at, updated_at) >= %(prev_start)s
       OR due_at >= %(prev_start)s OR created_at >= %(start)s)
GROUP BY status
"""
SAME_STATEMENTS = (SAME_KPIS, SAME_HOURS, SAME_PAIRS, CASES, TICKETS)

PER_CHART_DAYS = f"""
SELECT (started_at AT TIME ZONE 'UTC')::date,
       count(*) FILTER (WHERE status = 'answered'),
       count(*) FILTER (WHERE status = 'missed'),
       count(*) FILTER (WHERE status = 'voicemail')
FROM calls WHERE {WHERE.format(lo="%(start)s", hi="%(end)s")} GROUP BY 1 ORDER BY 1
"""
PER_CHART_HEATMAP = f"""
SELECT extract(isodow FROM started_at AT TIME ZONE 'UTC')::int - 1,
       extract(hour FROM started_at AT TIME ZONE 'UTC')::int, count(*)
FROM calls WHERE {WHERE.format(lo="%(start)s", hi="%(end)s")} GROUP BY 1, 2
"""
PER_CHART_AGENTS = f"""
SELECT c.agent_id, coalesce(nullif(u.name, ''), u.email), c.calls, c.answered
FROM (SELECT agent_id, count(*) AS calls, count(*) FILTER (WHERE status = 'answered') AS answered
      FROM calls WHERE {WHERE.format(lo="%(start)s", hi="%(end)s")} AND agent_id IS NOT NULL
      GROUP BY agent_id ORDER BY calls DESC, agent_id LIMIT 20) AS c
JOIN users u ON u.id = c.agent_id
"""
PER_CHART_NUMBERS = f"""
SELECT c.phone_number_id, p.number, p.label, c.calls, c.answered
FROM (SELECT phone_number_id, count(*) AS calls, count(*) FILTER (WHERE status = 'answered') AS answered
      FROM calls WHERE {WHERE.format(lo="%(start)s", hi="%(end)s")} AND phone_number_id IS NOT NULL
      GROUP BY phone_number_id ORDER BY calls DESC, phone_number_id LIMIT 10) AS c
JOIN phone_numbers p ON p.id = c.phone_number_id
"""
PER_CHART = (
    SAME_KPIS,
    PER_CHART_DAYS,
    PER_CHART_HEATMAP,
    PER_CHART_AGENTS,
    PER_CHART_NUMBERS,
    CASES,
    TICKETS,
)


# --- what each method computes, for cross-checking -------------------------------------------


@dataclass
class Summary:
    """The numbers every method must agree on."""

    totals: (
        tuple  # (current total, answered, missed, voicemail, duration, prev total, prev answered)
    )
    per_day: dict  # date -> calls
    cells: dict  # (weekday, hour) -> calls
    agents: dict  # agent id -> (calls, answered), top 20
    numbers: dict  # number id -> (calls, answered), top 10
    cases: tuple  # open now, open before, resolved, resolved before, reported in period
    tickets: tuple  # open now, open before, breaches, breaches before, created in period


def summary_of_overview(data) -> Summary:
    c, p = data.calls, data.calls_before
    days = data.per_day.set_index("day")[["answered", "missed", "voicemail"]].sum(axis=1)
    return Summary(
        totals=(c.total, c.answered, c.missed, c.voicemail, c.total_duration, p.total, p.answered),
        per_day={d: int(n) for d, n in days.items() if n},
        cells={(int(r.weekday), int(r.hour)): int(r.calls) for r in data.heatmap.itertuples()},
        agents={int(r.agent_id): (int(r.calls), int(r.answered)) for r in data.agents.itertuples()},
        numbers={
            int(r.phone_number_id): (int(r.calls), int(r.answered))
            for r in data.numbers.itertuples()
        },
        cases=(
            data.cases.open_now,
            data.cases.open_before,
            data.cases.resolved,
            data.cases.resolved_before,
            int(data.cases.breakdown["cases"].sum()),
        ),
        tickets=(
            data.tickets.open_now,
            data.tickets.open_before,
            data.tickets.breaches,
            data.tickets.breaches_before,
            int(data.tickets.by_status["tickets"].sum()),
        ),
    )


def _top(pairs: dict, limit: int) -> dict:
    ordered = sorted(pairs.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return dict(ordered[:limit])


def summary_of_rows(kpis, hours, pairs, cases, tickets) -> Summary:
    """Summary from the raw rows of the five same-shaped statements."""
    from collections import Counter

    per_day: Counter = Counter()
    cells: Counter = Counter()
    for hour, a, m, v in hours:
        n = a + m + v
        per_day[hour.date()] += n
        cells[(hour.weekday(), hour.hour)] += n
    agents: dict = {}
    numbers: dict = {}
    for agent_id, agent, number_id, number, _label, calls, answered in pairs:
        if agent_id is not None and agent is not None:
            old = agents.get(agent_id, (0, 0))
            agents[agent_id] = (old[0] + calls, old[1] + answered)
        if number_id is not None and number is not None:
            old = numbers.get(number_id, (0, 0))
            numbers[number_id] = (old[0] + calls, old[1] + answered)
    k = kpis[0] if kpis else (0,) * 12
    return Summary(
        totals=(k[0], k[1], k[2], k[3], k[4], k[6], k[7]),
        per_day=dict(per_day),
        cells=dict(cells),
        agents=_top(agents, 20),
        numbers=_top(numbers, 10),
        cases=(
            sum(r[4] for r in cases),
            sum(r[5] for r in cases),
            sum(r[6] for r in cases),
            sum(r[7] for r in cases),
            sum(r[3] for r in cases),
        ),
        tickets=(
            sum(r[2] for r in tickets),
            sum(r[3] for r in tickets),
            sum(r[4] for r in tickets),
            sum(r[5] for r in tickets),
            sum(r[1] for r in tickets),
        ),
    )


def summary_of_per_chart(results) -> Summary:
    kpis, days, heat, agents, numbers, cases, tickets = results
    same = summary_of_rows(kpis, [], [], cases, tickets)
    return Summary(
        totals=same.totals,
        per_day={d: a + m + v for d, a, m, v in days if a + m + v},
        cells={(w, h): n for w, h, n in heat},
        agents={a: (c, n) for a, _name, c, n in agents},
        numbers={p: (c, n) for p, _num, _lab, c, n in numbers},
        cases=same.cases,
        tickets=same.tickets,
    )


def naive_pandas(engine, org_id: int, period) -> Summary:
    """Read the org's rows with pandas.read_sql and aggregate everything in pandas."""
    import pandas as pd
    from sqlalchemy import text

    calls = pd.read_sql(
        text("SELECT * FROM calls WHERE org_id = :org AND started_at >= :lo AND started_at < :hi"),
        engine,
        params={"org": org_id, "lo": period.prev_start, "hi": period.end},
    )
    cases = pd.read_sql(
        text("SELECT * FROM cases WHERE org_id = :org"), engine, params={"org": org_id}
    )
    offices = pd.read_sql(text("SELECT id, name, cluster_id FROM offices"), engine)
    tickets = pd.read_sql(
        text("SELECT * FROM tickets WHERE org_id = :org"), engine, params={"org": org_id}
    )
    users = pd.read_sql(text("SELECT id, name, email FROM users"), engine)
    numbers = pd.read_sql(text("SELECT id, number, label FROM phone_numbers"), engine)

    t = pd.to_datetime(calls["started_at"], utc=True)
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    prev_start, prev_end = pd.Timestamp(period.prev_start), pd.Timestamp(period.prev_end)
    cur = calls[(t >= start) & (t < end)]
    prev = calls[(t >= prev_start) & (t < prev_end)]
    tc = t[cur.index]

    def kpis(frame):
        answered = frame["status"] == "answered"
        return (
            len(frame),
            int(answered.sum()),
            int((frame["status"] == "missed").sum()),
            int((frame["status"] == "voicemail").sum()),
            int(frame["duration_seconds"].sum()),
        )

    now_k, prev_k = kpis(cur), kpis(prev)
    per_day = cur.groupby(tc.dt.date).size()
    cells = cur.groupby([tc.dt.day_of_week, tc.dt.hour]).size()
    answered = (cur["status"] == "answered").astype(int)
    by_agent = (
        cur.assign(answered=answered)
        .dropna(subset=["agent_id"])
        .groupby("agent_id")
        .agg(calls=("id", "size"), answered=("answered", "sum"))
        .join(users.set_index("id"))
    )
    by_number = (
        cur.assign(answered=answered)
        .dropna(subset=["phone_number_id"])
        .groupby("phone_number_id")
        .agg(calls=("id", "size"), answered=("answered", "sum"))
        .join(numbers.set_index("id"))
    )

    def open_at(frame, opened, moment, open_statuses):
        closed = pd.to_datetime(frame["resolved_at"], utc=True).fillna(
            pd.to_datetime(frame["updated_at"], utc=True)
        )
        return (pd.to_datetime(frame[opened], utc=True) < moment) & (
            frame["status"].isin(open_statuses) | (closed >= moment)
        )

    resolved = pd.to_datetime(cases["resolved_at"], utc=True)
    reported = pd.to_datetime(cases["reported_at"], utc=True)
    case_rows = cases.merge(offices, left_on="office_id", right_on="id", how="left")
    open_cases = ("new", "acknowledged", "in_progress")
    due = pd.to_datetime(tickets["due_at"], utc=True)
    created = pd.to_datetime(tickets["created_at"], utc=True)
    open_tickets = ("open", "pending", "in_progress")
    in_period = (reported >= start) & (reported < end)
    _ = case_rows[in_period.to_numpy()].groupby(["status", "name"]).size()  # the office chart
    return Summary(
        totals=(*now_k, prev_k[0], prev_k[1]),
        per_day={d: int(n) for d, n in per_day.items()},
        cells={(int(w), int(h)): int(n) for (w, h), n in cells.items()},
        agents=_top({int(i): (int(r.calls), int(r.answered)) for i, r in by_agent.iterrows()}, 20),
        numbers=_top(
            {int(i): (int(r.calls), int(r.answered)) for i, r in by_number.iterrows()}, 10
        ),
        cases=(
            int(open_at(cases, "reported_at", end, open_cases).sum()),
            int(open_at(cases, "reported_at", start, open_cases).sum()),
            int(((resolved >= start) & (resolved < end)).sum()),
            int(((resolved >= prev_start) & (resolved < prev_end)).sum()),
            int(in_period.sum()),
        ),
        tickets=(
            int(open_at(tickets, "created_at", end, open_tickets).sum()),
            int(open_at(tickets, "created_at", start, open_tickets).sum()),
            int((tickets["sla_breached"] & (due >= start) & (due < end)).sum()),
            int((tickets["sla_breached"] & (due >= prev_start) & (due < prev_end)).sum()),
            int(((created >= start) & (created < end)).sum()),
        ),
    )


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Row:
    layout: str
    method: str
    times: list[float]
    queries: int
    rows: int | str
    versus_raw: bool = True  # the same work as the raw SQL row (not the agent or table rows)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000

    @property
    def min_ms(self) -> float:
        return min(self.times) * 1000


@dataclass
class Scratch:
    name: str
    app_url: str
    libpq_url: str
    notes: list[str] = field(default_factory=list)


def _admin():
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


@contextlib.contextmanager
def scratch_database(keep: bool, reuse: str | None):
    """A new database (or `reuse`, left in place), dropped at the end unless `keep`."""
    try:
        admin = _admin()
    except Exception as exc:  # noqa: BLE001
        raise BenchError(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}") from exc
    name = reuse or f"syncboard_bench_overview_{os.getpid()}_{secrets.token_hex(3)}"
    if not reuse:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    scratch = Scratch(
        name=name,
        app_url=f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}",
        libpq_url=f"{base}/{name}",
    )
    try:
        yield scratch
    finally:
        if keep or reuse:
            print(f'kept database {name} (drop it with: DROP DATABASE "{name}")', file=sys.stderr)
        else:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """One warm-up call, then `runs` timed calls; (seconds per run, last result)."""
    result = fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


def busiest_agent(engine, org_id: int) -> tuple[int, frozenset[int]]:
    """The agent of the org holding the most numbers (ties: lowest id), and those numbers."""
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT user_id, phone_number_id FROM phone_assignments WHERE org_id = :o "
                "ORDER BY user_id"
            ),
            {"o": org_id},
        ).all()
    held: dict[int, set[int]] = {}
    for user_id, number_id in rows:
        held.setdefault(user_id, set()).add(number_id)
    user_id = min(held, key=lambda u: (-len(held[u]), u))
    return user_id, frozenset(held[user_id])


def agent_row(engine, org_id: int, period, runs: int, layout: str) -> Row:
    """The overview functions for an agent: only the calls on their numbers (their index)."""
    from sqlalchemy.orm import sessionmaker

    from models.kpis import overview_data
    from models.scope import Viewer

    user_id, numbers = busiest_agent(engine, org_id)
    viewer = Viewer(user_id, "agent@example.com", org_id, "agent", False, numbers)
    sessions = sessionmaker(bind=engine)

    def one():
        with sessions() as s:
            return overview_data(s, viewer, period)

    times, data = timed(one, runs)
    return Row(
        layout,
        f"overview functions for an agent ({len(numbers)} numbers, {data.calls.total:,} calls)",
        times,
        5,
        "small",
        versus_raw=False,
    )


def measure(scratch: Scratch, engine, org_id: int, period, runs: int, layout: str) -> list[Row]:
    import psycopg
    from sqlalchemy import event
    from sqlalchemy.orm import sessionmaker

    from callbacks.overview import kpi_cards, overview_kpis
    from models.kpis import overview_data
    from models.scope import Viewer
    from pages import _figures as figs

    viewer = Viewer(0, "bench@example.com", org_id, "manager")
    sessions = sessionmaker(bind=engine)
    statements: list[str] = []

    counting = [False]

    def count(conn, cursor, statement, params, context, executemany):
        if counting[0]:
            statements.append(statement)

    def functions():
        counting[0] = True
        try:
            with sessions() as s:
                return overview_data(s, viewer, period)
        finally:
            counting[0] = False

    def whole_callback():
        data = functions()
        return (
            kpi_cards(overview_kpis(data)),
            figs.calls_per_day_figure(data.per_day),
            figs.heatmap_figure(data.heatmap),
            figs.agent_rate_figure(data.agents),
            figs.top_numbers_figure(data.numbers),
            figs.case_status_figure(data.cases.breakdown),
            figs.case_office_figure(data.cases.breakdown),
            figs.ticket_status_figure(data.tickets.by_status),
        )

    params = {
        "org": org_id,
        "start": period.start,
        "end": period.end,
        "prev_start": period.prev_start,
        "prev_end": period.prev_end,
    }
    raw = psycopg.connect(scratch.libpq_url)

    def run_sql(statements_: tuple[str, ...]):
        out = []
        with raw.cursor() as cur:
            for sql in statements_:
                cur.execute(sql, params)
                out.append(cur.fetchall())
        raw.commit()
        return out

    methods: dict[str, Callable[[], Any]] = {
        "functions": functions,
        "callback": whole_callback,
        "same": lambda: run_sql(SAME_STATEMENTS),
        "per_chart": lambda: run_sql(PER_CHART),
        "naive": lambda: naive_pandas(engine, org_id, period),
    }
    # Rounds interleave the methods, each round in a rotated order, so a busy moment on the
    # machine and the position in the round hit them all alike. pandas naive runs in rounds
    # of its own afterwards: reading every row evicts the indexes from PostgreSQL's shared
    # buffers, which would slow down whichever method came next.
    names = [name for name in methods if name != "naive"]
    results = {name: methods[name]() for name in names}  # warm-up
    times: dict[str, list[float]] = {name: [] for name in methods}
    event.listen(engine, "before_cursor_execute", count)
    statements.clear()
    try:
        for round_ in range(runs):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                started = time.perf_counter()
                results[name] = methods[name]()
                times[name].append(time.perf_counter() - started)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    naive_times, results["naive"] = timed(methods["naive"], runs)
    times["naive"] = naive_times
    data, same, per_chart = results["functions"], results["same"], results["per_chart"]
    naive_summary = results["naive"]
    queries = len(statements) // (2 * runs)  # functions() runs twice a round (callback too)
    fetched = len(data.per_day) + len(data.heatmap) + len(data.agents) + len(data.numbers)
    with raw.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM calls WHERE org_id = %(org)s AND started_at >= %(prev_start)s"
            " AND started_at < %(end)s) + (SELECT count(*) FROM cases WHERE org_id = %(org)s)"
            " + (SELECT count(*) FROM tickets WHERE org_id = %(org)s)",
            params,
        )
        read = cur.fetchone()[0]
    raw.close()
    rows = [
        Row(
            layout,
            "overview functions (`models.kpis.overview_data`)",
            times["functions"],
            queries,
            "small",
        ),
        Row(layout, "... + KPI cards and the 7 figures", times["callback"], queries, "small"),
        Row(
            layout,
            "raw SQL (psycopg), same statements",
            times["same"],
            len(SAME_STATEMENTS),
            sum(map(len, same)),
        ),
        Row(
            layout,
            "raw SQL (psycopg), one query per chart",
            times["per_chart"],
            len(PER_CHART),
            sum(map(len, per_chart)),
        ),
        Row(layout, "pandas naive (`read_sql` rows, aggregate in pandas)", times["naive"], 6, read),
    ]

    expected = summary_of_overview(data)
    for label, got in (
        ("raw SQL, same statements", summary_of_rows(*same)),
        ("raw SQL, one query per chart", summary_of_per_chart(per_chart)),
        ("pandas naive", naive_summary),
    ):
        for key in expected.__dataclass_fields__:
            if getattr(expected, key) != getattr(got, key):
                raise BenchError(
                    f"{layout}: {label} disagrees with the overview functions on {key}: "
                    f"{getattr(got, key)!r} != {getattr(expected, key)!r}"
                )
    print(
        f"  {layout}: checked, all methods agree (calls {expected.totals[0]:,} / "
        f"previous {expected.totals[5]:,}; {fetched} chart rows)",
        file=sys.stderr,
    )
    return rows


# Views of the calls table timed on its first and 400th page: (what, CallFilters fields).
TABLE_VIEWS = (
    ("newest first", {}),
    ("sorted by agent", {"sort": "agent"}),
    ("sorted by caller", {"sort": "from"}),
    ('search "55" (numbers)', {"search": "55"}),
    ('search "garcia" (contacts)', {"search": "garcia"}),
)
TABLE_PAGES = (0, 399)


@dataclass
class PageRow:
    layout: str
    view: str
    page: int
    total: int
    mine: list[float]  # call_page
    joined: list[float]  # the same page from the joined select, counted through it

    @staticmethod
    def ms(times: list[float]) -> float:
        return statistics.median(times) * 1000


def calls_table_rows(engine, org_id: int, period, runs: int, layout: str) -> list[PageRow]:
    """Pages of the calls table: `call_page` (count and page order on `calls` alone, then
    the page's 25 rows joined) against one joined select, counted and paged as a whole.
    Both must return the same rows and total."""
    from sqlalchemy.orm import sessionmaker

    from models.calls import CALL_SORTABLE, CallFilters, _calls_select, call_page
    from models.paging import fetch_page
    from models.records import Call
    from models.scope import Viewer

    viewer = Viewer(0, "bench@example.com", org_id, "manager")
    sessions = sessionmaker(bind=engine)
    start, end = period.start.date(), (period.end - timedelta(seconds=1)).date()
    out = []
    for view, extra in TABLE_VIEWS:
        filters = CallFilters(start=start, end=end, **extra)
        for page in TABLE_PAGES:

            def mine(filters=filters, page=page):
                with sessions() as s:
                    return call_page(s, viewer, filters, page=page, page_size=25)

            def joined(filters=filters, page=page):
                with sessions() as s:
                    return fetch_page(
                        s,
                        _calls_select(viewer, filters),
                        sortable=CALL_SORTABLE,
                        sort=filters.sort,
                        descending=filters.descending,
                        default_sort=Call.started_at,
                        page=page,
                        page_size=25,
                        tiebreak=Call.id,
                    )

            mine_times, got = timed(mine, runs)
            if page and page * 25 >= got.total:
                continue  # the view has no such page
            joined_times, expected = timed(joined, runs)
            if got.total != expected.total or got.rows != expected.rows:
                raise BenchError(f"{layout}: calls table {view}, page {page + 1} differs")
            out.append(PageRow(layout, view, page + 1, got.total, mine_times, joined_times))
    return out


def explain(engine, org_id: int, period) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement the overview runs."""
    from sqlalchemy import event
    from sqlalchemy.orm import sessionmaker

    from models.kpis import overview_data
    from models.scope import Viewer

    captured: list[tuple[str, Any]] = []

    def grab(conn, cursor, statement, params, context, executemany):
        if not statement.startswith("EXPLAIN"):
            captured.append((statement, params))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        with sessionmaker(bind=engine)() as s:
            overview_data(s, Viewer(0, "b@example.com", org_id, "manager"), period)
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    lines = []
    with engine.connect() as conn:
        for statement, params in captured:
            plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).all()
            lines.append(statement.split("\n", 1)[0][:100] + " ...")
            lines.extend("    " + p[0] for p in plan)
    return lines


# --- the data ---------------------------------------------------------------------------------


def seed_scratch(scratch: Scratch, sizes: dict, reuse: bool, notes: list[str]):
    """Migrate and seed the scratch database (unless reusing one), VACUUM ANALYZE it, and
    return (engine, the busiest organisation's id, its calls)."""
    from sqlalchemy import text

    from models.db import make_engine
    from models.demo_data import seed_demo
    from models.migrate import upgrade

    engine = make_engine(scratch.app_url)
    if not reuse:
        upgrade(engine)
        print(f"seeding {sizes['calls']:,} calls in {sizes['orgs']} org(s) ...", file=sys.stderr)
        started = time.perf_counter()
        seed_demo(engine, **sizes)
        notes.append(f"seeding took {time.perf_counter() - started:.0f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        org_id, calls = conn.execute(
            text(
                "SELECT org_id, count(*) FROM calls GROUP BY org_id ORDER BY count(*) DESC LIMIT 1"
            )
        ).one()
    return engine, org_id, calls


def prepare(scratch: Scratch, sizes: dict, reuse: bool):
    from sqlalchemy import text

    engine, org_id, calls = seed_scratch(scratch, sizes, reuse, scratch.notes)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM calls")).scalar()
        now = conn.execute(text("SELECT max(started_at) FROM calls")).scalar()
    return engine, org_id, calls, total, now


def shuffle_calls(engine) -> float:
    """Rewrite the calls table in random order: one org's rows end up all over the heap."""
    from sqlalchemy import text

    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("CREATE TEMP TABLE shuffled AS SELECT * FROM calls ORDER BY random()"))
        conn.execute(text("TRUNCATE calls"))
        conn.execute(text("INSERT INTO calls SELECT * FROM shuffled"))
        conn.execute(text("DROP TABLE shuffled"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE calls"))
    return time.perf_counter() - started


@contextlib.contextmanager
def without_covering_index(engine):
    """Migration 0001's plain indexes in place of 0004's covering ones, then back."""
    from sqlalchemy import text

    def run(*sql):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for statement in sql:
                conn.execute(text(statement))

    run(
        *(f"DROP INDEX {cover}" for cover, *_ in INDEXES),
        *(f"CREATE INDEX {plain} ON calls ({keys})" for *_, plain, keys in INDEXES),
        "VACUUM ANALYZE calls",
    )
    try:
        yield
    finally:
        run(
            *(f"DROP INDEX {plain}" for *_, plain, _keys in INDEXES),
            *(
                f"CREATE INDEX {cover} ON calls ({keys}) INCLUDE ({include})"
                for cover, keys, include, *_ in INDEXES
            ),
            "VACUUM ANALYZE calls",
        )


# --- report -----------------------------------------------------------------------------------


def _load() -> str:
    """The 1-minute load average (other processes on the machine skew timings)."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def machine_line() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 2**20:.1f} GiB RAM"
                break
    pg = "PostgreSQL ?"
    with contextlib.suppress(Exception), _admin() as admin:
        pg = "PostgreSQL " + admin.execute("SHOW server_version").fetchone()[0].split()[0]
    return (
        f"{cpu}, {os.cpu_count()} cores, {ram}, Python {platform.python_version()}, {pg}, "
        f"{platform.system()} {platform.release()}"
    )


def table(rows: list[Row], reference: dict[str, float]) -> str:
    head = "| calls table layout | method | median ms | min ms | vs. raw SQL | queries | rows fetched |"
    lines = [head, "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        ref = reference.get(r.layout)
        ratio = f"{r.median_ms / ref:.2f}×" if ref and r.versus_raw else "—"
        fetched = f"{r.rows:,}" if isinstance(r.rows, int) else r.rows
        lines.append(
            f"| {r.layout} | {r.method} | {r.median_ms:.1f} | {r.min_ms:.1f} | {ratio} | "
            f"{r.queries} | {fetched} |"
        )
    return "\n".join(lines)


def page_table(rows: list[PageRow]) -> str:
    lines = [
        "| calls table layout | view (90 days) | page | rows in view | `call_page` ms "
        "| one joined select ms | speed-up |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        mine, joined = PageRow.ms(r.mine), PageRow.ms(r.joined)
        lines.append(
            f"| {r.layout} | {r.view} | {r.page} | {r.total:,} | {mine:.1f} | {joined:.1f} "
            f"| {joined / mine:.1f}× |"
        )
    return "\n".join(lines)


def summary_line(rows: list[Row], reference: dict[str, float]) -> str:
    """The result in one sentence: the overview functions against the two baselines."""
    parts = []
    for layout in ("clustered", "shuffled"):
        mine = next(
            (r for r in rows if r.layout == layout and r.method.startswith("overview")), None
        )
        naive = next(
            (r for r in rows if r.layout == layout and r.method.startswith("pandas")), None
        )
        if mine and naive and reference.get(layout):
            parts.append(
                f"{layout}: {mine.median_ms / reference[layout]:.2f}× the hand-written SQL, "
                f"{naive.median_ms / mine.median_ms:.0f}× faster than pandas naive"
            )
    return (
        "**Result** (target: at most 1.5× raw SQL, far below pandas naive): "
        + "; ".join(parts)
        + "."
    )


def section(rows, pages, reference, machine, info: dict, notes: list[str]) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        SECTION,
        "",
        f"Measured {when} on: {machine}.",
        "",
        f"Command: `python -m bench overview` ({info['runs']} timed runs per method after one "
        "warm-up; median and fastest).",
        "",
        f"Data: `seed_demo(orgs={info['orgs']}, calls={info['total']:,}, cases={info['cases']:,}, "
        f"contacts={info['contacts']:,})`. Measured organisation: the busiest, "
        f"{info['org_calls']:,} calls in all, {info['current']:,} in the {DAYS} days shown and "
        f"{info['previous']:,} in the {DAYS} days before.",
        "",
        table(rows, reference),
        "",
        summary_line(rows, reference),
        "",
        "The calls table (`models.calls.call_page`, 25 rows a page, the same organisation and "
        "90 days), against the same page taken from one joined select counted and paged as a "
        "whole (how `call_page` paged before migration 0005, here on today's index and "
        "search); both return the same rows:",
        "",
        page_table(pages),
        "",
        "How to read it:",
        "",
        "- **overview functions** is `models.kpis.overview_data`, what the overview callback "
        "runs: 5 SQL statements (call KPIs of both periods with conditional aggregates; calls "
        "per UTC hour, folded into days and the weekday × hour heatmap in pandas; calls per "
        "(agent, number), folded into the agent and number charts; cases; tickets), each "
        "scoped through `models.scope.visible`. The next row adds the cards and the seven "
        "plotly figures: the whole callback but HTTP.",
        "- **raw SQL, same statements** runs the same five aggregates hand-written with psycopg "
        "and only fetches the rows: the floor for this work. **one query per chart** is the "
        "common hand-written shape (days, heatmap with `EXTRACT`, agents and numbers each "
        "their own scan).",
        "- **pandas naive** reads the organisation's calls of both periods (`SELECT *`), its "
        "cases and tickets with `pandas.read_sql` and computes the same numbers in pandas.",
        "- After seeding, after the table is rewritten (shuffled) and after its indexes are "
        "swapped, the app's connection pool is replaced: connections that ran the bulk "
        "writes stayed 30–40% slower on these statements afterwards, which production "
        "connections (they never bulk-load or rewrite the table) would not be; the raw-SQL "
        "connection is new for each layout too.",
        "- Methods run warm (one warm-up run each) in interleaved rounds, each round in a "
        "rotated order; pandas naive runs in rounds of its own afterwards, since reading "
        "every row evicts the indexes from PostgreSQL's shared buffers and would slow down "
        "the method after it.",
        "- Every method's numbers are compared with the overview functions' (totals, days, "
        "heatmap cells, top agents and numbers, cases, tickets); the benchmark fails on any "
        "difference.",
        "- *clustered*: the table as seeded, each organisation's calls stored together (one "
        "org's 90 days sit on a few hundred heap pages). *shuffled*: the same rows rewritten "
        "in random order, as when many organisations sync at the same time; one org's rows "
        "then sit on tens of thousands of pages. *shuffled, no covering index*: the shuffled "
        "table with migration 0004's covering indexes replaced by the plain "
        "`(org_id, started_at)` and `(org_id, phone_number_id, started_at)` indexes they "
        "superseded.",
        "- *calls table*: `call_page` counts the view and orders the page on `calls` alone "
        "(selecting only `id`, so PostgreSQL drops the joins to numbers, agents and contacts "
        "that neither the sort nor the search needs) through an index-only scan of "
        "`(org_id, started_at, id) INCLUDE (...)`, then reads the page's 25 rows whole. The "
        "joined select counts through the joins, which keeps PostgreSQL from an index-only "
        "scan, and walks the whole view's rows in the heap to sort it.",
        "- *for an agent*: the same functions for the org's agent holding the most numbers "
        "(their calls only, read through the `(org_id, phone_number_id, started_at)` index).",
        "- Indexes (migrations 0004 and 0005), chosen with EXPLAIN ANALYZE: "
        "`calls (org_id, started_at, id) INCLUDE (status, direction, duration_seconds, "
        "agent_id, phone_number_id, contact_id, from_number, to_number)` and "
        "`calls (org_id, phone_number_id, started_at) INCLUDE (...)` let the three call "
        "statements run as index-only scans (0 heap fetches) whatever the heap layout, for "
        "managers and for agents; "
        "`calls (org_id, agent_id, started_at)` serves the agent filter (15 ms → 1 ms for "
        "one agent's calls). `calls (org_id, status, started_at)`, `cases (org_id, status)` "
        "and `tickets (org_id, created_at)` were left out: no statement filters calls by "
        "status, and EXPLAIN shows cases and tickets read per organisation through the "
        "existing `(org_id, reported_at)` and `(org_id, status)` indexes in 2 ms and 1 ms.",
    ]
    body += [f"- {n}" for n in notes]
    return "\n".join(body) + "\n"


def write_doc(text: str) -> None:
    write_section(SECTION, text)


# --- entry points -----------------------------------------------------------------------------


def add_scratch_options(parser, prefix: str) -> None:
    """`--PREFIX-keep-db` and `--PREFIX-reuse-db`, the options of `scratch_database`."""
    parser.add_argument(
        f"--{prefix}-keep-db", action="store_true", help="do not drop the scratch database"
    )
    parser.add_argument(
        f"--{prefix}-reuse-db",
        metavar="NAME",
        default=None,
        help="use this already seeded database instead of seeding a new one (left in place)",
    )


def add_arguments(parser) -> None:
    parser.add_argument(
        "--overview-runs", type=int, default=5, help="timed runs per method (default 5)"
    )
    parser.add_argument(
        "--overview-layouts",
        default="clustered,shuffled",
        help="calls table layouts to measure: clustered,shuffled (default both)",
    )
    parser.add_argument(
        "--overview-explain",
        action="store_true",
        help="print EXPLAIN ANALYZE of each overview statement",
    )
    add_scratch_options(parser, "overview")


def run(options) -> int:
    from models.kpis import Period

    quick = getattr(options, "quick", False)
    sizes = QUICK if quick else FULL
    runs = max(1, options.overview_runs if not quick else min(options.overview_runs, 3))
    layouts = [x.strip() for x in options.overview_layouts.split(",") if x.strip()]
    if set(layouts) - {"clustered", "shuffled"}:
        raise BenchError(f"unknown layout(s) in {options.overview_layouts!r}")
    results: list[Row] = []
    pages: list[PageRow] = []
    reference: dict[str, float] = {}
    load_at_start = _load()
    with scratch_database(options.overview_keep_db, options.overview_reuse_db) as scratch:
        engine, org_id, org_calls, total, now = prepare(
            scratch, sizes, reuse=bool(options.overview_reuse_db)
        )
        engine.dispose()  # the seeding connections out of the pool (see the notes)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        period = Period.of(
            midnight - timedelta(days=DAYS - 1), now + timedelta(seconds=1), timedelta(days=DAYS)
        )
        from sqlalchemy import text

        with engine.connect() as conn:
            current, previous = conn.execute(
                text(
                    "SELECT count(*) FILTER (WHERE started_at >= :s), count(*) FILTER (WHERE "
                    "started_at < :pe) FROM calls WHERE org_id = :o AND started_at >= :ps "
                    "AND started_at < :e"
                ),
                {
                    "s": period.start,
                    "pe": period.prev_end,
                    "o": org_id,
                    "ps": period.prev_start,
                    "e": period.end,
                },
            ).one()
        print(
            f"org {org_id}: {org_calls:,} calls, {current:,} in the period, {previous:,} before",
            file=sys.stderr,
        )

        def one_layout(label: str) -> None:
            rows = measure(scratch, engine, org_id, period, runs, label)
            reference[label] = rows[2].median_ms
            results.extend(rows)
            results.append(agent_row(engine, org_id, period, runs, label))
            pages.extend(calls_table_rows(engine, org_id, period, runs, label))
            if options.overview_explain:
                print("\n".join(explain(engine, org_id, period)))

        if "clustered" in layouts:
            one_layout("clustered")
        if "shuffled" in layouts:
            seconds = shuffle_calls(engine)
            engine.dispose()  # fresh connections, like the raw SQL's (see the notes)
            scratch.notes.append(f"shuffling the calls table took {seconds:.0f} s")
            one_layout("shuffled")
            with without_covering_index(engine):
                engine.dispose()
                label = "shuffled, no covering index"
                rows = measure(scratch, engine, org_id, period, runs, label)
                reference[label] = rows[2].median_ms
                results.append(rows[0])
                results.append(rows[2])
                results.append(agent_row(engine, org_id, period, runs, label))
        engine.dispose()
    machine = machine_line()
    scratch.notes.append(
        f"The machine was shared: load average {load_at_start} at the start and "
        f"{_load()} at the end; interleaving the methods round by round spreads that over all."
    )
    print(f"Machine: {machine}")
    print(table(results, reference))
    print(page_table(pages))
    info = {
        "runs": runs,
        "orgs": sizes["orgs"],
        "total": total,
        "cases": sizes["cases"],
        "contacts": sizes["contacts"],
        "org_calls": org_calls,
        "current": current,
        "previous": previous,
    }
    write = getattr(options, "write", not quick) and not quick
    if write:
        write_doc(section(results, pages, reference, machine, info, scratch.notes))
        print(f"wrote {DOC.relative_to(ROOT)} ({SECTION[3:]})", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.overview [OPTIONS]`: the same as `python -m bench overview [OPTIONS]`."""
    from bench.__main__ import main as run_benchmarks

    argv = sys.argv[1:] if argv is None else argv
    return run_benchmarks(["overview", *argv])


if __name__ == "__main__":
    raise SystemExit(main())
