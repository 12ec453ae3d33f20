"""HubSpot over real HTTP against the fake, through the real engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from connectors.base import AuthError, UnreachableError
from connectors.hubspot import HubSpotConnector
from models.records import Contact
from tests.conftest import free_port
from tests.fakes.hubspot import FakeHubSpot
from tests.helpers import count_rows, make_connection, make_org, run_sync

QUICK = {"retry_backoff": 0.01}


@pytest.fixture
def hubspot():
    fake = FakeHubSpot(contacts=350).start()
    yield fake
    fake.stop()


@pytest.fixture
def setup(db, hubspot):
    org = make_org(db)
    conn = make_connection(
        db,
        org,
        "hubspot",
        base_url=hubspot.url,
        token="pat-good",
        name="CRM",
        settings={"retry_backoff": 0.01},
    )
    return org, conn


def test_full_sync_maps_every_contact(db, hubspot, setup):
    org, conn = setup
    run = run_sync(conn, "contacts")
    assert (run.status, run.processed, run.created, run.updated, run.failed) == (
        "success",
        350,
        350,
        0,
        0,
    )
    assert run.stats["pages"] == 4 and run.stats["requests"] == 4
    assert count_rows(db, Contact, org) == 350
    with db.session() as s:
        contact = s.scalar(select(Contact).where(Contact.external_id == "1007"))
        assert (contact.first_name, contact.last_name, contact.email) == (
            "First7",
            "Last7",
            "person7@example.com",
        )
        assert contact.lifecycle_stage == "lead" and contact.source == "hubspot"
        assert contact.raw["properties"]["company"] == "Company 7"


def test_incremental_sync_brings_only_what_changed(db, hubspot, setup):
    org, conn = setup
    run_sync(conn, "contacts")
    for record_id in ("1001", "1002", "1003"):
        hubspot.modify("contacts", record_id, lifecyclestage="customer")
    hubspot.add_contacts(2)
    hubspot.log.clear()
    run = run_sync(conn, "contacts")
    assert run.status == "success"
    assert (run.created, run.updated) == (2, 3)
    # the search re-reads the newest record it already had (GTE), and counts it unchanged
    assert run.processed == run.created + run.updated + run.unchanged
    assert run.unchanged <= 1
    assert [r.path for r in hubspot.log] == ["/crm/v3/objects/contacts/search"]
    assert hubspot.log[0].body["filterGroups"][0]["filters"][0]["operator"] == "GTE"
    assert count_rows(db, Contact, org) == 352
    with db.session() as s:
        assert (
            s.scalar(select(Contact.lifecycle_stage).where(Contact.external_id == "1002"))
            == "customer"
        )


def test_search_restarts_at_the_ceiling(db, hubspot):
    org = make_org(db)
    conn = make_connection(
        db, org, "hubspot", base_url=hubspot.url, token="pat-good", settings={"search_limit": 100}
    )
    hubspot.search_ceiling = 100
    run = run_sync(conn, "contacts", since="2023-12-31")
    assert run.status == "success", run.error
    # the record at each restart's boundary is served again and skipped by id
    assert (run.processed, run.created) == (350, 350)
    assert count_rows(db, Contact, org) == 350
    searches = [r for r in hubspot.log if r.path.endswith("/search")]
    assert sum(1 for r in searches if r.body["after"] == "0") >= 4
    assert hubspot.rejected == []


# One backend: the ceiling is the connector's paging; the upserts are tested on both elsewhere.
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_incremental_sync_across_the_10k_ceiling_lands_every_record_once(db):
    """12,600 records modified in groups of 7 that share a millisecond: a search window
    ends inside such a group, and the next one starts at that moment again."""
    hubspot = FakeHubSpot(contacts=12_600).start()
    try:
        org = make_org(db)
        conn = make_connection(
            db, org, "hubspot", base_url=hubspot.url, token="pat-good", settings=QUICK
        )
        since = hubspot.clock
        ids = [r["id"] for r in hubspot.objects["contacts"]]
        hubspot.touch("contacts", ids, per_tick=7, lifecyclestage="customer")
        hubspot.log.clear()
        run = run_sync(conn, "contacts", since=since.isoformat(), batch_size=1000)
        assert run.status == "success", run.error
        assert (run.processed, run.created, run.failed) == (12_600, 12_600, 0)
        assert count_rows(db, Contact, org) == 12_600
        assert hubspot.rejected == []
        bodies = [r.body for r in hubspot.log]
        restarts = [b for b in bodies if b["after"] == "0"]
        assert len(restarts) == 2  # one window of 10,000, then the rest
        floors = [int(b["filterGroups"][0]["filters"][0]["value"]) for b in restarts]
        assert floors[1] > floors[0]
        # every cursor went back exactly as HubSpot issued it
        assert all(not b["after"].isdigit() for b in bodies if b["after"] != "0")
    finally:
        hubspot.stop()


def test_more_records_than_the_ceiling_at_one_moment_are_read_by_id(db, hubspot):
    org = make_org(db)
    conn = make_connection(
        db,
        org,
        "hubspot",
        base_url=hubspot.url,
        token="pat-good",
        settings=QUICK | {"search_limit": 50},
    )
    hubspot.search_ceiling = 50
    since = hubspot.clock
    ids = [r["id"] for r in hubspot.objects["contacts"]]
    hubspot.touch("contacts", ids, per_tick=120)  # 120, 120 and 110 records per millisecond
    run = run_sync(conn, "contacts", since=since.isoformat())
    assert run.status == "success", run.error
    assert (run.processed, run.created) == (350, 350)
    assert hubspot.rejected == []
    sorts = {tuple(r.body["sorts"]) for r in hubspot.log if r.path.endswith("/search")}
    assert sorts == {("lastmodifieddate",), ("hs_object_id",)}


def test_a_search_hubspot_did_not_sort_is_not_continued_past_the_ceiling(db, hubspot):
    """Narrowing at the ceiling needs the order asked for; without it the run stops, loudly."""
    org = make_org(db)
    conn = make_connection(
        db,
        org,
        "hubspot",
        base_url=hubspot.url,
        token="pat-good",
        settings=QUICK | {"search_limit": 100},
    )
    hubspot.search_ceiling = 100
    hubspot.sorts_ignored = True
    since = hubspot.clock
    ids = [r["id"] for r in hubspot.objects["contacts"]]
    hubspot.touch("contacts", list(reversed(ids)))  # the newest first in id order
    run = run_sync(conn, "contacts", since=since.isoformat())
    assert run.status == "failed"
    assert run.error == (
        "HubSpot did not sort the contacts search by lastmodifieddate, so it cannot be "
        "continued past 100 results; run a full sync (--full) instead"
    )


def test_archived_records_are_skipped(db, hubspot, setup):
    org, conn = setup
    hubspot.archived_in_search = True
    run_sync(conn, "contacts")
    hubspot.archive("contacts", "1005")
    hubspot.modify("contacts", "1006", phone="+15550001111")
    run = run_sync(conn, "contacts")
    assert run.status == "success", run.error
    assert run.updated == 1 and run.failed == 0
    # a full read asks for active records only; an archived one never lands
    hubspot.archive("contacts", "1007")
    other = make_org(db, "Other")
    fresh = make_connection(db, other, "hubspot", base_url=hubspot.url, token="pat-good")
    full = run_sync(fresh, "contacts")
    assert full.created == 348 and count_rows(db, Contact, other) == 348
    assert all(r.query.get("archived") == "false" for r in hubspot.log if r.method == "GET")


def test_the_fake_refuses_what_the_published_spec_does_not_allow(hubspot):
    """What the connector used to send, and the spec's limits, are answered 400 like HubSpot."""
    import requests

    auth = {"Authorization": "Bearer pat-good"}
    search = f"{hubspot.url}/crm/v3/objects/contacts/search"
    old_body = {
        "filterGroups": [
            {"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": "0"}]}
        ],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["email"],
        "limit": 100,
    }
    answer = requests.post(search, json=old_body, headers=auth, timeout=5)
    assert answer.status_code == 400
    assert set(answer.json()) == {"status", "message", "correlationId", "category"}
    assert answer.json()["category"] == "VALIDATION_ERROR"
    assert "after" in answer.json()["message"]
    spec_body = old_body | {"after": "0", "sorts": ["lastmodifieddate"]}
    first = requests.post(search, json=spec_body, headers=auth, timeout=5).json()
    cursor = first["paging"]["next"]["after"]
    assert first["total"] == 350 and not cursor.isdigit()
    for bad in (
        spec_body | {"after": "100"},  # an offset is not a cursor
        spec_body | {"limit": 201},
        spec_body | {"sorts": [{"propertyName": "email"}]},
        spec_body | {"after": cursor, "sorts": ["email"]},  # another query's cursor
    ):
        assert requests.post(search, json=bad, headers=auth, timeout=5).status_code == 400
    assert requests.post(search, json=spec_body | {"after": cursor}, headers=auth, timeout=5).ok
    listing = f"{hubspot.url}/crm/v3/objects/contacts"
    assert requests.get(listing, params={"limit": 101}, headers=auth, timeout=5).status_code == 400
    hubspot.search_ceiling = 200
    page = requests.post(search, json=spec_body | {"limit": 200}, headers=auth, timeout=5).json()
    beyond = spec_body | {"limit": 200, "after": page["paging"]["next"]["after"]}
    refused = requests.post(search, json=beyond, headers=auth, timeout=5)
    assert refused.status_code == 400 and "limited to 200" in refused.json()["message"]
    assert len(hubspot.rejected) == 7


