"""The `syncboard` command line: serve, schema, accounts and demo data."""

from __future__ import annotations

import argparse
import logging
import sys
import time

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
    from sqlalchemy import select

    from models.orgs import User

    with session_scope() as db:
        user = db.scalar(select(User).where(User.email == args.email.strip().lower()))
        if user is None:
            raise AccountError(f"No user with the email {args.email}.")
        print(create_token(db, user, args.name or "cli").token)
    return 0


def _seed(orgs: int, calls: int, cases: int, contacts: int, seed: int) -> None:
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
    print(f"Seeded demo data in {time.perf_counter() - started:.1f}s")
    print(f"Demo users (password: {summary.password}):")
    for email, role in summary.users[:8]:
        print(f"  {role:<10} {email}")
    if len(summary.users) > 8:
        print(f"  … and {len(summary.users) - 8} more")


def cmd_seed_demo(args) -> int:
    upgrade(get_engine()) if get_settings().is_sqlite else None
    _seed(args.orgs, args.calls, args.cases, args.contacts, args.seed)
    return 0


def cmd_serve(args) -> int:
    settings = get_settings()
    if settings.is_sqlite:
        upgrade(get_engine())
    if args.demo:
        from models.demo_data import database_is_empty

        if database_is_empty(get_engine()):
            print("Empty database: seeding demo data (2 organisations, ~20k calls)…", flush=True)
            _seed(2, 20_000, 2_000, 2_000, 42)
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", 1)
            self.cfg.set("threads", 8)
            self.cfg.set("timeout", 120)
            self.cfg.set("accesslog", "-" if args.access_log else None)

        def load(self):
            from app import server

            return server

    print(f"syncboard on http://{args.host}:{args.port}{settings.url_prefix}", flush=True)
    _Server().run()
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
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (AccountError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
