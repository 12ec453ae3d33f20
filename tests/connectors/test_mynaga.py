"""MyNaga over real HTTP against the fake, through the real engine, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from connectors.base import AuthError, ConnectorError, RetryPolicy, UnreachableError
from connectors.mynaga import MyNagaConnector
from models.records import Case, CaseStatusChange, Cluster, Office, Tag, case_tags
from models.sync import SyncState
from tests.conftest import free_port
from tests.fakes.mynaga import FakeMyNaga, parse
from tests.helpers import count_rows, make_connection, make_org, run_sync


@pytest.fixture
def mynaga():
    fake = FakeMyNaga(reports=350).start()
    yield fake
    fake.stop()


@pytest.fixture
def setup(db, mynaga):
    org = make_org(db)
    conn = make_connection(
        db,
        org,
        "mynaga",
        base_url=mynaga.url,
        token="mn-good",
        name="MyNaga",
        settings={"retry_backoff": 0.01},
    )
    return org, conn


def utc(text: str) -> datetime:
    return parse(text).astimezone(UTC)


def zulu(text: str) -> str:
    return utc(text).isoformat().replace("+00:00", "Z")


def case(s, external_id: str) -> Case:
    return s.scalar(select(Case).where(Case.external_id == external_id))


def tag_names(s, case_id: int) -> set[str]:
    return set(
        s.scalars(
            select(Tag.name)
            .join(case_tags, case_tags.c.tag_id == Tag.id)
            .where(case_tags.c.case_id == case_id)
        )
    )


def reports_requests(fake: FakeMyNaga) -> list[dict]:
    return [r.query for r in fake.log if r.path == "/reports"]


def test_full_sync_maps_reports_to_cases(db, mynaga, setup):
    org, conn = setup
    run = run_sync(conn, "reports")
    assert (run.status, run.processed, run.created, run.updated, run.failed) == (
        "success",
        350,
        350,
        0,
        0,
    )
    assert run.total == 350
    assert count_rows(db, Case, org) == 350
    with db.session() as s:
        # report 9: in progress, Traffic office in the Public Safety cluster, two tags
        r9 = mynaga.get(9)
        c9 = case(s, "9")
        assert (c9.title, c9.status, c9.category, c9.source) == (
            "Report 9: traffic problem",
            "in_progress",
            "Traffic",
            "mynaga",
        )
        assert c9.description == "Citizen description of problem 9."
        assert s.get(Office, c9.office_id).name == "Traffic Management Office"
        assert s.get(Cluster, c9.cluster_id).name == "Public Safety"
        assert s.get(Office, c9.office_id).cluster_id == c9.cluster_id
        assert tag_names(s, c9.id) == {"streetlight", "noise"}
        assert (c9.reporter_name, c9.reporter_phone) == ("Juan Dela Cruz 9", "+639170000009")
        assert c9.address == "9 Rizal St., Concepcion Pequeña"
        assert (c9.latitude, c9.longitude) == (13.629, 123.189)
        # +08:00 in the API, the same instant in UTC here
        assert r9["updated_at"].endswith("+08:00")
        assert c9.reported_at == utc(r9["created_at"])
        assert c9.updated_at == utc(r9["updated_at"]) and c9.resolved_at is None
        assert c9.raw["reference_no"] == "NC-2024-000009" and c9.raw["channel"] == "app"
        # submitted → new
        c7 = case(s, "7")
        assert (c7.status, s.get(Office, c7.office_id).name) == ("new", "Public Safety Office")
        # anonymous: no reporter; no street: the barangay alone
        c10 = case(s, "10")
        assert (c10.status, c10.reporter_name, c10.reporter_phone) == ("resolved", None, None)
        assert c10.address == "Dinaga" and c10.raw["anonymous"] is True
        assert c10.resolved_at == utc(mynaga.get(10)["resolved_at"])
        # duplicate → rejected; closed stays closed; no tags, no case_tags rows
        assert (case(s, "6").status, case(s, "4").status) == ("rejected", "closed")
        assert tag_names(s, case(s, "12").id) == set()
        assert s.scalar(select(func.count()).select_from(case_tags)) == sum(
            len(r["tags"]) for r in mynaga.reports
        )
        # every new case starts its status history
        first = s.scalars(select(CaseStatusChange).where(CaseStatusChange.case_id == c9.id)).one()
        assert (first.from_status, first.to_status, first.changed_at) == (
            None,
            "in_progress",
            c9.reported_at,
        )
        assert s.scalar(select(func.count()).select_from(CaseStatusChange)) == 350
        cursor = s.scalar(select(SyncState.cursor).where(SyncState.connection_id == conn.id))
        assert cursor == utc(mynaga.get(350)["updated_at"]).isoformat()


def test_paging_walks_more_than_three_pages_by_updated_since(db, mynaga, setup):
    _org, conn = setup
    run = run_sync(conn, "reports")
    assert run.stats["pages"] == 4 and run.stats["requests"] == 4
    queries = reports_requests(mynaga)
    assert all(
        (q["page"], q["per_page"], q["sort"], q["order"]) == ("1", "100", "updated_at", "asc")
        for q in queries
    )
    assert "updated_since" not in queries[0]
    # each next page starts at the newest updated_at of the page before (inclusive, so
    # that report comes again first and is dropped: 100 + 99 + 99 + 52 reports)
    assert [q["updated_since"] for q in queries[1:]] == [
        zulu(mynaga.get(n)["updated_at"]) for n in (100, 199, 298)
    ]
    assert run.processed == 350 and run.unchanged == 0


def test_page_numbers_advance_within_one_instant(db, mynaga):
    """250 reports saved in the same second: page 2 and 3 of that instant are read too."""
    org = make_org(db)
    conn = make_connection(db, org, "mynaga", base_url=mynaga.url, token="mn-good")
    mynaga.reports.clear()
    mynaga.add_reports(250, same_instant=True)
    run = run_sync(conn, "reports")
    assert (run.status, run.processed, run.created, run.unchanged) == ("success", 250, 250, 0)
    stamp = zulu(mynaga.get(1)["updated_at"])
    assert [(q["page"], q.get("updated_since")) for q in reports_requests(mynaga)] == [
        ("1", None),
        ("1", stamp),
        ("2", stamp),
        ("3", stamp),
    ]
    assert count_rows(db, Case, org) == 250


def test_a_report_edited_mid_sync_skips_nothing(db, mynaga, setup):
    """An edit moves a report to the end; plain page numbers would then skip report 101."""
    org, conn = setup

    def edit_once(request):
        if "updated_since" not in request.query:
            mynaga.modify(5, title="Edited while syncing")

    mynaga.on_reports = edit_once
    run = run_sync(conn, "reports")
    assert run.status == "success", run.error
    assert (run.processed, run.created) == (351, 350)
    assert count_rows(db, Case, org) == 350
    with db.session() as s:
        assert case(s, "5").title == "Edited while syncing"
        assert case(s, "101") is not None


def test_incremental_sync_brings_only_what_changed(db, mynaga, setup):
    org, conn = setup
    run_sync(conn, "reports")
    newest = mynaga.get(350)["updated_at"]
    for report_id in (11, 12, 13):
        mynaga.modify(report_id, description=f"More detail on {report_id}")
    mynaga.add_reports(2)
    mynaga.log.clear()
    run = run_sync(conn, "reports")
    assert run.status == "success", run.error
    # updated_since is inclusive: report 350 (the cursor) comes again, unchanged
    assert (run.processed, run.created, run.updated, run.unchanged, run.failed) == (
        6,
        2,
        3,
        1,
        0,
    )
    assert [q["updated_since"] for q in reports_requests(mynaga)] == [zulu(newest)]
    assert count_rows(db, Case, org) == 352
    with db.session() as s:
        assert case(s, "12").description == "More detail on 12"
        assert case(s, "352").title == "Report 352: safety problem"
        assert case(s, "14").description == "Citizen description of problem 14."


def test_offices_clusters_and_tags_are_created_once_and_reused(db, mynaga, setup):
    org, conn = setup
    run_sync(conn, "reports")
    expected = (5, 4, 6)
    counts = lambda: (  # noqa: E731
        count_rows(db, Office, org),
        count_rows(db, Cluster, org),
        count_rows(db, Tag, org),
    )
    assert counts() == expected
    mynaga.modify(
        20, tags=["pothole", "noise"], office="Public Safety Office", cluster="Public Safety"
    )
    mynaga.add_reports(3)
    incremental = run_sync(conn, "reports")
    again = run_sync(conn, "reports", full=True)
    assert (incremental.status, again.status) == ("success", "success")
    assert again.unchanged == 353
    assert counts() == expected
    with db.session() as s:
        offices = {o.name: o for o in s.scalars(select(Office).where(Office.org_id == org))}
        clusters = {c.id: c.name for c in s.scalars(select(Cluster).where(Cluster.org_id == org))}
        assert clusters[offices["Traffic Management Office"].cluster_id] == "Public Safety"
        assert clusters[offices["City Health Office"].cluster_id] == "Health"
        assert (
            offices["Public Safety Office"].cluster_id
            == offices["Traffic Management Office"].cluster_id
        )
        c20 = case(s, "20")
        assert c20.office_id == offices["Public Safety Office"].id
        assert tag_names(s, c20.id) == {"pothole", "noise"}


def test_tag_changes_rewrite_case_tags(db, mynaga, setup):
    _org, conn = setup
    run_sync(conn, "reports")
    with db.session() as s:
        assert tag_names(s, case(s, "9").id) == {"streetlight", "noise"}
    mynaga.modify(9, tags=["garbage", "noise", "new-tag"])
    mynaga.modify(12, tags=["flooding"])  # had none
    mynaga.modify(11, tags=[])  # had two
    run = run_sync(conn, "reports")
    assert (run.updated, run.failed) == (3, 0)
    with db.session() as s:
        assert tag_names(s, case(s, "9").id) == {"garbage", "noise", "new-tag"}
        assert tag_names(s, case(s, "12").id) == {"flooding"}
        assert tag_names(s, case(s, "11").id) == set()
        assert s.scalar(select(func.count()).select_from(Tag).where(Tag.name == "new-tag")) == 1


def test_a_status_change_is_recorded(db, mynaga, setup):
    _org, conn = setup
    run_sync(conn, "reports")
    mynaga.modify(7, status="acknowledged")  # submitted → acknowledged
    mynaga.modify(14, status="duplicate")  # submitted → rejected
    mynaga.modify(15, description="no status change")
    run = run_sync(conn, "reports")
    assert run.updated == 3
    with db.session() as s:
        c7 = case(s, "7")
        changes = s.scalars(
            select(CaseStatusChange)
            .where(CaseStatusChange.case_id == c7.id)
            .order_by(CaseStatusChange.id)
        ).all()
        assert [(c.from_status, c.to_status) for c in changes] == [
            (None, "new"),
            ("new", "acknowledged"),
        ]
        assert changes[1].changed_at == utc(mynaga.get(7)["updated_at"])
        assert c7.status == "acknowledged"
        c14 = case(s, "14")
        assert (c14.status, c14.raw["status"]) == ("rejected", "duplicate")
        c15 = case(s, "15")
        assert (
            s.scalar(
                select(func.count())
                .select_from(CaseStatusChange)
                .where(CaseStatusChange.case_id == c15.id)
            )
            == 1
        )
        assert s.scalar(select(func.count()).select_from(CaseStatusChange)) == 352


def test_dry_run_writes_nothing(db, mynaga, setup):
    org, conn = setup
    run = run_sync(conn, "reports", dry_run=True)
    assert (run.status, run.processed, run.created, run.failed) == ("success", 350, 350, 0)
    assert [count_rows(db, m, org) for m in (Case, Office, Cluster, Tag)] == [0, 0, 0, 0]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(CaseStatusChange)) == 0
        assert s.scalar(select(SyncState.cursor).where(SyncState.connection_id == conn.id)) is None
    real = run_sync(conn, "reports")
    assert (real.created, count_rows(db, Case, org)) == (350, 350)


def test_max_records_stops_early_and_resumes_from_there(db, mynaga, setup):
    org, conn = setup
    run = run_sync(conn, "reports", max_records=120, batch_size=50)
    assert (run.status, run.processed, run.created) == ("success", 120, 120)
    assert count_rows(db, Case, org) == 120
    # pages of 50: the connector stopped after the third instead of reading all 7
    assert len(reports_requests(mynaga)) == 3
    with db.session() as s:
        cursor = s.scalar(select(SyncState.cursor).where(SyncState.connection_id == conn.id))
    assert cursor == utc(mynaga.get(120)["updated_at"]).isoformat()
    rest = run_sync(conn, "reports")
    assert (rest.created, rest.unchanged) == (230, 1)
    assert count_rows(db, Case, org) == 350


def test_429_storm_is_survived_and_recorded(db, mynaga, setup):
    org, conn = setup
    mynaga.fail_next(5, 429, retry_after=0)
    mynaga.fail_next(1, 500)
    mynaga.truncate_next(1)
    run = run_sync(conn, "reports")
    assert (run.status, run.created) == ("success", 350)
    assert run.stats["retries"] == 7
    assert run.stats["requests"] == 4 + 6 + 1  # 4 pages, 6 failed answers, 1 truncated
    assert count_rows(db, Case, org) == 350


def test_malformed_reports_make_the_run_partial(db, mynaga, setup):
    org, conn = setup
    good = mynaga.make_report(900, mynaga.tick())
    mynaga.add_raw(good | {"id": 901, "status": "archived"})
    mynaga.add_raw(good | {"id": 902, "latitude": 123.4, "office": "Ghost Office"})
    mynaga.add_raw(good | {"id": 903, "title": "  "})
    mynaga.add_raw({k: v for k, v in good.items() if k != "id"})
    mynaga.add_raw(good | {"id": 904, "created_at": "last tuesday"})
    mynaga.add_raw(good | {"id": 905, "tags": "flooding"})
    mynaga.add_raw(good | {"id": 906, "longitude": None})
    mynaga.add_raw(good | {"id": 907, "longitude": "east"})
    run = run_sync(conn, "reports")
    assert run.status == "partial"
    assert (run.processed, run.created, run.failed) == (358, 350, 8)
    reasons = {sample["record"]: sample["reason"] for sample in run.error_samples}
    assert reasons == {
        "901": "unknown status 'archived'",
        "902": "latitude 123.4 is outside -90..90",
        "903": "title is missing",
        None: "missing 'id'",
        "904": "created_at 'last tuesday' is not a date",
        "905": "tags must be a list of strings, not 'flooding'",
        "906": "latitude and longitude must be given together",
        "907": "longitude 'east' is not a number",
    }
    assert {sample["stream"] for sample in run.error_samples} == {"reports"}
    assert count_rows(db, Case, org) == 350
    with db.session() as s:
        # a rejected report leaves no office behind
        assert s.scalar(select(Office.id).where(Office.name == "Ghost Office")) is None


def test_wrong_token_fails_saying_so(db, mynaga):
    org = make_org(db)
    conn = make_connection(db, org, "mynaga", base_url=mynaga.url, token="mn-wrong")
    run = run_sync(conn, "reports")
    assert run.status == "failed"
    assert run.error == "token rejected (401)"
    assert run.stats["retries"] == 0
    assert count_rows(db, Case, org) == 0


def test_a_server_ignoring_updated_since_stops_the_run(db, mynaga, setup):
    org, conn = setup
    mynaga.ignore_updated_since = True
    run = run_sync(conn, "reports", batch_size=100)
    assert run.status == "failed"
    assert "ignored updated_since=" in run.error and "must filter by it" in run.error
    assert len(reports_requests(mynaga)) == 2
    assert count_rows(db, Case, org) == 100  # the first page was committed before


def test_the_placeholder_base_url_is_refused(db, mynaga):
    org = make_org(db)
    conn = make_connection(db, org, "mynaga", token="mn-good")
    run = run_sync(conn, "reports")
    assert run.status == "failed"
    assert run.error.startswith("MyNaga has no public server: set the connection's base URL")
    assert run.stats["requests"] == 0
    with pytest.raises(ConnectorError, match="no public server"):
        MyNagaConnector(credentials={"token": "mn-good"}).test_connection()


def test_test_connection_messages(mynaga):
    good = MyNagaConnector(base_url=mynaga.url, credentials={"token": "mn-good"})
    assert good.test_connection() == "Connected to MyNaga as Integration Bot (City Mayor's Office)"
    assert mynaga.log[-1].path == "/me"
    assert mynaga.log[-1].headers["authorization"] == "Bearer mn-good"
    mynaga.me = {"name": "Desk Officer", "office": None}
    assert good.test_connection() == "Connected to MyNaga as Desk Officer"
    with pytest.raises(AuthError, match=r"token rejected \(401\)"):
        MyNagaConnector(base_url=mynaga.url, credentials={"token": "nope"}).test_connection()
    closed = MyNagaConnector(
        base_url=f"http://127.0.0.1:{free_port()}/api/v1",
        credentials={"token": "mn-good"},
        retry=RetryPolicy(max_retries=0),
    )
    with pytest.raises(
        UnreachableError, match=r"cannot reach 127\.0\.0\.1:\d+: connection refused"
    ):
        closed.test_connection()