def test_rate_limits_answered_with_hubspots_body_are_waited_out(db, hubspot, setup):
    org, conn = setup
    hubspot.rate_limit_next(3)
    run = run_sync(conn, "contacts")
    assert run.status == "success"
    assert run.stats["retries"] == 3
    assert count_rows(db, Contact, org) == 350


def test_dry_run_writes_nothing(db, hubspot, setup):
    org, conn = setup
    run = run_sync(conn, "contacts", dry_run=True)
    assert (run.status, run.processed, run.created) == ("success", 350, 350)
    assert count_rows(db, Contact, org) == 0


def test_max_records(db, hubspot, setup):
    org, conn = setup
    run = run_sync(conn, "contacts", max_records=120, batch_size=50)
    assert (run.processed, run.created) == (120, 120)
    assert count_rows(db, Contact, org) == 120


def test_429_and_500_storm_is_survived_and_recorded(db, hubspot, setup):
    org, conn = setup
    hubspot.fail_next(5, 429, retry_after=0)
    hubspot.fail_next(1, 500)
    hubspot.truncate_next(1)
    run = run_sync(conn, "contacts")
    assert run.status == "success"
    assert run.stats["retries"] == 7
    assert count_rows(db, Contact, org) == 350


def test_malformed_records_make_the_run_partial(db, hubspot, setup):
    org, conn = setup
    hubspot.add_raw(
        "contacts",
        {
            "id": "bad-1",
            "properties": {"email": "not-an-email"},
            "updatedAt": "2024-02-01T00:00:00Z",
        },
    )
    hubspot.add_raw("contacts", {"id": "bad-2", "updatedAt": "2024-02-01T00:00:00Z"})
    hubspot.add_raw("contacts", {"properties": {}, "updatedAt": "2024-02-01T00:00:00Z"})
    hubspot.add_raw("contacts", {"id": "bad-3", "properties": {}, "updatedAt": "yesterday"})
    run = run_sync(conn, "contacts")
    assert run.status == "partial"
    assert (run.created, run.failed) == (350, 4)
    reasons = {sample["record"]: sample["reason"] for sample in run.error_samples}
    assert reasons["bad-1"] == "email 'not-an-email' is not an email address"
    assert reasons["bad-2"] == "record has no properties object"
    assert reasons[None] == "missing 'id'"
    assert "is not a date" in reasons["bad-3"]
    assert count_rows(db, Contact, org) == 350


