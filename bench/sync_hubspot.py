"""Sync benchmark: N HubSpot contacts into PostgreSQL, syncboard's engine against dlt's rest_api.

For each size N, three measured runs, each in a fresh Python process (so its peak RSS is
its own), each against its own fake HubSpot (`bench.fake_hubspot_lazy`, in yet another
process), all into one scratch PostgreSQL database:

- `syncboard`: the real engine, `workers.engine.execute_run` on a `hubspot` connection,
  stream `contacts`, full read (100 per page, default batch of 500 per transaction);
- `dlt rest_api`: `dlt.sources.rest_api` with a cursor paginator on `paging.next.after`,
  `data_selector: results` and bearer auth, loaded by a dlt pipeline into its own schema;
- `http read only`: the same pages fetched and parsed with requests and nothing else, a
  reference for how fast the fake can serve on this machine (the ceiling for both tools).

Seconds are the wall time of the load call only (`execute_run(...)`, `pipeline.run(...)`),
not the interpreter start or imports. Peak RSS is the process's VmHWM at the end; it is
reset just before the load (`/proc/self/clear_refs`), since importing the app hashes a
dummy password with argon2 (a 64 MiB spike) that would otherwise hide the load's own
peak. The RSS just before the load is reported too. Every run is checked
afterwards by counting the rows in PostgreSQL (N rows, N distinct ids, first and last
record spot-checked); a run that did not load exactly N rows fails the benchmark.

The child processes are this module: `python -m bench.sync_hubspot child KIND PARAMS_JSON`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import BenchError, process
from bench.doc import DOC, end_mark, write_section
from bench.process import child_env, emit, proc_status, reset_peak

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Sync: HubSpot contacts into PostgreSQL"
END_MARK = end_mark("bench/sync_hubspot.py")
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
DLT_ROLE = os.environ.get("BENCH_DLT_ROLE", "bench_dlt")
DLT_PASSWORD = os.environ.get("BENCH_DLT_PASSWORD", "bench")
TOKEN = "pat-bench"
DEFAULT_SIZES = (10_000, 100_000)
QUICK_SIZES = (2_000,)
PROPERTIES = "firstname,lastname,email,phone,company,lifecyclestage,lastmodifieddate"
CHILD_TIMEOUT = 4 * 3600

TOOLS = ("syncboard", "dlt", "http")
TOOL_LABEL = {
    "syncboard": "syncboard",
    "dlt": "dlt rest_api",
    "http": "http read only (reference)",
}


# --- process measurements ------------------------------------------------------------------


def memory_figures(before: dict[str, int]) -> dict[str, Any]:
    import resource

    end = proc_status()
    return {
        "rss_before_kb": before.get("VmRSS"),
        "rss_end_kb": end.get("VmRSS"),
        "vmhwm_kb": end.get("VmHWM"),
        "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "children_maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }


# --- children: one measured load each -------------------------------------------------------


def child_migrate(params: dict[str, Any]) -> dict[str, Any]:
    from models.db import get_engine
    from models.migrate import upgrade

    upgrade(get_engine())
    return {"ok": True}


def child_syncboard(params: dict[str, Any]) -> dict[str, Any]:
    from models.connections import create_connection
    from models.db import session_scope
    from models.sync import SyncRun
    from models.sync_options import SyncOptions
    from models.users import create_org
    from workers.engine import execute_run
    from workers.service import create_run

    size = params["size"]
    with session_scope() as s:
        org = create_org(s, f"bench {size} {secrets.token_hex(3)}")
        conn = create_connection(
            s,
            org_id=org.id,
            connector="hubspot",
            name="hubspot bench",
            base_url=params["url"],
            credentials={"token": TOKEN},
        )
        s.flush()
        s.expunge(conn)
        org_id = org.id
    run = create_run(conn, "contacts", SyncOptions(batch_size=params["batch_size"]), "cli", None)

    profiler = None
    if params.get("profile_dir"):
        import cProfile

        profiler = cProfile.Profile()
    if params.get("tracemalloc"):
        import tracemalloc

        tracemalloc.start(25)
    if params.get("time_limit"):
        _cancel_after(run.id, params["time_limit"])
    reset_peak()
    before = proc_status()
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    status = execute_run(run.id)
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - started
    memory = memory_figures(before)
    extra: dict[str, Any] = {}
    if profiler is not None:
        extra["profile"] = _dump_profile(profiler, Path(params["profile_dir"]), f"syncboard-{size}")
    if params.get("tracemalloc"):
        extra["tracemalloc"] = _tracemalloc_top()
    with session_scope() as s:
        done = s.get(SyncRun, run.id)
        figures = {
            "status": status,
            "processed": done.processed,
            "created": done.created,
            "failed": done.failed,
            "error": done.error,
            "run_stats": done.stats,
        }
    return {"org_id": org_id, "seconds": seconds, **figures, **memory, **extra}


def _cancel_after(run_id: int, seconds: float) -> None:
    """Ask the run to stop (honoured at the next batch boundary) after `seconds`."""
    import threading

    from sqlalchemy import update

    from models.db import session_scope
    from models.sync import SyncRun

    def stop() -> None:
        with session_scope() as s:
            s.execute(update(SyncRun).where(SyncRun.id == run_id).values(cancel_requested=True))

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()


def _dlt_source(url: str, disposition: str):
    from dlt.sources.rest_api import rest_api_source

    resource: dict[str, Any] = {
        "name": "contacts",
        "write_disposition": disposition,
        "endpoint": {
            "path": "crm/v3/objects/contacts",
            "params": {"limit": 100, "properties": PROPERTIES, "archived": "false"},
            "data_selector": "results",
        },
    }
    if disposition == "merge":
        resource["primary_key"] = "id"
    return rest_api_source(
        {
            "client": {
                "base_url": url.rstrip("/") + "/",
                "auth": {"type": "bearer", "token": TOKEN},
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "paging.next.after",
                    "cursor_param": "after",
                },
            },
            "resources": [resource],
        }
    )


def child_dlt(params: dict[str, Any]) -> dict[str, Any]:
    import dlt

    pipeline = dlt.pipeline(
        pipeline_name=f"bench_hubspot_{params['size']}",
        pipelines_dir=params["workdir"],
        destination=dlt.destinations.postgres(credentials=params["dlt_url"]),
        dataset_name=params["schema"],
    )
    source = _dlt_source(params["url"], params["disposition"])
    reset_peak()
    before = proc_status()
    started = time.perf_counter()
    info = pipeline.run(source)
    seconds = time.perf_counter() - started
    memory = memory_figures(before)
    info.raise_on_failed_jobs()
    normalized = pipeline.last_trace.last_normalize_info
    return {
        "seconds": seconds,
        "dlt_version": dlt.__version__,
        "row_counts": dict(normalized.row_counts) if normalized else {},
        "loads": len(info.loads_ids),
        **memory,
    }


def child_http(params: dict[str, Any]) -> dict[str, Any]:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    url = params["url"].rstrip("/") + "/crm/v3/objects/contacts"
    query: dict[str, Any] = {"limit": 100, "properties": PROPERTIES, "archived": "false"}
    reset_peak()
    before = proc_status()
    started = time.perf_counter()
    records = pages = 0
    while True:
        response = session.get(url, params=query, timeout=30)
        response.raise_for_status()
        body = response.json()
        records += len(body["results"])
        pages += 1
        after = (body.get("paging") or {}).get("next", {}).get("after")
        if not after:
            break
        query["after"] = after
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "records": records, "pages": pages, **memory_figures(before)}


def _dump_profile(profiler, directory: Path, stem: str) -> dict[str, str]:
    import io
    import pstats

    directory.mkdir(parents=True, exist_ok=True)
    raw = directory / f"{stem}.prof"
    profiler.dump_stats(str(raw))
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(35)
    summary = directory / f"{stem}.txt"
    summary.write_text(text.getvalue())
    return {"prof": str(raw), "summary": str(summary)}


def _tracemalloc_top(limit: int = 15) -> list[str]:
    import tracemalloc

    snapshot = tracemalloc.take_snapshot()
    current, peak = tracemalloc.get_traced_memory()
    lines = [f"traced current={current / 2**20:.1f} MB peak={peak / 2**20:.1f} MB"]
    for stat in snapshot.statistics("lineno")[:limit]:
        lines.append(str(stat))
    return lines


CHILDREN = {
    "migrate": child_migrate,
    "syncboard": child_syncboard,
    "dlt": child_dlt,
    "http": child_http,
}


def child_main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "child" or argv[1] not in CHILDREN:
        print("usage: python -m bench.sync_hubspot child KIND PARAMS_JSON", file=sys.stderr)
        return 2
    emit(CHILDREN[argv[1]](json.loads(argv[2])))
    return 0


# --- the parent: database, fakes, children, checks ------------------------------------------


@dataclass
class Scratch:
    name: str
    app_url: str  # SQLAlchemy URL for syncboard
    check_url: str  # libpq URL (superuser) for counting
    dlt_url: str  # libpq URL with the password dlt requires
    workdir: Path
    created_role: bool = False


def _admin():
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


@contextlib.contextmanager
def scratch_database(keep: bool = False):
    """A new database (and the dlt role when missing); dropped at the end unless keep."""
    try:
        admin = _admin()
    except Exception as exc:  # noqa: BLE001
        raise BenchError(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}") from exc
    name = f"syncboard_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    created_role = False
    if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (DLT_ROLE,)).fetchone() is None:
        admin.execute(f"CREATE ROLE \"{DLT_ROLE}\" LOGIN PASSWORD '{DLT_PASSWORD}'")
        created_role = True
    admin.execute(f'GRANT ALL ON DATABASE "{name}" TO "{DLT_ROLE}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    hostpart = base.split("@", 1)[1]
    workdir = Path(tempfile.mkdtemp(prefix="syncboard-bench-"))
    scratch = Scratch(
        name=name,
        app_url=f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}",
        check_url=f"{base}/{name}",
        dlt_url=f"postgresql://{DLT_ROLE}:{DLT_PASSWORD}@{hostpart}/{name}",
        workdir=workdir,
        created_role=created_role,
    )
    try:
        yield scratch
    finally:
        if keep:
            print(f'kept database {name} (drop it with: DROP DATABASE "{name}")', file=sys.stderr)
        else:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if created_role:
                with contextlib.suppress(Exception):
                    admin.execute(f'DROP ROLE IF EXISTS "{DLT_ROLE}"')
        admin.close()
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def fake_hubspot(size: int):
    """The lazy fake in its own process; yields its base URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.fake_hubspot_lazy",
            "--contacts",
            str(size),
            "--token",
            TOKEN,
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        if not line:
            raise BenchError("the fake HubSpot did not start")
        yield json.loads(line)["url"]
    finally:
        with contextlib.suppress(Exception):
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(timeout=10)


