"""Connection tests in the embedded mode: a check request row per unsaved test, read once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from models.base import utcnow
from models.connection_checks import create_check, purge_stale_checks, take_check
from models.scope import AccessDenied, Viewer
from models.sync import ConnectionCheck
from tests.fakes.hubspot import FakeHubSpot
from tests.helpers import make_org
from workers.jobs import check_new_connection_job
from workers.service import check_connection

TOKEN = "pat-check-3b9f"


@pytest.fixture
def hubspot():
    fake = FakeHubSpot(token=TOKEN).start()
    yield fake
    fake.stop()


def checks(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count(ConnectionCheck.id)))


def test_an_unsaved_connection_is_tested_from_an_encrypted_row_the_job_deletes(db, hubspot):
    org = make_org(db)
    admin = Viewer(0, "admin@example.com", org, "org_admin")
    assert check_connection(admin, "hubspot", hubspot.url, {"token": TOKEN}) == (
        True,
        "Connected to HubSpot: token accepted, contacts are readable.",
    )
    assert hubspot.log[-1].headers["authorization"] == f"Bearer {TOKEN}"
    assert checks(db) == 0
    with pytest.raises(AccessDenied):
        check_connection(Viewer(0, "m@example.com", org, "manager"), "hubspot", hubspot.url, {})
    assert checks(db) == 0


def test_a_check_request_is_read_once_and_stale_ones_are_dropped(db):
    org = make_org(db)
    with db.session() as s:
        fresh = create_check(
            s,
            org_id=org,
            connector="hubspot",
            base_url=" https://x.test ",
            credentials={"token": TOKEN},
        )
        stale = create_check(s, org_id=org, connector="demo", base_url="", credentials={})
        s.execute(
            update(ConnectionCheck)
            .where(ConnectionCheck.id == stale)
            .values(created_at=utcnow() - timedelta(minutes=6))
        )
        s.commit()
        assert TOKEN not in s.get(ConnectionCheck, fresh).credentials_encrypted
    with db.session() as s:
        request = take_check(s, fresh)
        assert (request.org_id, request.base_url, request.credentials) == (
            org,
            "https://x.test",
            {"token": TOKEN},
        )
        assert take_check(s, fresh) is None  # read once
        assert take_check(s, stale) is None  # too old to run
        s.commit()
    assert checks(db) == 0
    assert check_new_connection_job(stale)[1].startswith("This test waited too long")
    with db.session() as s:
        old = create_check(s, org_id=org, connector="demo", base_url="", credentials={})
        create_check(s, org_id=org, connector="demo", base_url="", credentials={})
        s.execute(
            update(ConnectionCheck)
            .where(ConnectionCheck.id == old)
            .values(created_at=utcnow() - timedelta(hours=1))
        )
        assert purge_stale_checks(s) == 1
        s.commit()
    assert checks(db) == 1