def test_wrong_token_fails_saying_so(db, hubspot):
    org = make_org(db)
    conn = make_connection(db, org, "hubspot", base_url=hubspot.url, token="pat-wrong")
    run = run_sync(conn, "contacts")
    assert run.status == "failed"
    assert run.error == "token rejected (401)"
    assert count_rows(db, Contact, org) == 0


def test_unreachable_api_fails_saying_so(db):
    org = make_org(db)
    quick = {"max_retries": 1, "retry_backoff": 0.01}
    conn = make_connection(
        db, org, "hubspot", base_url=f"http://127.0.0.1:{free_port()}", token="x", settings=quick
    )
    run = run_sync(conn, "contacts")
    assert run.status == "failed"
    assert run.error.startswith("cannot reach 127.0.0.1:") and run.error.endswith(
        "connection refused"
    )
    assert run.stats["retries"] == 1


def test_test_connection_messages(hubspot):
    from connectors.base import RetryPolicy

    good = HubSpotConnector(base_url=hubspot.url, credentials={"token": "pat-good"})
    assert good.test_connection() == "Connected to HubSpot: token accepted, contacts are readable."
    with pytest.raises(AuthError, match=r"token rejected \(401\)"):
        HubSpotConnector(base_url=hubspot.url, credentials={"token": "nope"}).test_connection()
    closed = HubSpotConnector(
        base_url=f"http://127.0.0.1:{free_port()}",
        credentials={"token": "x"},
        retry=RetryPolicy(max_retries=0),
    )
    with pytest.raises(UnreachableError, match="connection refused"):
        closed.test_connection()


