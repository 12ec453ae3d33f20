"""Load benchmark: signed-in users of every role clicking through the app, on 2 gunicorn workers.

A scratch PostgreSQL database gets demo data (`--load-calls`, default 200,000 calls in 2
organisations, VACUUM ANALYZEd as `seed-demo` leaves it). The app runs under a real gunicorn
(`bench.variant_app:server`, 2 gthread workers, 8 threads each). locust, as a library and
headless (`python -m bench.load child ...`, one process per user level), signs users in
through the /login form — org admins, managers and agents of both organisations, round robin
— and each user then behaves like the browser does:

- **full page load** (on arrival, and now and then a reload): the page's HTML,
  `/_dash-layout`, `/_dash-dependencies`, and the page's scripts and stylesheets as a browser
  cache would ask for them: everything on the first load; later only what its cache headers
  say to revalidate (a conditional GET with the ETag) — so versioned, immutable files cost
  nothing, and `no-cache` ones cost one 304 each;
- **moving between pages** (the sidebar links the shell shows that user): the page router's
  callback, then every server callback Dash's renderer fires for the new layout — read from
  `/_dash-dependencies`, inputs and states taken from the returned layout, outputs that
  add components or change inputs followed for two more rounds, as the renderer chains them;
- **refresh**: the current page's callbacks again (a filter change, a poll).

Each user level (`--load-users`, default 10,25,50) runs `--load-seconds` (default 40) after
all users signed in. The same run measures two variants of the app, both served at once
on the same database and taking turns at each level: `naive` (issue 11's speed fixes taken out again: see
`bench/variant_app.py`) and `fixed` (the app as shipped). The table per request type gives
count, failures, p50, p95 and requests/s; the targets are p95 under 300 ms and no failures
at 50 users.

Run: `python -m bench load` (about 6 minutes); `--quick` runs 5 users for 10 s, writes nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import parse_sizes
from bench.doc import end_mark, write_section
from bench.process import ROOT, child_env, emit, run_child

SECTION = "## Load: signed-in users on 2 gunicorn workers"
MARK = end_mark("bench/load.py")
SIZES = {"orgs": 2, "calls": 200_000, "cases": 5_000, "contacts": 5_000}
QUICK_SIZES = {"orgs": 2, "calls": 20_000, "cases": 500, "contacts": 500}
VARIANTS = ("naive", "fixed")
TARGET_P95_MS = 300
ROLES = ("org_admin", "manager", "agent")


# --- what the renderer would send ------------------------------------------------------------


def components(tree: Any) -> dict[str, tuple[str, dict]]:
    """Every component with an id in a Dash JSON tree: {id text: (type, props)}."""
    found: dict[str, tuple[str, dict]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and "type" in node:
                if "id" in props:
                    found[id_text(props["id"])] = (node["type"], props)
                for value in props.values():
                    walk(value)

    walk(tree)
    return found


def id_text(cid: Any) -> str:
    if isinstance(cid, dict):
        return json.dumps(cid, sort_keys=True, separators=(",", ":"))
    return str(cid)


def _is_pattern(cid: str) -> bool:
    return cid.startswith("{")


def _pattern_matches(pattern: str, concrete: str) -> bool:
    """An ALL pattern id against a concrete dict id (both as id text)."""
    if not _is_pattern(concrete):
        return False
    want, have = json.loads(pattern), json.loads(concrete)
    if set(want) != set(have):
        return False
    return all(v == ["ALL"] or have[k] == v for k, v in want.items())


class Callbacks:
    """The server callbacks of /_dash-dependencies, and the bodies the renderer would POST."""

    def __init__(self, dependencies: list[dict]):
        self.specs = []
        for spec in dependencies:
            if spec.get("clientside_function"):
                continue
            ids = [d["id"] for d in spec["inputs"] + spec["state"]]
            ids += [part.rsplit(".", 1)[0] for part in _output_parts(spec["output"])]
            if any(("MATCH" in i or "ALLSMALLER" in i) for i in ids if _is_pattern(i)):
                continue  # per-item callbacks: the benchmark's pages fire them rarely
            self.specs.append(spec)

    def to_fire(
        self, layout: dict, new: set[str], changed: set[str], done: set[str]
    ) -> list[tuple[dict, list[str]]]:
        """(spec, changedPropIds) of the callbacks the renderer fires next."""
        out = []
        for spec in self.specs:
            if spec["output"] in done or not self._outputs_present(spec, layout):
                continue
            inputs = [f"{d['id']}.{d['property']}" for d in spec["inputs"]]
            triggered = [i for i in inputs if i in changed]
            if triggered:
                out.append((spec, triggered))
                continue
            if spec.get("prevent_initial_call"):
                continue
            if any(self._present(d["id"], new) for d in spec["inputs"]) and all(
                self._present(d["id"], layout) for d in spec["inputs"]
            ):
                out.append((spec, []))
        return out

    @staticmethod
    def _present(cid: str, where) -> bool:
        if _is_pattern(cid):
            return any(_pattern_matches(cid, c) for c in where)
        return cid in where

    def _outputs_present(self, spec: dict, layout: dict) -> bool:
        return all(
            _is_pattern(part.rsplit(".", 1)[0]) or part.rsplit(".", 1)[0] in layout
            for part in _output_parts(spec["output"])
        )

    @staticmethod
    def body(spec: dict, layout: dict, changed: list[str], location: dict) -> dict:
        def value(cid: str, prop: str) -> Any:
            kind, props = layout.get(cid, ("", {}))
            if kind == "Location" and prop in location:
                return props.get(prop, location[prop])
            return props.get(prop)

        def items(deps: list[dict]) -> list:
            out: list = []
            for d in deps:
                if _is_pattern(d["id"]):
                    out.append(
                        [
                            {
                                "id": json.loads(c),
                                "property": d["property"],
                                "value": value(c, d["property"]),
                            }
                            for c in layout
                            if _pattern_matches(d["id"], c)
                        ]
                    )
                else:
                    out.append(
                        {
                            "id": d["id"],
                            "property": d["property"],
                            "value": value(d["id"], d["property"]),
                        }
                    )
            return out

        outputs: list = []
        for part in _output_parts(spec["output"]):
            cid, prop = part.rsplit(".", 1)
            if _is_pattern(cid):
                outputs.append(
                    [
                        {"id": json.loads(c), "property": prop}
                        for c in layout
                        if _pattern_matches(cid, c)
                    ]
                )
            else:
                outputs.append({"id": cid, "property": prop})
        multi = spec["output"].startswith("..")
        return {
            "output": spec["output"],
            "outputs": outputs if multi else outputs[0],
            "inputs": items(spec["inputs"]),
            "state": items(spec["state"]),
            "changedPropIds": changed,
        }


def _output_parts(output: str) -> list[str]:
    if output.startswith(".."):
        return output[2:-2].split("...")
    return [output]


def callback_name(spec: dict) -> str:
    first = _output_parts(spec["output"])[0]
    cid, prop = first.rsplit(".", 1)
    if _is_pattern(cid):
        cid = json.loads(cid).get("type", "pattern")
    more = len(_output_parts(spec["output"])) - 1
    return f"cb {re.sub(r'@[0-9a-f]+$', '', cid)}.{prop.split('@')[0]}" + (
        f" +{more}" if more else ""
    )


def apply_response(layout: dict, answer: dict) -> tuple[set[str], set[str]]:
    """Write a callback's answer into the layout; (new component ids, changed id.prop)."""
    new: set[str] = set()
    changed: set[str] = set()
    for cid, props in (answer.get("response") or {}).items():
        kind, current = layout.get(cid, ("", {}))
        current = dict(current)
        for prop, value in props.items():
            current[prop] = value
            changed.add(f"{cid}.{prop}")
            if prop == "children" or isinstance(value, dict | list):
                added = components(value)
                layout.update(added)
                new.update(added)
        layout[cid] = (kind, current)
    return new, changed


