"""The `syncboard` command line: serve, schema, accounts and demo data."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from connectors.base import ConnectorError
from models.db import get_engine, session_scope
from models.migrate import upgrade
from models.users import (
    AccountError,
    add_membership,
    create_org,
    create_token,
    create_user,
    find_org,
)
from settings import SettingsError, get_settings

log = logging.getLogger("syncboard")


def cmd_init_db(_args) -> int:
    upgrade(get_engine())
    print(f"Schema is up to date on {get_engine().url.render_as_string(hide_password=True)}")
    return 0


def cmd_create_org(args) -> int:
    with session_scope() as db:
        org = create_org(db, args.name, args.slug)
        print(f"Created organisation {org.name} (id {org.id}, slug {org.slug})")
    return 0


def cmd_create_user(args) -> int:
    if not args.org and not args.platform_admin:
        raise AccountError("Give --org ORG --role ROLE, or --platform-admin.")
    with session_scope() as db:
        user = create_user(db, args.email, args.password, platform_admin=args.platform_admin)
        if args.org:
            org = find_org(db, args.org) or create_org(db, args.org)
            add_membership(db, user, org, args.role or "agent")
            print(f"Created {user.email} as {args.role or 'agent'} in {org.name}")
        else:
            print(f"Created platform admin {user.email}")
    return 0


def cmd_create_token(args) -> int:
    from models.users import user_by_email

    with session_scope() as db:
        user = user_by_email(db, args.email)
        if user is None:
            raise AccountError(f"No user with the email {args.email}.")
        print(create_token(db, user, args.name or "cli").token)
    return 0


def _seed(
    orgs: int, calls: int, cases: int, contacts: int, seed: int, connections: bool = False
) -> None:
    from models.demo_data import seed_demo

    started = time.perf_counter()
    summary = seed_demo(
        get_engine(),
        orgs=orgs,
        calls=calls,
        cases=cases,
        contacts=contacts,
        seed=seed,
        progress=lambda msg: print(f"  {msg}", flush=True),
    )
    if connections:
        _demo_connections([org_id for org_id, _slug in summary.orgs])
    _vacuum_after_seeding(list(summary.counts))
    print(f"Seeded demo data in {time.perf_counter() - started:.1f}s")
    print("Organisations: " + ", ".join(slug for _id, slug in summary.orgs))
    print(f"Demo users (password: {summary.password}):")
    for email, role in summary.users[:8]:
        print(f"  {role:<10} {email}")
    if len(summary.users) > 8:
        print(f"  … and {len(summary.users) - 8} more")


def _vacuum_after_seeding(tables: list[str]) -> None:
    """Fresh bulk-loaded tables need VACUUM ANALYZE before their indexes pay off
    (models/maintenance.py says why); on SQLite this is ANALYZE."""
    from models.maintenance import vacuum_analyze

    started = time.perf_counter()
    done = vacuum_analyze(get_engine(), tables)
    verb = "vacuum-analyzed" if get_engine().dialect.name == "postgresql" else "analyzed"
    print(f"  {verb} {len(done)} tables in {time.perf_counter() - started:.1f}s", flush=True)


def _demo_connections(org_ids: list[int]) -> None:
    """A demo connection per organisation with a little sync history, so the sync console,
    its health badges and the run pages have something to show (`serve --demo` only:
    `seed-demo` writes exactly the counts it is asked for)."""
    from models.connections import create_connection
    from models.db import session_scope
    from models.sync_options import parse_options
    from workers.engine import execute_run
    from workers.service import create_run

    for org_id in org_ids:
        with session_scope() as db:
            conn = create_connection(
                db,
                org_id=org_id,
                connector="demo",
                name="Demo CRM",
                settings={"records": 120, "delay_ms": 0},
                schedule_minutes=60,
            )
            db.flush()
            db.expunge(conn)
        for stream, options in ((None, {}), ("contacts", {"max_records": 40})):
            execute_run(create_run(conn, stream, parse_options(options), "cli", None).id)
    print(f"  demo connections: {len(org_ids)}, each with 2 runs", flush=True)


def cmd_seed_demo(args) -> int:
    upgrade(get_engine()) if get_settings().is_sqlite else None
    _seed(args.orgs, args.calls, args.cases, args.contacts, args.seed)
    return 0


def _start_embedded_jobs() -> None:
    """Without Redis the app process runs syncs, schedules and the reaper itself."""
    from models.runs import fail_orphaned_runs
    from workers.scheduler import start_embedded

    with session_scope() as db:
        orphans = fail_orphaned_runs(
            db, "The app restarted while this sync was queued or running; run it again."
        )
    if orphans:
        log.warning("failed %d sync run(s) left over from the previous app process", len(orphans))
    start_embedded()


def cmd_serve(args) -> int:
    settings = get_settings()
    if settings.is_sqlite:
        upgrade(get_engine())
    from models.bootstrap import ensure_admin

    ensure_admin(settings.admin_email, settings.admin_password)
    if args.demo:
        from models.demo_data import database_is_empty

        if database_is_empty(get_engine()):
            print("Empty database: seeding demo data (2 organisations, ~20k calls)…", flush=True)
            _seed(2, 20_000, 2_000, 2_000, 42, connections=True)
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", 1)
            self.cfg.set("threads", 8)
            self.cfg.set("timeout", 120)
            # gunicorn's 2 s drops connections a browser or poll reuses after a pause
            self.cfg.set("keepalive", 5)
            self.cfg.set("accesslog", "-" if args.access_log else None)
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn 25.1+ opens one control socket per user ($HOME/.gunicorn), so two
                # `serve` processes would remove each other's; we do not use gunicornc.
                self.cfg.set("control_socket_disable", True)

        def load(self):
            from app import server

            if not settings.redis_url:
                _start_embedded_jobs()
            return server

    print(f"syncboard on http://{args.host}:{args.port}{settings.url_prefix}", flush=True)
    _Server().run()
    return 0


def _org_or_fail(db, ref: str):
    org = find_org(db, ref)
    if org is None:
        raise AccountError(f"No organisation {ref!r} (give its id, slug or name).")
    return org


def cmd_connectors(_args) -> int:
    from connectors.base import registry

    connectors = registry()
    for key in sorted(connectors):
        cls = connectors[key]
        print(f"{key:<12} {cls.label}")
        for stream in cls.streams:
            cursor = f" (incremental on {stream.cursor_field})" if stream.cursor_field else ""
            print(f"    {stream.name:<14} -> {stream.model}{cursor}")
    return 0


def cmd_connect(args) -> int:
    from connectors.base import get_connector
    from models.connections import create_connection

    cls = get_connector(args.connector)
    settings = {}
    for item in args.setting or []:
        key, _, value = item.partition("=")
        if not key or not _:
            raise AccountError(f"--setting takes KEY=VALUE, not {item!r}")
        settings[key.strip()] = value
    with session_scope() as db:
        org = _org_or_fail(db, args.org)
        try:
            conn = create_connection(
                db,
                org_id=org.id,
                connector=cls.key,
                name=args.name,
                base_url=args.base_url or "",
                credentials={"token": args.token} if args.token else {},
                settings=settings,
                schedule_minutes=args.every,
            )
        except ValueError as exc:
            raise AccountError(str(exc)) from exc
        print(f"Created connection {conn.name} (id {conn.id}) to {cls.label} for {org.name}")
    return 0


def _bar(done: int, total: int | None, width: int = 30) -> str:
    if not total:
        return f"[{'?' * 3:^{width}}] {done:,}"
    filled = int(width * min(done / total, 1))
    return f"[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}"


def cmd_sync(args) -> int:
    import threading

    from models.connections import find_connection
    from models.runs import load_run
    from models.sync_errors import SyncConflict
    from models.sync_options import OptionsError, parse_options
    from workers import queue
    from workers.engine import run_safely
    from workers.service import create_run, enqueue

    options_raw = {
        "full": args.full,
        "force": args.force,
        "since": args.since,
        "dry_run": args.dry_run,
        "max_records": args.max_records,
        "batch_size": args.batch_size,
        "debug": args.debug,
    }
    try:
        options = parse_options(options_raw)
    except OptionsError as exc:
        raise AccountError(str(exc)) from exc
    with session_scope() as db:
        org = _org_or_fail(db, args.org)
        conn = find_connection(db, org.id, args.connection)
        if conn is None:
            raise AccountError(f"{org.name} has no connection {args.connection!r}.")
        db.expunge(conn)
    try:
        run = create_run(conn, args.stream, options, "cli", None)
    except SyncConflict as exc:
        raise AccountError(str(exc)) from exc
    print(f"Run {run.id}: {conn.name}" + (f" / {args.stream}" if args.stream else " (all streams)"))
    worker = None
    if queue.backend() == "redis":
        try:
            enqueue(run)
        except queue.QueueUnavailable as exc:
            raise AccountError(str(exc)) from exc
        print(
            "Queued for the workers; following its progress (Ctrl-C stops following, not the sync)."
        )
    else:
        worker = threading.Thread(target=run_safely, args=(run.id,), daemon=True)
        worker.start()
    shown = ""
    while True:
        with session_scope() as db:
            row = load_run(db, run.id)
            status, processed, total = row.status, row.processed, row.total
            summary = (
                row.created,
                row.updated,
                row.unchanged,
                row.failed,
                row.error,
                row.error_samples,
                row.stats,
            )
        line = f"\r{status:<9} {_bar(processed, total)}"
        if line != shown and sys.stdout.isatty():
            print(line, end="", flush=True)
            shown = line
        if status in ("success", "partial", "failed", "cancelled"):
            break
        time.sleep(0.5)
    if sys.stdout.isatty():
        print()
    created, updated, unchanged, failed, error, samples, stats = summary
    verb = "would be " if options.dry_run else ""
    print(
        f"{status}: {processed:,} processed, {created:,} {verb}created, {updated:,} {verb}updated, "
        f"{unchanged:,} unchanged, {failed:,} failed"
        + (
            f", {stats.get('records_per_second')} records/s"
            if stats.get("records_per_second")
            else ""
        )
    )
    for sample in samples[:10]:
        print(f"  record {sample.get('record')}: {sample.get('reason')}")
    if error:
        print(f"error: {error}", file=sys.stderr)
    if worker is not None:
        worker.join(timeout=5)
    return 0 if status in ("success", "partial") else 1


def cmd_worker(args) -> int:
    if not get_settings().redis_url:
        raise AccountError("syncboard worker needs REDIS_URL; without it syncs run inside the app.")
    from workers.worker import run_worker

    run_worker(burst=args.burst)
    return 0


def cmd_scheduler(_args) -> int:
    from workers.scheduler import run_forever

    run_forever()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="syncboard", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--demo", action="store_true", help="seed demo data if the database is empty")
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("init-db", help="create or upgrade the schema (Alembic)")
    p.set_defaults(func=cmd_init_db)

    p = sub.add_parser("create-org", help="create an organisation")
    p.add_argument("name")
    p.add_argument("--slug")
    p.set_defaults(func=cmd_create_org)

    p = sub.add_parser("create-user", help="create a user")
    p.add_argument("email")
    p.add_argument("--password", required=True)
    p.add_argument("--org", help="id, slug or name; created when missing")
    p.add_argument("--role", choices=["org_admin", "manager", "agent"])
    p.add_argument("--platform-admin", action="store_true")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser("create-token", help="print a new API token for a user")
    p.add_argument("email")
    p.add_argument("--name")
    p.set_defaults(func=cmd_create_token)

    p = sub.add_parser("seed-demo", help="load realistic demo data")
    p.add_argument("--orgs", type=int, default=2)
    p.add_argument("--calls", type=int, default=20_000)
    p.add_argument("--cases", type=int, default=2_000)
    p.add_argument("--contacts", type=int, default=2_000)
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=cmd_seed_demo)

    p = sub.add_parser("connectors", help="list connectors and their streams")
    p.set_defaults(func=cmd_connectors)

    p = sub.add_parser("connect", help="add a connection to an organisation")
    p.add_argument("org")
    p.add_argument("connector")
    p.add_argument("--name", required=True)
    p.add_argument("--base-url")
    p.add_argument("--token")
    p.add_argument("--every", type=int, metavar="MINUTES", help="sync every N minutes")
    p.add_argument("--setting", action="append", metavar="KEY=VALUE", help="connector setting")
    p.set_defaults(func=cmd_connect)

    p = sub.add_parser("sync", help="run a sync and show its progress")
    p.add_argument("org")
    p.add_argument("connection", help="id or name")
    p.add_argument("stream", nargs="?")
    p.add_argument("--full", action="store_true", help="ignore the stored cursor")
    p.add_argument("--force", action="store_true", help="overwrite unchanged rows")
    p.add_argument("--since", metavar="DATE", help="records changed since DATE")
    p.add_argument("--dry-run", action="store_true", help="fetch and validate, write nothing")
    p.add_argument("--max-records", type=int, metavar="N")
    p.add_argument("--batch-size", type=int, metavar="N", default=500)
    p.add_argument("--debug", action="store_true", help="keep a verbose log with the run")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("worker", help="an RQ worker (needs REDIS_URL)")
    p.add_argument("--burst", action="store_true", help="quit when the queue is empty")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("scheduler", help="enqueue scheduled syncs and reap dead runs")
    p.set_defaults(func=cmd_scheduler)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (AccountError, SettingsError, ConnectorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
