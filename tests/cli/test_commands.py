"""The `syncboard` command line, run in-process against each real database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from cli import main
from models.orgs import Membership, Organization, User
from models.records import Call
from models.sync import Connection, SyncRun
from models.tokens import ApiToken
from models.users import user_for_token


def test_create_org_user_and_token(db, capsys):
    assert main(["create-org", "North Wind", "--slug", "northwind"]) == 0
    assert (
        main(
            [
                "create-user",
                "ana@example.com",
                "--password",
                "ana-password",
                "--org",
                "northwind",
                "--role",
                "manager",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "create-user",
                "bo@example.com",
                "--password",
                "bo-password",
                "--org",
                "New Org",
                "--role",
                "agent",
            ]
        )
        == 0
    )
    assert (
        main(["create-user", "root@example.com", "--password", "root-password", "--platform-admin"])
        == 0
    )
    capsys.readouterr()
    assert main(["create-token", "ana@example.com", "--name", "reports"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("sb_")
    with db.session() as s:
        assert s.scalar(select(func.count(Organization.id))) == 2
        role = s.scalar(select(Membership.role).join(User).where(User.email == "ana@example.com"))
        assert role.value == "manager"
        assert user_for_token(s, token).email == "ana@example.com"
        assert s.scalar(select(ApiToken.name)) == "reports"
        assert s.scalar(select(User.is_platform_admin).where(User.email == "root@example.com"))


def test_errors_are_one_clear_line(db, capsys):
    assert main(["create-org", "Dup"]) == 0
    assert main(["create-org", "Dup"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["create-user", "x@example.com", "--password", "short", "--org", "Dup"]) == 2
    assert "at least 8 characters" in capsys.readouterr().err
    assert main(["create-user", "not-an-email", "--password", "long-enough"]) == 2
    assert main(["create-token", "nobody@example.com"]) == 2
    assert "No user" in capsys.readouterr().err


def test_seed_demo_small(db, capsys):
    assert (
        main(["seed-demo", "--orgs", "2", "--calls", "3000", "--cases", "100", "--contacts", "100"])
        == 0
    )
    out = capsys.readouterr().out
    assert "Demo users (password: demo-password)" in out
    with db.session() as s:
        assert s.scalar(select(func.count(Call.id))) == 3000


def test_seed_demo_leaves_the_tables_it_filled_vacuum_analyzed(db, capsys):
    from datetime import timedelta

    from models.base import utcnow

    before = utcnow() - timedelta(seconds=1)
    argv = ["seed-demo", "--orgs", "1", "--calls", "2000", "--cases", "50", "--contacts", "50"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    if db.backend != "postgresql":
        assert "analyzed" in out
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'calls'"))
        return
    assert "vacuum-analyzed" in out
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT relname, last_vacuum, last_analyze, n_mod_since_analyze "
                "FROM pg_stat_user_tables WHERE relname IN ('calls', 'cases', 'contacts')"
            )
        ).all()
    assert len(rows) == 3
    for name, vacuumed, analyzed, changed in rows:
        assert vacuumed >= before and analyzed >= before, name
        assert changed == 0, name


def test_connect_and_sync_in_process(db, capsys):
    main(["create-org", "Acme"])
    assert (
        main(
            [
                "connect",
                "acme",
                "demo",
                "--name",
                "Demo",
                "--setting",
                "records=40",
                "--setting",
                "delay_ms=0",
                "--every",
                "30",
            ]
        )
        == 0
    )
    assert main(["sync", "acme", "Demo", "contacts", "--batch-size", "10"]) == 0
    out = capsys.readouterr().out
    assert "success: 40 processed, 40 created, 0 updated, 0 unchanged, 0 failed" in out
    assert main(["sync", "acme", "Demo", "--since", "2030-01-01"]) == 2
    assert "cannot be in the future" in capsys.readouterr().err
    assert main(["sync", "acme", "Nope"]) == 2
    assert main(["sync", "acme", "Demo", "nostream"]) == 2
    assert "has no stream 'nostream'" in capsys.readouterr().err
    with db.session() as s:
        conn = s.scalar(select(Connection))
        assert (conn.schedule_minutes, conn.schedule_enabled) == (30, True)
        run = s.scalar(select(SyncRun))
        assert (run.trigger, run.options["batch_size"]) == ("cli", 10)


def test_connectors_lists_every_stream(capsys):
    assert main(["connectors"]) == 0
    out = capsys.readouterr().out
    for line in ("demo", "hubspot", "contacts       -> contacts (incremental on updatedAt)"):
        assert line in out


def test_worker_needs_redis(db, capsys):
    assert main(["worker", "--burst"]) == 2
    assert "needs REDIS_URL" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["sync"], ["create-user", "a@b.co"]])
def test_usage_errors_exit_2(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


def test_lookups_by_odd_digits_are_not_found_not_a_crash(db):
    from models.connections import find_connection
    from models.users import find_org

    with db.session() as s:
        for ref in ("²", "99999999999999999999999", "-1", "0"):
            assert find_org(s, ref) is None
            assert find_connection(s, 1, ref) is None