def run_child(kind: str, params: dict[str, Any], scratch: Scratch) -> dict[str, Any]:
    env = child_env(
        scratch.app_url,
        scratch.workdir,
        DLT_DATA_DIR=str(scratch.workdir / "dlt"),
        RUNTIME__DLTHUB_TELEMETRY="false",
        RUNTIME__LOG_LEVEL="WARNING",
    )
    return process.run_child("bench.sync_hubspot", kind, params, env, CHILD_TIMEOUT)


def _checkpoint(scratch: Scratch) -> None:
    """Flush dirty pages before each measured run so one run's writes don't bill the next."""
    with _admin() as admin:
        admin.execute("CHECKPOINT")


def verify_syncboard(scratch: Scratch, org_id: int, size: int) -> int:
    import psycopg

    with psycopg.connect(scratch.check_url) as db:
        rows, distinct = db.execute(
            "SELECT count(*), count(DISTINCT external_id) FROM contacts"
            " WHERE org_id = %s AND source = 'hubspot'",
            (org_id,),
        ).fetchone()
        ends = db.execute(
            "SELECT external_id, email FROM contacts WHERE org_id = %s AND external_id = ANY(%s)"
            " ORDER BY external_id",
            (org_id, [str(1000), str(1000 + size - 1)]),
        ).fetchall()
    _check("syncboard", size, rows, distinct, ends)
    return rows