def test_a_rerun_never_duplicates(db, hubspot, setup):
    org, conn = setup
    for _ in range(3):
        run_sync(conn, "contacts", full=True)
    with db.session() as s:
        keys = s.execute(
            select(Contact.external_id, func.count())
            .where(Contact.org_id == org)
            .group_by(Contact.external_id)
        ).all()
    assert len(keys) == 350 and all(n == 1 for _k, n in keys)


def test_force_overwrites_unchanged_rows(db, hubspot, setup):
    org, conn = setup
    run_sync(conn, "contacts")
    again = run_sync(conn, "contacts", full=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 350)
    forced = run_sync(conn, "contacts", full=True, force=True)
    assert (forced.created, forced.updated, forced.unchanged) == (0, 350, 0)


def test_an_older_version_never_overwrites_a_newer_one(db, hubspot, setup):
    org, conn = setup
    from datetime import UTC, datetime

    from models.upserts import upsert_batch

    newer = datetime(2025, 1, 2, tzinfo=UTC)
    older = datetime(2025, 1, 1, tzinfo=UTC)
    with db.session() as s:
        first = upsert_batch(
            s,
            "contacts",
            org,
            "hubspot",
            [
                {"external_id": "x1", "first_name": "New", "updated_at": newer},
                {"external_id": "x1", "first_name": "Old", "updated_at": older},
            ],
        )
        s.commit()
        second = upsert_batch(
            s,
            "contacts",
            org,
            "hubspot",
            [{"external_id": "x1", "first_name": "Old", "updated_at": older}],
        )
        s.commit()
        assert (first.created, first.stale) == (1, 1)
        assert (second.created, second.updated, second.stale) == (0, 0, 1)
        assert s.scalar(select(Contact.first_name).where(Contact.external_id == "x1")) == "New"


def test_incremental_with_only_edits_creates_nothing(db, hubspot, setup):
    org, conn = setup
    run_sync(conn, "contacts")
    for record_id in ("1010", "1020", "1030"):
        hubspot.modify("contacts", record_id, phone="+15550000000")
    run = run_sync(conn, "contacts")
    assert (run.status, run.created, run.updated) == ("success", 0, 3)
    assert run.unchanged == run.processed - 3


def test_debug_keeps_a_log_with_the_run(db, hubspot, setup):
    org, conn = setup
    hubspot.fail_next(1, 503, retry_after=0)
    run = run_sync(conn, "contacts", debug=True, max_records=150)
    log = run.debug_log
    assert "GET " in log and "/crm/v3/objects/contacts" in log
    assert "retry 1 in 0.00s" in log and "HTTP 503" in log
    assert "batch 150 contacts: +150" in log
    quiet = run_sync(conn, "contacts", full=True, max_records=10)
    assert quiet.debug_log is None
