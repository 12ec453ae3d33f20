"""Export benchmark: the calls CSV export of one organisation, 10,000 to 1,000,000 rows.

The claim under test is "CSV export of 1M rows with flat memory". A scratch PostgreSQL
database gets ONE demo organisation holding 1,000,000 calls (`models.demo_data.seed_demo`,
50,000 contacts for the contact column), and is VACUUM ANALYZEd. For each size N, a date
range of the route's own `from`/`to` filters is chosen whose call count is closest to N
(whole UTC days, so the real row count is reported and checked, not N itself), and three
methods export exactly those calls, each in a fresh process so its peak memory is its own:

- `syncboard route`: the real thing over real HTTP. `syncboard serve` (gunicorn, one worker,
  8 threads, as shipped) is started for each size on a free port; a manager of the org
  signs in through the /login form, and `GET /export/calls.csv?from=...&to=...&bom=1` is
  downloaded with requests in this process (the client, not measured) and counted. The
  measured process is the gunicorn worker: its RSS is read from /proc/<pid>/status before
  and after. This was chosen over the Flask test client in a child because it is the
  production path (gunicorn's gthread worker writing chunked HTTP to a socket, not
  werkzeug's test harness collecting the body in the same process) and costs no more code.
- `pandas naive`: `pandas.read_sql` of the same joined query (a hand-written equivalent of
  `models.calls._calls_select`: calls of the org in the range, left joined to number,
  agent and contact, newest first) and `DataFrame.to_csv`: the usual way, all rows held.
- `COPY raw`: psycopg `COPY (SELECT the same columns, formatted like the export) TO STDOUT
  WITH CSV HEADER`, streamed to a byte counter: the floor, nothing held in Python.

Peak memory is the kernel's high-water mark (VmHWM) of the measured process, reset just
before the export (`echo 5 > /proc/<pid>/clear_refs`): importing the app hashes a dummy
password with argon2 (64 MiB) and signing in verifies one, and either spike would
otherwise hide everything the export does. *RSS before* is read right after that reset
(app imported and signed in; for the children, imports done and connected).

Every method's output is counted (bytes and lines) and checked: header + rows (the route's
first line starting with the UTF-8 BOM) must equal an SQL count of the same filter, and the
route's first and last data rows must carry the newest and oldest call time of the range;
a mismatch fails the benchmark. The children are this module:
`python -m bench.export_csv child KIND PARAMS_JSON`.

Run: `python -m bench export` (or `python -m bench.export_csv`); `--quick` seeds 50,000
calls, exports 5,000 and 50,000 rows and writes nothing.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import BenchError, overview, parse_sizes, process
from bench.doc import DOC, end_mark, write_section
from bench.process import child_env, emit, proc_status, reset_peak

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## CSV export: 1M calls, one org"
END_MARK = end_mark("bench/export_csv.py")
FULL = {"orgs": 1, "calls": 1_000_000, "cases": 2_000, "contacts": 50_000}
QUICK = {"orgs": 1, "calls": 50_000, "cases": 2_000, "contacts": 2_000}
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (5_000, 50_000)
BENCH_EMAIL = "export-bench@{slug}.example"
BENCH_PASSWORD = "export-bench-password"
CHILD_TIMEOUT = 3600
SERVER_START_TIMEOUT = 120
FLAT_MB = 10  # growth of (peak - before) from the smallest to the largest size still "flat"

METHODS = ("route", "pandas", "copy")
LABEL = {
    "route": "syncboard route (`GET /export/calls.csv`, gunicorn)",
    "pandas": "pandas naive (`read_sql` + `to_csv`)",
    "copy": "COPY raw (psycopg `COPY … TO STDOUT`)",
}
SHORT = {"route": "syncboard route", "pandas": "pandas naive", "copy": "COPY raw"}


# --- the hand-written SQL (the same rows and order as `models.calls.iter_calls`) ------------

FROM_WHERE = """
FROM calls c
LEFT JOIN phone_numbers p ON p.id = c.phone_number_id AND p.org_id = c.org_id
LEFT JOIN users u ON u.id = c.agent_id
LEFT JOIN contacts k ON k.id = c.contact_id AND k.org_id = c.org_id
WHERE c.org_id = {org} AND c.started_at >= {lo} AND c.started_at < {hi}
"""
ORDER = "ORDER BY c.started_at DESC, c.id DESC"
CONTACT = "trim(coalesce(k.first_name, '') || ' ' || coalesce(k.last_name, ''))"
AGENT = "coalesce(nullif(u.name, ''), u.email)"
# What a pandas user would select: the joined columns as they are.
PANDAS_SQL = f"""
SELECT c.started_at, p.label AS number_label, p.number, c.direction, c.from_number,
       c.to_number, {CONTACT} AS contact, c.status, c.duration_seconds, {AGENT} AS agent,
       c.recording_url
{FROM_WHERE}{ORDER}
"""
# The export's columns, formatted in SQL as `iter_calls` formats them in Python.
COPY_COLUMNS = (
    "to_char(c.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')",
    "coalesce(p.label, '')",
    "coalesce(p.number, '')",
    "c.direction",
    "c.from_number",
    "c.to_number",
    CONTACT,
    "c.status",
    "c.duration_seconds",
    f"coalesce({AGENT}, '')",
    "coalesce(c.recording_url, '')",
)
CHECK_SQL = f"""
SELECT count(*), min(started_at), max(started_at), count(*) FILTER (WHERE multiline)
FROM (SELECT c.started_at,
             concat_ws(',', p.label, {CONTACT}, {AGENT}, c.recording_url) ~ '[\\r\\n]' AS multiline
      {FROM_WHERE}) AS rows
