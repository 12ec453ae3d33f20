"""A seeded PostgreSQL database and the app served by a real gunicorn, for the web benchmarks.

`seeded_database` makes a scratch database, migrates it, seeds demo organisations
(`models.demo_data.seed_demo`) and VACUUM ANALYZEs what it filled, as `seed-demo` does.
`gunicorn_app` serves `bench.variant_app:server` (the app as shipped, or a baseline variant)
with N gthread workers on a free port and stops it afterwards.
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bench import BenchError
from bench.overview import scratch_database
from bench.process import ROOT, child_env

DEMO_PASSWORD = "demo-password"
START_TIMEOUT = 90


@dataclass
class Seeded:
    """The scratch database and the demo accounts in it: [(email, role)]."""

    app_url: str
    name: str
    accounts: list[tuple[str, str]]
    counts: dict[str, int] = field(default_factory=dict)


@contextlib.contextmanager
def seeded_database(
    sizes: dict[str, int], keep: bool = False, reuse: str | None = None
) -> Iterator[Seeded]:
    """A scratch database holding `sizes` of demo data (or `reuse`, seeded before)."""
    from sqlalchemy import text

    from models.db import make_engine
    from models.demo_data import seed_demo
    from models.maintenance import vacuum_analyze
    from models.migrate import upgrade

    with scratch_database(keep, reuse) as scratch:
        engine = make_engine(scratch.app_url)
        counts: dict[str, int] = {}
        try:
            if not reuse:
                upgrade(engine)
                print(f"seeding {sizes} ...", file=sys.stderr, flush=True)
                summary = seed_demo(engine, **sizes, password=DEMO_PASSWORD)
                counts = summary.counts
                vacuum_analyze(engine, list(summary.counts))
            with engine.connect() as conn:
                accounts = [
                    (email, role)
                    for email, role in conn.execute(
                        text(
                            "SELECT u.email, m.role FROM users u JOIN memberships m "
                            "ON m.user_id = u.id ORDER BY u.id"
                        )
                    )
                ]
        finally:
            engine.dispose()
        if not accounts:
            raise BenchError("the seeded database has no demo accounts")
        yield Seeded(scratch.app_url, scratch.name, accounts, counts)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn_app(
    app_url: str, workdir: Path, *, variant: str = "fixed", workers: int = 2, threads: int = 8
) -> Iterator[str]:
    """`gunicorn bench.variant_app:server` on a free port; yields its base URL."""
    import requests

    port = _free_port()
    log_path = workdir / f"gunicorn-{variant}-{port}.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "bench.variant_app:server",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--timeout",
        "120",
        # Longer than a simulated user's pause (0.5-2 s), so an idle keep-alive connection
        # is not closed just as the next request goes out (gunicorn's default is 2 s).
        "--keep-alive",
        "5",
        "--log-level",
        "warning",
        # The server's own time per request (µs), beside what the client measured.
        "--access-logfile",
        str(access_log(workdir)),
        "--access-logformat",
        "%(m)s %(U)s %(s)s %(D)s",
    ]
    env = child_env(app_url, workdir, BENCH_VARIANT=variant, SYNCBOARD_LOGIN_LIMIT="1000/minute")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise BenchError(f"gunicorn exited {proc.returncode}:\n{_tail(log_path)}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(base + "/healthz", timeout=2).ok:
                    break
            if time.monotonic() > deadline:
                raise BenchError(f"gunicorn did not answer /healthz:\n{_tail(log_path)}")
            time.sleep(0.3)
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def precompressed(folder: Path, limit: float = 400) -> int:
    """Wait until the server's background brotli-11 encodings are written; how many."""
    deadline = time.monotonic() + limit
    seen, steady = -1, 0
    while time.monotonic() < deadline:
        files = list(folder.glob("*")) if folder.exists() else []
        done = [f for f in files if not f.name.endswith(".part")]
        if len(done) == seen and len(done) == len(files):
            steady += 1
            if steady >= 4:
                break
        else:
            seen, steady = len(done), 0
        time.sleep(0.5)
    return max(seen, 0)


def warm_up(base: str, email: str, password: str, workdir: Path) -> int:
    """Sign in, fetch the page's static files as brotli and gzip, and wait until the server
    wrote their best encodings (web/performance.py makes them once, in the background,
    after the first visitor): what a server that has been up for a minute looks like."""
    import re

    import requests

    browser = requests.Session()
    page = browser.get(base + "/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if token is None:
        raise BenchError("no sign-in form at /login")
    browser.post(
        base + "/login", data={"csrf_token": token.group(1), "email": email, "password": password}
    )
    html = browser.get(base + "/").text
    urls = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html)
    urls.append("/_dash-component-suites/plotly/package_data/plotly.min.js")
    for url in urls:
        for encoding in ("br", "gzip"):
            browser.get(base + url, headers={"Accept-Encoding": encoding})
    return precompressed(workdir / "instance" / "compressed")


def access_log(workdir: Path) -> Path:
    """Where `gunicorn_app` logs each request as `METHOD PATH STATUS MICROSECONDS`."""
    return workdir / "access.log"


def server_times(log: Path, offset: int = 0) -> dict[str, dict[str, float]]:
    """p50/p95 (ms) and count of the server's own request times in `log` after `offset`:
    callbacks (POST /_dash-update-component) and every request."""
    import statistics

    times: dict[str, list[float]] = {"callbacks": [], "all": []}
    with open(log, "rb") as fh:
        fh.seek(offset)
        for line in fh.read().decode("utf-8", "replace").splitlines():
            parts = line.split()
            if len(parts) != 4 or not parts[3].isdigit():
                continue
            ms = int(parts[3]) / 1000
            times["all"].append(ms)
            if parts[0] == "POST" and parts[1].endswith("_dash-update-component"):
                times["callbacks"].append(ms)
    out = {}
    for key, values in times.items():
        if len(values) >= 2:
            q = statistics.quantiles(values, n=100)
            out[key] = {"count": len(values), "p50": q[49], "p95": q[94]}
        else:
            out[key] = {"count": len(values), "p50": 0.0, "p95": 0.0}
    return out


def _tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text().splitlines()[-lines:])
    return ""


def machine() -> str:
    """One line naming the machine: CPU model, cores, memory, OS, Python, PostgreSQL."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError), open("/proc/meminfo") as fh:
        kb = int(fh.readline().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    pg = ""
    with contextlib.suppress(Exception):
        import psycopg

        from bench.overview import PG_ADMIN_URL

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            pg = ", PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0].split()[0]
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}{pg}; {date.today().isoformat()}"
    )