def verify_dlt(scratch: Scratch, schema: str, size: int) -> int:
    import psycopg
    from psycopg import sql

    table = sql.Identifier(schema, "contacts")
    with psycopg.connect(scratch.check_url) as db:
        rows, distinct = db.execute(
            sql.SQL("SELECT count(*), count(DISTINCT id) FROM {}").format(table)
        ).fetchone()
        ends = db.execute(
            sql.SQL("SELECT id, properties__email FROM {} WHERE id = ANY(%s) ORDER BY id").format(
                table
            ),
            ([str(1000), str(1000 + size - 1)],),
        ).fetchall()
    _check("dlt", size, rows, distinct, ends)
    return rows


def _check(tool: str, size: int, rows: int, distinct: int, ends: list[tuple]) -> None:
    expected = sorted(
        [("1000", "person0@example.com"), (str(1000 + size - 1), f"person{size - 1}@example.com")]
    )
    got = sorted((str(a), b) for a, b in ends)
    if rows != size or distinct != size or got != expected:
        raise BenchError(
            f"{tool} loaded {rows} rows ({distinct} distinct ids) for N={size}; "
            f"first/last records {got} (expected {expected})"
        )


def cleanup_size(scratch: Scratch, org_id: int | None, schema: str) -> None:
    """Leave the next size an empty contacts table and no dlt schema (same start for all)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(scratch.check_url, autocommit=True) as db:
        if org_id is not None:
            db.execute("DELETE FROM contacts WHERE org_id = %s", (org_id,))
            db.execute("VACUUM contacts")
        db.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        db.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema + "_staging"))
        )


@dataclass
class Row:
    size: int
    tool: str
    seconds: float
    rss_peak_kb: int
    rss_before_kb: int
    rows: int | None  # rows counted in PostgreSQL afterwards (None: nothing stored)
    records: int  # records the run moved (N, or fewer when stopped at --time-limit)
    stopped: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def measure_size(scratch: Scratch, size: int, options) -> list[Row]:
    rows: list[Row] = []
    schema = f"dlt_hubspot_{size}"
    org_id = None
    try:
        for tool in options.tools:
            _checkpoint(scratch)
            with fake_hubspot(size) as url:
                params: dict[str, Any] = {"size": size, "url": url}
                if tool == "syncboard":
                    params |= {
                        "batch_size": options.batch_size,
                        "time_limit": options.time_limit,
                        "profile_dir": str(options.profile_dir) if options.profile_dir else None,
                        "tracemalloc": options.tracemalloc,
                    }
                elif tool == "dlt":
                    params |= {
                        "dlt_url": scratch.dlt_url,
                        "schema": schema,
                        "workdir": str(scratch.workdir / "pipelines"),
                        "disposition": options.dlt_write_disposition,
                    }
                print(f"  N={size:,} {TOOL_LABEL[tool]} ...", file=sys.stderr, flush=True)
                result = run_child(tool, params, scratch)
            stopped = False
            if tool == "syncboard":
                org_id = result["org_id"]
                stopped = result["status"] == "cancelled" and bool(options.time_limit)
                if result["status"] != "success" and not stopped:
                    raise BenchError(f"syncboard run ended {result['status']}: {result['error']}")
                expected = result["created"] if stopped else size
                if stopped and result["created"] != result["processed"]:
                    raise BenchError(
                        f"syncboard stopped with {result['processed']} processed but "
                        f"{result['created']} created"
                    )
                loaded = verify_syncboard(scratch, org_id, expected)
                records = loaded
            elif tool == "dlt":
                loaded = verify_dlt(scratch, schema, size)
                records = loaded
            else:
                if result["records"] != size:
                    raise BenchError(f"http read {result['records']} records for N={size}")
                loaded = None
                records = size
            row = Row(
                size=size,
                tool=tool,
                seconds=result["seconds"],
                rss_peak_kb=result["vmhwm_kb"] or result["ru_maxrss_kb"],
                rss_before_kb=result["rss_before_kb"] or 0,
                rows=loaded,
                records=records,
                stopped=stopped,
                detail=result,
            )
            rows.append(row)
            print(
                f"    {row.seconds:.2f}s  {row.per_second:,.0f} rec/s  "
                f"peak RSS {row.rss_peak_kb / 1024:.0f} MB"
                + (f"  rows checked: {loaded:,}" if loaded is not None else ""),
                file=sys.stderr,
                flush=True,
            )
    finally:
        if not options.keep_db:
            cleanup_size(scratch, org_id, schema)
    return rows


# --- report -----------------------------------------------------------------------------------


def machine_line(scratch: Scratch | None = None) -> str:
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
    dlt_version = "?"
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        dlt_version = version("dlt")
    return (
        f"{cpu}, {os.cpu_count()} cores, {ram}, Python {platform.python_version()}, {pg}, "
        f"dlt {dlt_version}, {platform.system()} {platform.release()}"
    )


def table(rows: list[Row]) -> str:
    head = "| size | tool | seconds | records/s | peak RSS MB | RSS before load MB | rows checked |"
    lines = [head, "|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r.size:,} | {TOOL_LABEL[r.tool]} | {r.seconds:.2f} | {r.per_second:,.0f} | "
            f"{r.rss_peak_kb / 1024:.0f} | {r.rss_before_kb / 1024:.0f} | "
            + (f"{r.rows:,}" if r.rows is not None else "—")
            + (" (stopped at time limit)" if r.stopped else "")
            + " |"
        )
    return "\n".join(lines)


def section(rows: list[Row], machine: str, options, notes: list[str]) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    sizes = ",".join(str(s) for s in options.sizes)
    body = [
        SECTION,
        "",
        f"Measured {when} on: {machine}.",
        "",
        f"Command: `python -m bench sync --sizes {sizes}"
        + (f" --time-limit {options.time_limit:g}" if options.time_limit else "")
        + "` "
        f"(syncboard batch size {options.batch_size}, dlt write disposition "
        f"`{options.dlt_write_disposition}`).",
        "",
        table(rows),
        "",
        "How it is measured:",
        "",
        "- The source is a fake HubSpot CRM v3 API (`bench/fake_hubspot_lazy.py`: real HTTP on "
        "127.0.0.1, 100 contacts per page, `paging.next.after` cursor, bearer token) running in "
        "its own process, a new one per measured run.",
        "- **syncboard**: the real sync engine (`workers.engine.execute_run`) on a `hubspot` "
        "connection, stream `contacts`, full first sync; per contact it maps the columns, keeps "
        "the raw JSON, and upserts batches (one transaction per batch) keyed on "
        "(org, source, external_id).",
        "- **dlt rest_api**: `dlt.sources.rest_api` with a `cursor` paginator "
        "(`cursor_path: paging.next.after`, `cursor_param: after`), `data_selector: results`, "
        "bearer auth, run by a dlt pipeline (extract, normalize, load, default settings) into "
        f"its own schema of the same database, write disposition `{options.dlt_write_disposition}`.",
        "- **http read only**: the same pages fetched with `requests` and parsed, nothing "
        "stored: how fast the fake serves on this machine, the ceiling for both tools.",
        "- Each measured run is a fresh Python process. *seconds* is the wall time of the load "
        "call only (`execute_run`, `pipeline.run`), not interpreter start-up or imports. "
        "*peak RSS* is that process's high-water mark (`VmHWM`) at the end, reset just before "
        "the call (`echo 5 > /proc/self/clear_refs`: importing the app hashes a dummy password "
        "with argon2, a 64 MiB spike that would otherwise stand in for the peak); *RSS before "
        "load* is its RSS just before the call, so the difference is what the load itself held "
        "at its peak.",
        "- Checked after each run: the table holds exactly N rows with N distinct ids, and the "
        "first and last contacts carry the expected e-mail; the benchmark fails otherwise. "
        "A `CHECKPOINT` is issued before each run; tables are emptied between sizes.",
        "- The fake, the measured process and PostgreSQL share the machine's cores.",
    ]
    for r in rows:
        if r.stopped:
            notes.append(
                f"syncboard at N={r.size:,} was stopped by `--time-limit {options.time_limit:g}` "
                f"after {r.seconds:.0f} s with {r.records:,} contacts loaded (counted and checked); "
                "its records/s is over that part only."
            )
    for note in notes:
        body.append(f"- {note}")
    return "\n".join(body) + "\n\n" + END_MARK + "\n"


def write_doc(text: str) -> None:
    write_section(SECTION, text, END_MARK)


# --- entry point ------------------------------------------------------------------------------


def add_arguments(parser) -> None:
    parser.add_argument(
        "--batch-size",
        type=int,
        default=500,
        help="syncboard records per transaction (default 500, the engine's default)",
    )
    parser.add_argument(
        "--tools",
        default=",".join(TOOLS),
        help="comma list of syncboard,dlt,http (default all three)",
    )
    parser.add_argument(
        "--dlt-write-disposition",
        choices=("append", "merge", "replace"),
        default="append",
        help="dlt write disposition (default append, what rest_api does unless told)",
    )
    parser.add_argument(
        "--profile-dir",
        type=Path,
        default=None,
        help="run the syncboard load under cProfile; write .prof and a text summary here",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="trace allocations in the syncboard load and print the top sites",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop each syncboard run after this long (a cancel, honoured at the next batch); "
        "the rows it committed are checked and its rate reported",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the scratch database")


def run(options) -> int:
    options = argparse.Namespace(**vars(options))  # the sizes set here stay this benchmark's
    options.sizes = options.sizes or (QUICK_SIZES if options.quick else DEFAULT_SIZES)
    options.tools = [t.strip() for t in options.tools.split(",") if t.strip()]
    unknown = set(options.tools) - set(TOOLS)
    if unknown:
        raise BenchError(f"unknown tool(s) {sorted(unknown)}; known: {', '.join(TOOLS)}")
    if "dlt" in options.tools:
        try:
            import dlt  # noqa: F401
        except ImportError as exc:
            raise BenchError(
                "dlt is not installed: pip install -e '.[bench]' (dlt[postgres])"
            ) from exc
    print(f"sync benchmark, sizes {list(options.sizes)}", file=sys.stderr)
    results: list[Row] = []
    notes: list[str] = []
    started = time.perf_counter()
    with scratch_database(keep=options.keep_db) as scratch:
        run_child("migrate", {}, scratch)
        machine = machine_line(scratch)
        for size in options.sizes:
            results.extend(measure_size(scratch, size, options))
    print(file=sys.stderr)
    print(f"Machine: {machine}")
    print(table(results))
    _print_details(results)
    print(f"(whole benchmark: {time.perf_counter() - started:.0f}s)", file=sys.stderr)
    if options.write:
        write_doc(section(results, machine, options, notes))
        print(f"wrote {DOC.relative_to(ROOT)} ({SECTION[3:]})", file=sys.stderr)
    return 0


def _print_details(rows: list[Row]) -> None:
    for r in rows:
        d = r.detail
        if r.tool == "syncboard":
            stats = d.get("run_stats") or {}
            print(
                f"  syncboard N={r.size:,}: status={d['status']} processed={d['processed']:,} "
                f"created={d['created']:,} pages={stats.get('pages')} "
                f"http_seconds={stats.get('http_seconds')}"
            )
            if d.get("profile"):
                print(f"    profile: {d['profile']['summary']}")
            for line in d.get("tracemalloc") or []:
                print(f"    {line}")
        elif r.tool == "dlt":
            print(f"  dlt N={r.size:,}: dlt {d['dlt_version']} normalized {d['row_counts']}")


if __name__ == "__main__":
    raise SystemExit(child_main(sys.argv[1:]))