"""


def copy_sql(header: list[str]) -> str:
    """The COPY statement, its columns named as the export's header (given by the parent, so
    the child imports psycopg and nothing of the app)."""
    columns = ",\n       ".join(
        f'{expr} AS "{name}"' for expr, name in zip(COPY_COLUMNS, header, strict=True)
    )
    select = f"SELECT {columns}\n{FROM_WHERE}{ORDER}".format(
        org="%(org)s", lo="%(lo)s", hi="%(hi)s"
    )
    return f"COPY ({select}) TO STDOUT WITH (FORMAT csv, HEADER)"


# --- process measurements -------------------------------------------------------------------


def start_measuring(pid: int | str = "self") -> dict[str, Any]:
    """What the process holds now (and held at its peak so far), then a fresh peak."""
    loaded = proc_status(pid)
    was_reset = reset_peak(pid)
    now = proc_status(pid)
    return {
        "hwm_before_reset_kb": loaded.get("VmHWM"),
        "peak_reset": was_reset,
        "rss_before_kb": now.get("VmRSS"),
    }


def end_measuring(before: dict[str, Any], pid: int | str = "self") -> dict[str, Any]:
    end = proc_status(pid)
    return {**before, "vmhwm_kb": end.get("VmHWM"), "rss_end_kb": end.get("VmRSS")}


class CountingSink(io.RawIOBase):
    """A /dev/null that counts bytes and newlines, and keeps the first and last line."""

    def __init__(self) -> None:
        self.bytes = 0
        self.newlines = 0
        self.head = b""
        self.tail = b""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        self.bytes += len(data)
        self.newlines += data.count(b"\n")
        if len(self.head) < 4096:
            self.head += data[: 4096 - len(self.head)]
        self.tail = (self.tail + data)[-4096:]
        return len(data)

    def figures(self) -> dict[str, Any]:
        lines = self.tail.rstrip(b"\r\n").rsplit(b"\n", 1)
        return {
            "bytes": self.bytes,
            "lines": self.newlines,
            "first_line": self.head.split(b"\n", 1)[0].decode("utf-8", "replace"),
            "second_line": (self.head.split(b"\n")[1:2] or [b""])[0].decode("utf-8", "replace"),
            "last_line": lines[-1].decode("utf-8", "replace"),
        }


# --- children: one measured export each -------------------------------------------------------


def _query(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "org": params["org"],
        "lo": datetime.fromisoformat(params["lo"]),
        "hi": datetime.fromisoformat(params["hi"]),
    }


def child_pandas(params: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd
    from sqlalchemy import create_engine, text

    engine = create_engine(params["app_url"])
    with engine.connect() as conn:  # connected before measuring, as the app would be
        conn.execute(text("SELECT 1"))
    sql = text(PANDAS_SQL.format(org=":org", lo=":lo", hi=":hi"))
    query = _query(params)
    sink = CountingSink()
    before = start_measuring()
    started = time.perf_counter()
    frame = pd.read_sql(sql, engine, params=query)
    read = time.perf_counter() - started
    out = io.TextIOWrapper(sink, encoding="utf-8", newline="")
    frame.to_csv(out, index=False)
    out.flush()
    seconds = time.perf_counter() - started
    memory = end_measuring(before)
    figures = sink.figures()
    return {
        "seconds": seconds,
        "read_seconds": read,
        "rows": len(frame),
        "frame_mb": frame.memory_usage(deep=True).sum() / 2**20,
        **figures,
        **memory,
    }


def child_copy(params: dict[str, Any]) -> dict[str, Any]:
    import psycopg

    conn = psycopg.connect(params["libpq_url"])
    conn.execute("SELECT 1")
    sql = copy_sql(params["header"])
    query = _query(params)
    sink = CountingSink()
    before = start_measuring()
    started = time.perf_counter()
    with conn.cursor() as cur, cur.copy(sql, query) as copy:
        for data in copy:
            sink.write(data)
    seconds = time.perf_counter() - started
    memory = end_measuring(before)
    conn.close()
    figures = sink.figures()
    return {"seconds": seconds, "rows": figures["lines"] - 1, **figures, **memory}


CHILDREN = {"pandas": child_pandas, "copy": child_copy}


def child_main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "child" or argv[1] not in CHILDREN:
        print("usage: python -m bench.export_csv child KIND PARAMS_JSON", file=sys.stderr)
        return 2
    emit(CHILDREN[argv[1]](json.loads(argv[2])))
    return 0


def run_child(kind: str, params: dict[str, Any], scratch, workdir: Path) -> dict[str, Any]:
    env = child_env(scratch.app_url, workdir)
    return process.run_child("bench.export_csv", kind, params, env, CHILD_TIMEOUT)


# --- the route: `syncboard serve` and a client ----------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    stat = (entry / "stat").read_text()
                    if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry.name))
        return found


def _syncboard_command() -> list[str]:
    script = Path(sys.executable).with_name("syncboard")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys, cli; sys.exit(cli.main())"]


@contextlib.contextmanager
def served_app(scratch, workdir: Path):
    """`syncboard serve` on a free port; yields (base URL, gunicorn worker pid)."""
    import requests

    port = _free_port()
    log_path = workdir / f"serve-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [*_syncboard_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=child_env(scratch.app_url, workdir),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise BenchError(f"syncboard serve exited {proc.returncode}:\n{_tail(log_path)}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(base + "/healthz", timeout=2).ok:
                    break
            if time.monotonic() > deadline:
                raise BenchError(f"syncboard serve did not answer /healthz:\n{_tail(log_path)}")
            time.sleep(0.2)
        workers = _children_of(proc.pid)
        if len(workers) != 1:
            raise BenchError(f"expected one gunicorn worker under {proc.pid}, found {workers}")
        yield base, workers[0]
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _tail(path: Path, lines: int = 25) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text().strip().splitlines()[-lines:])
    return ""


def measure_route(scratch, workdir: Path, email: str, span: Span) -> dict[str, Any]:
    """Sign in, then download the export through a fresh `syncboard serve`; count it."""
    import requests

    with served_app(scratch, workdir) as (base, worker):
        browser = requests.Session()
        page = browser.get(base + "/login", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        if token is None:
            raise BenchError("no CSRF token on /login")
        signed_in = browser.post(
            base + "/login",
            data={
                "csrf_token": token.group(1),
                "email": email,
                "password": BENCH_PASSWORD,
                "next": "/",
            },
            allow_redirects=False,
            timeout=60,
        )
        if signed_in.status_code not in (302, 303):
            raise BenchError(f"signing in as {email} answered {signed_in.status_code}")
        before = start_measuring(worker)
        sink = CountingSink()
        started = time.perf_counter()
        with browser.get(
            base + "/export/calls.csv",
            params={"from": span.start.isoformat(), "to": span.end.isoformat(), "bom": "1"},
            stream=True,
            timeout=600,
        ) as response:
            if response.status_code != 200:
                raise BenchError(f"the export answered {response.status_code}: {response.text}")
            if not response.headers.get("Content-Type", "").startswith("text/csv"):
                raise BenchError(f"the export is {response.headers.get('Content-Type')}")
            for chunk in response.iter_content(chunk_size=1 << 16):
                sink.write(chunk)
        seconds = time.perf_counter() - started
        memory = end_measuring(before, worker)
        figures = sink.figures()
        return {
            "seconds": seconds,
            "rows": figures["lines"] - 1,
            "transfer": response.headers.get("Transfer-Encoding"),
            **figures,
            **memory,
        }


# --- the data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """Whole UTC days, `end` inclusive (the route's `from`/`to`), and what they hold."""

    target: int
    start: date
    end: date
    calls: int

    @property
    def lo(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def hi(self) -> datetime:
        nxt = self.end + timedelta(days=1)
        return datetime(nxt.year, nxt.month, nxt.day, tzinfo=UTC)


def pick_span(days: list[tuple[date, int]], target: int) -> Span:
    """The run of consecutive days whose calls are closest to `target` (latest on ties)."""
    best: tuple[int, int, int, int] | None = None  # (distance, -end index, start, end)
    for i in range(len(days)):
        total = 0
        for j in range(i, len(days)):
            total += days[j][1]
            candidate = (abs(total - target), -j, i, j)
            if best is None or candidate < best:
                best = candidate
            if total >= target:
                break
    if best is None:
        raise BenchError("the organisation has no calls")
    _, _, i, j = best
    return Span(target, days[i][0], days[j][0], sum(n for _, n in days[i : j + 1]))


def prepare(scratch, sizes: dict, reuse: bool, notes: list[str]):
    """Seed (unless reusing) and return (engine, org id, org slug, org calls, calls per day)."""
    from sqlalchemy import text

    engine, org_id, calls = overview.seed_scratch(scratch, sizes, reuse, notes)
    with engine.connect() as conn:
        slug = conn.execute(
            text("SELECT slug FROM organizations WHERE id = :o"), {"o": org_id}
        ).scalar_one()
        days = [
            (day, n)
            for day, n in conn.execute(
                text(
                    "SELECT (started_at AT TIME ZONE 'UTC')::date, count(*) FROM calls "
                    "WHERE org_id = :o GROUP BY 1 ORDER BY 1"
                ),
                {"o": org_id},
            )
        ]
    return engine, org_id, slug, calls, days


def bench_manager(engine, org_id: int, slug: str) -> str:
    """A manager of the organisation with a known password (created once, reset on reuse)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from models.orgs import Organization, Role, User
    from models.users import add_membership, create_user, set_password

    email = BENCH_EMAIL.format(slug=slug)
    with Session(engine) as s, s.begin():
        user = s.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(s, email, BENCH_PASSWORD, name="Export benchmark")
            add_membership(s, user, s.get(Organization, org_id), Role.MANAGER)
        else:
            set_password(s, user, BENCH_PASSWORD)
    return email


def expected_rows(scratch, org_id: int, span: Span) -> dict[str, Any]:
    """The SQL count of the same filter (the joined query: it also warms the cache)."""
    import psycopg

    sql = CHECK_SQL.format(org="%(org)s", lo="%(lo)s", hi="%(hi)s")
    with psycopg.connect(scratch.libpq_url) as conn:
        count, oldest, newest, multiline = conn.execute(
            sql, {"org": org_id, "lo": span.lo, "hi": span.hi}
        ).fetchone()
    if multiline:
        raise BenchError(f"{multiline} rows hold a line break: counting lines would not work")
    return {"count": count, "oldest": oldest, "newest": newest}


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Row:
    method: str
    span: Span
    rows: int
    seconds: float
    bytes: int
    rss_before_kb: int
    peak_kb: int
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def growth_mb(self) -> float:
        return (self.peak_kb - self.rss_before_kb) / 1024


def check(method: str, result: dict[str, Any], expected: dict[str, Any]) -> None:
    """Header + rows == the SQL count; the route's BOM, header and first/last call times."""
    from models.calls import CALL_EXPORT_HEADER

    count = expected["count"]
    header = ",".join(CALL_EXPORT_HEADER)
    problems = []
    if result["lines"] != count + 1:
        problems.append(f"{result['lines']:,} lines for {count:,} calls (+ header)")
    if method == "route":
        if not result["first_line"].startswith("\ufeff"):
            problems.append("no BOM on the first line")
        if result["first_line"].lstrip("\ufeff").rstrip("\r") != header:
            problems.append(f"header {result['first_line']!r}")
        newest = expected["newest"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        oldest = expected["oldest"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        if count and not result["second_line"].startswith(newest):
            problems.append(f"first row {result['second_line'][:40]!r}, newest call {newest}")
        if count and not result["last_line"].startswith(oldest):
            problems.append(f"last row {result['last_line'][:40]!r}, oldest call {oldest}")
    elif method == "copy" and result["first_line"] != header:
        problems.append(f"header {result['first_line']!r}")
    if problems:
        raise BenchError(f"{SHORT[method]}, {count:,} calls: " + "; ".join(problems))


def measure(scratch, workdir: Path, org_id: int, email: str, span: Span, methods) -> list[Row]:
    from models.calls import CALL_EXPORT_HEADER

    expected = expected_rows(scratch, org_id, span)
    print(
        f"  N≈{span.target:,}: {span.start} to {span.end}, {expected['count']:,} calls",
        file=sys.stderr,
        flush=True,
    )
    params = {
        "org": org_id,
        "lo": span.lo.isoformat(),
        "hi": span.hi.isoformat(),
        "app_url": scratch.app_url,
        "libpq_url": scratch.libpq_url,
        "header": list(CALL_EXPORT_HEADER),
    }
    rows = []
    for method in methods:
        print(f"    {SHORT[method]} ...", file=sys.stderr, flush=True)
        if method == "route":
            result = measure_route(scratch, workdir, email, span)
        else:
            result = run_child(method, params, scratch, workdir)
        check(method, result, expected)
        row = Row(
            method=method,
            span=span,
            rows=result["lines"] - 1,
            seconds=result["seconds"],
            bytes=result["bytes"],
            rss_before_kb=result["rss_before_kb"] or 0,
            peak_kb=max(result["vmhwm_kb"] or 0, result["rss_before_kb"] or 0),
            detail=result,
        )
        rows.append(row)
        print(
            f"      {row.seconds:.2f}s  {row.per_second:,.0f} rows/s  "
            f"RSS before {row.rss_before_kb / 1024:.0f} MB, peak {row.peak_kb / 1024:.0f} MB "
            f"(+{row.growth_mb:.1f})  {row.bytes / 2**20:.0f} MB of CSV, rows checked",
            file=sys.stderr,
            flush=True,
        )
    return rows


# --- report ---------------------------------------------------------------------------------


def _load() -> str:
    """The 1-minute load average (other processes on the machine skew timings)."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def _ordered(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (METHODS.index(r.method), r.span.target))


def table(rows: list[Row]) -> str:
    head = "| method | rows | seconds | rows/s | RSS before MB | peak RSS MB | peak − before MB |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|"]
    for r in _ordered(rows):
        lines.append(
            f"| {LABEL[r.method]} | {r.rows:,} | {r.seconds:.2f} | {r.per_second:,.0f} | "
            f"{r.rss_before_kb / 1024:.0f} | {r.peak_kb / 1024:.0f} | {r.growth_mb:.1f} |"
        )
    return "\n".join(lines)


def verdicts(rows: list[Row]) -> tuple[bool | None, list[str]]:
    """Whether the route's memory is flat across sizes, and one phrase per method."""
    flat = None
    parts = []
    for method in METHODS:
        mine = sorted((r for r in rows if r.method == method), key=lambda r: r.rows)
        if len(mine) < 2:
            continue
        small, large = mine[0], mine[-1]
        grows = large.growth_mb - small.growth_mb
        shape = "flat" if grows <= FLAT_MB else "grows with N"
        if method == "route":
            flat = grows <= FLAT_MB
        parts.append(
            f"{SHORT[method]}: peak RSS {small.peak_kb / 1024:.0f} → {large.peak_kb / 1024:.0f} MB "
            f"from {small.rows:,} to {large.rows:,} rows (peak − before "
            f"{small.growth_mb:.1f} → {large.growth_mb:.1f} MB, {shape})"
        )
    return flat, parts


def summary_line(rows: list[Row]) -> str:
    flat, parts = verdicts(rows)
    if flat is None:
        claim = "not decided (the syncboard route ran at fewer than two sizes)"
    elif flat:
        claim = "met: the syncboard route's memory does not grow with the export"
    else:
        claim = "NOT met: the syncboard route's peak memory grows with the export"
    measured = f" {'; '.join(parts)}." if parts else ""
    return f"**Result** (target: a 1M-row export in flat memory): {claim}.{measured}"


def section(rows: list[Row], machine: str, info: dict, notes: list[str]) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    sizes = ",".join(str(s) for s in info["sizes"])
    spans = sorted({r.span for r in rows}, key=lambda s: s.target)
    csv_mb = {r.span: r.bytes / 2**20 for r in rows if r.method == "route"}
    body = [
        SECTION,
        "",
        f"Measured {when} on: {machine}.",
        "",
        f"Command: `python -m bench export` (sizes {sizes}; one fresh process per method "
        "and size).",
        "",
        f"Data: `seed_demo(orgs={info['orgs']}, calls={info['total']:,}, "
        f"cases={info['cases']:,}, contacts={info['contacts']:,})`: one organisation holding "
        f"all {info['org_calls']:,} calls over {info['days']} days. Each size is a "
        "`from`/`to` range of whole UTC days chosen to hold about N calls: "
        + "; ".join(
            f"≈{s.target:,}: `from={s.start}&to={s.end}`, {s.calls:,} calls"
            + (f", {csv_mb[s]:.0f} MB of CSV" if s in csv_mb else "")
            for s in spans
        )
        + ".",
        "",
        table(rows),
        "",
        summary_line(rows),
        "",
        "How it is measured:",
        "",
        "- **syncboard route** is the product path over real HTTP: `syncboard serve` "
        "(gunicorn, 1 worker, 8 threads), a manager of the organisation signed in through "
        "`/login`, and `GET /export/calls.csv?from=…&to=…&bom=1` downloaded with requests "
        "(the client runs in the benchmark process and is not measured). Inside the worker: "
        "`web/exports.py` → `models.calls.iter_calls` (SQLAlchemy `yield_per=2000`, a "
        "server-side cursor) → `web/csv_export.py:csv_lines` (a chunk every 500 rows), "
        "chunked transfer encoding. A new server is started for each size, so each peak is "
        "that export's own. The worker's memory is read from `/proc/<pid>/status`.",
        "- **pandas naive** is the usual way: `pandas.read_sql` of the same joined query "
        "(calls of the org in the range left joined to number, agent and contact, newest "
        "first: a hand-written equivalent of `models.calls._calls_select`) into a "
        "DataFrame, then `DataFrame.to_csv`; every row is held at once.",
        "- **COPY raw** is `COPY (SELECT the export's columns, formatted in SQL) TO STDOUT "
        "WITH CSV HEADER` through psycopg, streamed to a byte counter: the speed floor, "
        "with nothing in Python memory.",
        "- *seconds* is the export alone (request to last byte for the route; the read and "
        "the write for pandas; the COPY for COPY raw), not process start-up, imports or "
        "sign-in. Output goes to a byte and line counter (the /dev/null of this benchmark).",
        "- *peak RSS* is the measured process's high-water mark (`VmHWM`) during the "
        "export: it is reset with `echo 5 > /proc/<pid>/clear_refs` just before, and *RSS "
        "before* is read right after the reset (app imported and signed in; for the "
        "children, imports done and connected). Without the reset the high-water mark "
        "would keep the 64 MiB argon2 spikes of importing the app (`models.users` hashes a "
        "dummy password at import) and of signing in, and hide what the export does.",
        f"- *flat* means peak − before grows by at most {FLAT_MB} MB from the smallest to "
        "the largest size.",
        "- Checked for every method and size: header + rows equals an SQL count of the same "
        "filter (the joined query); the route's first line starts with the UTF-8 BOM and "
        "carries the export header, and its first and last rows carry the newest and oldest "
        "call time of the range. The benchmark fails on any mismatch.",
        "- The client, the measured process and PostgreSQL share the machine's cores, so "
        "seconds are noisy; memory is the point of this benchmark.",
    ]
    body += [f"- {n}" for n in notes]
    return "\n".join(body) + "\n\n" + END_MARK + "\n"


def write_doc(text: str) -> None:
    write_section(SECTION, text, END_MARK)


# --- entry points -----------------------------------------------------------------------------


def add_arguments(parser) -> None:
    parser.add_argument(
        "--export-sizes",
        type=parse_sizes,
        default=None,
        metavar="N,N,...",
        help="rows to export (default 10000,100000,1000000; quick 5000,50000); more than "
        "the seeded calls seeds that many",
    )
    parser.add_argument(
        "--export-methods",
        default=",".join(METHODS),
        help="comma list of route,pandas,copy (default all three)",
    )
    overview.add_scratch_options(parser, "export")


def run(options) -> int:
    quick = getattr(options, "quick", False)
    seeded = dict(QUICK if quick else FULL)
    targets = options.export_sizes or (QUICK_SIZES if quick else DEFAULT_SIZES)
    seeded["calls"] = max(seeded["calls"], *targets)
    methods = [m.strip() for m in options.export_methods.split(",") if m.strip()]
    unknown = set(methods) - set(METHODS)
    if unknown or not methods:
        raise BenchError(f"unknown method(s) {sorted(unknown)}; known: {', '.join(METHODS)}")
    print(f"export benchmark, sizes {list(targets)}", file=sys.stderr)
    results: list[Row] = []
    notes: list[str] = []
    load_at_start = _load()
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="syncboard-bench-export-"))
    try:
        with overview.scratch_database(options.export_keep_db, options.export_reuse_db) as scratch:
            engine, org_id, slug, org_calls, days = prepare(
                scratch, seeded, bool(options.export_reuse_db), notes
            )
            email = bench_manager(engine, org_id, slug)
            engine.dispose()
            for target in targets:
                span = pick_span(days, target)
                results.extend(measure(scratch, workdir, org_id, email, span, methods))
    finally:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    machine = overview.machine_line()
    if not all(r.detail.get("peak_reset") for r in results):
        notes.append(
            "The high-water mark could not be reset in some runs (`/proc/<pid>/clear_refs` "
            "not writable): their peak includes imports and sign-in."
        )
    notes.append(
        f"The machine was shared: load average {load_at_start} at the start and {_load()} "
        f"at the end; the whole benchmark took {time.perf_counter() - started:.0f} s."
    )
    print(file=sys.stderr)
    print(f"Machine: {machine}")
    print(table(results))
    print(summary_line(results))
    write = getattr(options, "write", not quick) and not quick
    if write:
        info = {
            "sizes": targets,
            "orgs": seeded["orgs"],
            "total": seeded["calls"],
            "cases": seeded["cases"],
            "contacts": seeded["contacts"],
            "org_calls": org_calls,
            "days": len(days),
        }
        if options.export_reuse_db:
            info["total"] = org_calls
        write_doc(section(results, machine, info, notes))
        print(f"wrote {DOC.relative_to(ROOT)} ({SECTION[3:]})", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.export_csv [OPTIONS]`: the same as `python -m bench export [OPTIONS]`."""
    from bench.__main__ import main as run_benchmarks

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["child"]:
        return child_main(argv)
    return run_benchmarks(["export", *argv])


if __name__ == "__main__":
    raise SystemExit(main())
