"""Synced rows belong to their connection: two connections of one connector never collide."""

from __future__ import annotations

import csv
import shutil
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.orgs import PhoneNumber, User
from models.records import Call, Contact
from models.scope import build_viewer
from models.source_admin import delete_connection
from models.sync import SyncRun
from models.sync_options import parse_options
from settings import get_settings
from tests.fakes.hubspot import FakeHubSpot
from tests.helpers import make_connection, run_sync

QUICK = {"retry_backoff": 0.01}


def rows_by_connection(db, model) -> dict[int | None, int]:
    with db.session() as s:
        counted = s.execute(
            select(model.connection_id, func.count()).group_by(model.connection_id)
        ).all()
    return dict(counted)


def admin_of(db, world):
    with db.session() as s:
        return build_viewer(s, s.get(User, world.users["admin_a"]), world.org_a)


@pytest.fixture
def portals():
    """Two HubSpot portals whose contact ids overlap (1000-1019 are in both)."""
    eu = FakeHubSpot(token="pat-eu", contacts=30).start()
    us = FakeHubSpot(token="pat-us", contacts=20).start()
    yield eu, us
    eu.stop()
    us.stop()


def hubspot_pair(db, org: int, portals):
    eu, us = portals
    first = make_connection(
        db, org, "hubspot", base_url=eu.url, token="pat-eu", name="EU", settings=QUICK
    )
    second = make_connection(
        db, org, "hubspot", base_url=us.url, token="pat-us", name="US", settings=QUICK
    )
    return first, second


def test_two_hubspot_connections_with_overlapping_ids_keep_their_own_rows(db, world, portals):
    eu_conn, us_conn = hubspot_pair(db, world.org_a, portals)
    first = run_sync(eu_conn, "contacts")
    second = run_sync(us_conn, "contacts")
    # The second connection used to find the first one's rows: created 0, unchanged 20.
    assert (first.status, first.created) == ("success", 30)
    assert (second.status, second.created, second.unchanged) == ("success", 20, 0)
    assert rows_by_connection(db, Contact) == {eu_conn.id: 30, us_conn.id: 20}

    # An edit in one portal changes that connection's row only.
    portals[1].modify("contacts", "1005", firstname="Changed")
    edited = run_sync(us_conn, "contacts")
    again = run_sync(eu_conn, "contacts", full=True)
    assert (edited.updated, again.created, again.updated, again.unchanged) == (1, 0, 0, 30)
    with db.session() as s:
        names = dict(
            s.execute(
                select(Contact.connection_id, Contact.first_name).where(
                    Contact.external_id == "1005"
                )
            ).all()
        )
    assert names == {eu_conn.id: "First5", us_conn.id: "Changed"}


def test_deleting_a_connection_detaches_its_rows_and_leaves_the_others_alone(db, world, portals):
    eu_conn, us_conn = hubspot_pair(db, world.org_a, portals)
    run_sync(eu_conn, "contacts")
    run_sync(us_conn, "contacts")
    admin = admin_of(db, world)
    with db.session() as s:
        delete_connection(s, admin, eu_conn.id, purge_demo_records=True)  # not demo: kept
        s.commit()
    assert rows_by_connection(db, Contact) == {None: 30, us_conn.id: 20}
    with db.session() as s:
        detached = s.execute(
            select(Contact.source, Contact.origin_connection_id)
            .where(Contact.connection_id.is_(None))
            .distinct()
        ).all()
    assert detached == [("hubspot", eu_conn.id)]
    # The other connection syncs as before, its rows untouched by the delete.
    portals[1].modify("contacts", "1003", firstname="Later")
    later = run_sync(us_conn, "contacts")
    assert (later.status, later.created, later.updated) == ("success", 0, 1)

    # Deleting the second one too keeps both sets, although their ids overlap.
    with db.session() as s:
        delete_connection(s, admin, us_conn.id)
        s.commit()
    assert rows_by_connection(db, Contact) == {None: 50}


@pytest.fixture
def uploads():
    folder = get_settings().instance_dir / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def contacts_file(path: Path, prefix: str, count: int) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "first_name", "email"])
        for n in range(1, count + 1):
            writer.writerow([n, f"{prefix}{n}", f"{prefix.lower()}{n}@example.com"])
    return path


def test_two_csv_uploads_numbered_from_one_keep_separate_rows(db, world, uploads):
    staff = contacts_file(uploads / "staff.csv", "Staff", 12)
    donors = contacts_file(uploads / "donors.csv", "Donor", 8)
    conns = [
        make_connection(
            db,
            world.org_a,
            "csv",
            name=path.stem,
            settings={"path": str(path), "model": "contacts"},
        )
        for path in (staff, donors)
    ]
    runs = [run_sync(conn, "contacts") for conn in conns]
    assert [(r.status, r.created) for r in runs] == [("success", 12), ("success", 8)]
    assert rows_by_connection(db, Contact) == {conns[0].id: 12, conns[1].id: 8}
    again = run_sync(conns[0], "contacts")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 12)
    with db.session() as s:
        ones = s.scalars(
            select(Contact.first_name).where(Contact.external_id == "1").order_by(Contact.id)
        ).all()
    assert ones == ["Staff1", "Donor1"]


def test_two_syncs_of_one_connector_at_once_both_succeed(db, world):
    """Two demo connections at once: their rows, and the phone numbers both create, agree."""
    from workers.engine import execute_run
    from workers.service import create_run

    settings = {"records": 300, "delay_ms": 5}
    conns = [
        make_connection(db, world.org_a, "demo", name=name, settings=settings)
        for name in ("Demo one", "Demo two")
    ]
    runs = [create_run(c, None, parse_options({"batch_size": 50}), "cli", None) for c in conns]
    start = threading.Barrier(len(runs))
    statuses: dict[int, str] = {}

    def sync(run_id: int) -> None:
        start.wait()
        statuses[run_id] = execute_run(run_id)

    threads = [threading.Thread(target=sync, args=(run.id,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with db.session() as s:
        errors = {r.id: r.error for r in s.scalars(select(SyncRun))}
        lines = s.scalars(select(PhoneNumber.number).where(PhoneNumber.label == "Demo line"))
        numbers = sorted(lines)
    assert statuses == {run.id: "success" for run in runs}, errors
    assert rows_by_connection(db, Contact) == {conns[0].id: 300, conns[1].id: 300}
    by_connection = rows_by_connection(db, Call)
    assert (by_connection[conns[0].id], by_connection[conns[1].id]) == (300, 300)
    assert numbers == sorted(set(numbers)) and len(numbers) == 4