# --- the locust side (a child process: locust patches the standard library with gevent) ------


def child_main(argv: list[str]) -> int:
    if argv[0] != "load":
        raise SystemExit(f"unknown child {argv[0]!r}")
    params = json.loads(argv[1])
    emit(_run_locust(params))
    return 0


def _run_locust(params: dict) -> dict:
    import gevent
    from locust import between, events, task
    from locust.contrib.fasthttp import FastHttpUser
    from locust.env import Environment

    accounts = params["accounts"]
    counter = iter(range(10**9))
    ready: list[int] = []  # users past sign-in and their first page load
    static_re = re.compile(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"')

    class AppUser(FastHttpUser):
        host = params["base"]
        wait_time = between(0.5, 2.0)

        def on_start(self) -> None:
            email, _role = accounts[next(counter) % len(accounts)]
            self.cache: dict[str, tuple[str | None, str]] = {}
            self.path = "/"
            page = self.client.get("/login", name="GET /login").text or ""
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            if not token:
                raise RuntimeError("no sign-in form")
            with self.client.post(
                "/login",
                data={"csrf_token": token.group(1), "email": email, "password": params["password"]},
                name="POST /login",
                allow_redirects=False,
                catch_response=True,
            ) as answer:
                if answer.status_code != 302:
                    answer.failure(f"sign-in answered {answer.status_code}")
                    raise RuntimeError("sign-in failed")
            self.full_load("/")
            ready.append(1)

        def csrf(self) -> dict:
            for cookie in self.client.cookiejar:
                if cookie.name == "_csrf_token":
                    return {"X-CSRFToken": cookie.value}
            return {}

        def full_load(self, path: str) -> None:
            html = self.client.get(path, name="page HTML").text or ""
            for url in static_re.findall(html):
                self.static(url)
            shell = self.client.get("/_dash-layout", name="GET /_dash-layout").json()
            self.callbacks = Callbacks(
                self.client.get("/_dash-dependencies", name="GET /_dash-dependencies").json()
            )
            self.shell = components(shell)
            self.pages = [
                props["href"]
                for cid, (kind, props) in self.shell.items()
                if cid.startswith("nav-") and props.get("href")
            ] or ["/"]
            self.visit(path)

        def static(self, url: str) -> None:
            """One static URL as a browser cache treats it."""
            if url in self.cache:
                etag, control = self.cache[url]
                if "max-age" in control and "no-cache" not in control:
                    return  # fresh in the cache: no request at all
                headers = {"If-None-Match": etag} if etag else {}
                self.client.get(url, headers=headers, name="static (revalidate)")
                return
            answer = self.client.get(url, name="static (first load)")
            self.cache[url] = (answer.headers.get("ETag"), answer.headers.get("Cache-Control", ""))

        def visit(self, path: str) -> None:
            self.path = path
            self.layout = dict(self.shell)
            self.fire_round(new=set(), changed={"_pages_location.pathname"})

        def fire_round(self, new: set[str], changed: set[str]) -> None:
            location = {
                "pathname": self.path,
                "search": "",
                "hash": "",
                "href": params["base"] + self.path,
            }
            self.layout["_pages_location"] = ("Location", {"pathname": self.path, "search": ""})
            done: set[str] = set()
            for _round in range(3):
                fire = self.callbacks.to_fire(self.layout, new, changed, done)
                if not fire:
                    return
                new, changed = set(), set()
                for spec, triggered in fire:
                    done.add(spec["output"])
                    body = Callbacks.body(spec, self.layout, triggered, location)
                    name = (
                        f"router {self.path}"
                        if spec["output"].startswith(".._pages_content")
                        else callback_name(spec)
                    )
                    with self.client.post(
                        "/_dash-update-component",
                        data=json.dumps(body),
                        headers={"Content-Type": "application/json", **self.csrf()},
                        name=name,
                        catch_response=True,
                    ) as answer:
                        if answer.status_code == 204:
                            answer.success()
                            continue
                        if answer.status_code != 200:
                            answer.failure(
                                f"{answer.status_code}: {(answer.text or '')[:120]}"
                                f"{getattr(answer, 'error', None) or ''}"
                            )
                            continue
                        added, touched = apply_response(self.layout, answer.json())
                        new |= added
                        changed |= touched

        @task(6)
        def move(self) -> None:
            choices = [p for p in self.pages if p != self.path] or self.pages
            self.visit(choices[int(time.time() * 1000) % len(choices)])

        @task(3)
        def refresh(self) -> None:
            page_ids = {c for c in self.layout if c not in self.shell}
            self.fire_round(new=page_ids, changed=set())

        @task(1)
        def reload(self) -> None:
            self.full_load(self.path)

    env = Environment(user_classes=[AppUser], events=events)
    runner = env.create_local_runner()
    users = params["users"]
    runner.start(users, spawn_rate=max(users / 5, 2))
    deadline = time.monotonic() + 120
    # Sign-ins hash with production argon2 (64 MiB each): measure only once all are done.
    while len(ready) < users and time.monotonic() < deadline:
        gevent.sleep(0.5)
    gevent.sleep(2)
    env.stats.reset_all()
    started = time.monotonic()
    gevent.sleep(params["seconds"])
    seconds = time.monotonic() - started
    rows = []
    for entry in env.stats.entries.values():
        if entry.num_requests:
            rows.append(_entry(entry, seconds))
    total = _entry(env.stats.total, seconds)
    # Every callback together (router and page callbacks): the app's own work, comparable
    # between variants that send different numbers of cheap static requests.
    from locust.stats import StatsEntry

    callbacks = StatsEntry(env.stats, "all callbacks", "POST")
    for entry in env.stats.entries.values():
        if entry.name.startswith(("cb ", "router ")):
            callbacks.extend(entry)
    total["callbacks"] = _entry(callbacks, seconds)
    errors = [
        {"name": e.name, "error": str(e.error)[:200], "count": e.occurrences}
        for e in env.stats.errors.values()
    ]
    runner.quit()
    return {
        "users": users,
        "seconds": round(seconds, 1),
        "rows": rows,
        "total": total,
        "errors": errors,
    }


def _entry(entry, seconds: float) -> dict:
    return {
        "name": entry.name,
        "count": entry.num_requests,
        "failures": entry.num_failures,
        "p50": entry.get_response_time_percentile(0.5) or 0,
        "p95": entry.get_response_time_percentile(0.95) or 0,
        "rps": round(entry.num_requests / seconds, 1) if seconds else 0,
    }


# --- the parent: database, servers, table ----------------------------------------------------


def add_arguments(parser) -> None:
    parser.add_argument("--load-users", type=parse_sizes, default=(10, 25, 50))
    parser.add_argument("--load-seconds", type=float, default=40.0)
    parser.add_argument("--load-calls", type=int, default=SIZES["calls"])
    parser.add_argument(
        "--load-variants", default=",".join(VARIANTS), help="naive,fixed (bench/variant_app.py)"
    )
    parser.add_argument("--load-keep-db", action="store_true")
    parser.add_argument("--load-reuse-db", default=None, metavar="NAME")


def run(options) -> int:
    from bench.webapp import (
        DEMO_PASSWORD,
        access_log,
        gunicorn_app,
        machine,
        seeded_database,
        server_times,
        warm_up,
    )

    quick = options.quick
    users = (5,) if quick else options.load_users
    seconds = 10.0 if quick else options.load_seconds
    sizes = dict(QUICK_SIZES if quick else SIZES)
    if not quick:
        sizes["calls"] = options.load_calls
    variants = [v.strip() for v in options.load_variants.split(",") if v.strip()]
    results: dict[str, list[dict]] = {}
    workdir = Path(tempfile.mkdtemp(prefix="syncboard-load-"))
    with seeded_database(sizes, keep=options.load_keep_db, reuse=options.load_reuse_db) as db:
        accounts = [a for a in db.accounts if a[1] in ROLES]
        manager = next(e for e, role in accounts if role == "manager")
        with contextlib.ExitStack() as servers:
            bases = {}
            for variant in variants:
                folder = workdir / variant
                folder.mkdir()
                bases[variant] = servers.enter_context(
                    gunicorn_app(db.app_url, folder, variant=variant)
                )
                warm_up(bases[variant], manager, DEMO_PASSWORD, folder)
                results[variant] = []
            # Variants take turns at each level (the idle server costs nothing), so a
            # neighbour's load on a shared machine falls on both alike.
            for n in users:
                for variant in variants:
                    print(f"load: {variant}, {n} users, {seconds:.0f} s ...", file=sys.stderr)
                    params = {
                        "base": bases[variant],
                        "users": n,
                        "seconds": seconds,
                        "accounts": accounts,
                        "password": DEMO_PASSWORD,
                    }
                    env = child_env(db.app_url, workdir)
                    log = access_log(workdir / variant)
                    offset = log.stat().st_size if log.exists() else 0
                    result = run_child("bench.load", "load", params, env, timeout=seconds + 300)
                    # includes the sign-ins and the ramp-up, unlike the client's figures
                    result["server"] = server_times(log, offset)
                    results[variant].append(result)
                    print(text_table(result, variant), file=sys.stderr, flush=True)
    info = {"sizes": sizes, "machine": machine(), "seconds": seconds, "accounts": _roles(accounts)}
    text = section(results, info)
    print(text)
    if options.write:
        write_section(SECTION, text, MARK)
    failures = sum(r["total"]["failures"] for r in results.get("fixed", []))
    return 1 if failures else 0


def _roles(accounts: list) -> dict[str, int]:
    out: dict[str, int] = {}
    for _email, role in accounts:
        out[role] = out.get(role, 0) + 1
    return out


def _ordered(rows: list[dict]) -> list[dict]:
    def key(row):
        name = row["name"]
        group = (
            0
            if name.startswith(("page", "GET", "POST", "static"))
            else 1
            if name.startswith("router")
            else 2
        )
        return (group, name)

    return sorted(rows, key=key)


def text_table(result: dict, variant: str) -> str:
    lines = [f"{variant}, {result['users']} users, {result['seconds']} s"]
    for row in [*_ordered(result["rows"]), result["total"]]:
        lines.append(
            f"  {row['name'][:48]:48} {row['count']:7} {row['failures']:5} {row['p50']:6.0f} "
            f"{row['p95']:6.0f} {row['rps']:7.1f}"
        )
    lines += [f"  error: {e['name']}: {e['error']} x{e['count']}" for e in result["errors"]]
    return "\n".join(lines)


def section(results: dict[str, list[dict]], info: dict) -> str:
    sizes = info["sizes"]
    out = [
        SECTION,
        "",
        f"Machine: {info['machine']}.",
        f"Data: {sizes['calls']:,} calls, {sizes['cases']:,} cases, {sizes['contacts']:,} contacts "
        f"in {sizes['orgs']} demo organisations (PostgreSQL, VACUUM ANALYZEd). Users sign in as "
        + ", ".join(f"{n} {role}" for role, n in info["accounts"].items())
        + " accounts, round robin; each user waits 0.5–2 s between actions (move to another "
        "page 6 : refresh the page's callbacks 3 : full reload 1). gunicorn: 2 gthread workers × "
        f"8 threads; locust runs on the same machine. Each level runs {info['seconds']:.0f} s "
        "after every user signed in. Times in ms: *callbacks* are every router and page "
        "callback together as the client saw them; *server* is gunicorn's own time for the "
        "same requests (its access log, `%(D)s`, over the whole level including sign-ins), "
        "which leaves out the client's share of a shared CPU.",
        "",
        "| users | variant | requests | failures | req/s | p50 | p95 | callbacks/s | callbacks p50 | callbacks p95 | server: callbacks p50 / p95 | slowest p95 (request type) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    by_level: dict[int, list[tuple[str, dict]]] = {}
    for variant, runs in results.items():
        for result in runs:
            by_level.setdefault(result["users"], []).append((variant, result))
    for users in sorted(by_level):
        for variant, result in by_level[users]:
            total = result["total"]
            slowest = max(result["rows"], key=lambda r: r["p95"], default=None)
            worst = f"{slowest['p95']:.0f} ({slowest['name']})" if slowest else ""
            cbs = total.get("callbacks") or {"rps": 0, "p50": 0, "p95": 0}
            server = (result.get("server") or {}).get("callbacks") or {"p50": 0, "p95": 0}
            out.append(
                f"| {users} | {variant} | {total['count']:,} | {total['failures']} | "
                f"{total['rps']:.1f} | {total['p50']:.0f} | {total['p95']:.0f} | "
                f"{cbs['rps']:.1f} | {cbs['p50']:.0f} | {cbs['p95']:.0f} | "
                f"{server['p50']:.0f} / {server['p95']:.0f} | {worst} |"
            )
    top = max(by_level) if by_level else None
    if top is not None:
        for variant, result in by_level[top]:
            out += [
                "",
                f"Per request type at {top} users, `{variant}`:",
                "",
                "| request type | count | failures | p50 | p95 | req/s |",
                "|---|---:|---:|---:|---:|---:|",
            ]
            for row in [*_ordered(result["rows"]), result["total"]]:
                out.append(
                    f"| {row['name']} | {row['count']:,} | {row['failures']} | {row['p50']:.0f} | "
                    f"{row['p95']:.0f} | {row['rps']:.1f} |"
                )
            if result["errors"]:
                out += [
                    "",
                    "Errors: "
                    + "; ".join(
                        f"{e['name']}: {e['error']} ×{e['count']}" for e in result["errors"][:8]
                    ),
                ]
            over = [r["name"] for r in result["rows"] if r["p95"] > TARGET_P95_MS]
            verdict = (
                f"target (every p95 under {TARGET_P95_MS} ms, 0 failures): "
                + ("met" if not over and not result["total"]["failures"] else "missed")
                + (f" — over: {', '.join(over)}" if over else "")
            )
            out += ["", verdict]
    out += [
        "",
        "Re-run: `python -m bench load` (or `make bench`); `--load-users 10,25,50 "
        "--load-seconds 40 --load-variants naive,fixed`.",
        "",
        MARK,
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "child":
        return child_main(argv[1:])
    from bench.__main__ import main as bench_main

    return bench_main(["load", *argv])


if __name__ == "__main__":
    os.chdir(ROOT)
    raise SystemExit(main())
