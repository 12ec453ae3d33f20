"""CallRail over real HTTP against the fake, through the real engine, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from connectors.base import AuthError, ConnectorError, ReadRequest, RetryPolicy, UnreachableError
from connectors.callrail import CallRailConnector
from models.orgs import Organization, PhoneNumber
from models.records import Call
from models.sync import SyncState
from models.users import add_membership, create_user
from tests.conftest import free_port
from tests.fakes.callrail import ACCOUNT_ID, NUMERIC_ID, FakeCallRail, call_id, tracker_id
from tests.helpers import count_rows, make_connection, make_org, run_sync

#: The fake's calls are from March 2024; a full read starts where the settings say.
SETTINGS = {"account_id": ACCOUNT_ID, "retry_backoff": 0.01, "start_date": "2024-03-01"}


@pytest.fixture
def callrail():
    fake = FakeCallRail(calls=350).start()
    yield fake
    fake.stop()


def connect(db, org, fake, *, token="cr-good-key", **settings):
    return make_connection(
        db,
        org,
        "callrail",
        base_url=fake.url + "/v3",
        token=token,
        name="Call tracking",
        settings=SETTINGS | settings,
    )


@pytest.fixture
def setup(db, callrail):
    org = make_org(db)
    return org, connect(db, org, callrail)


def call_row(s, n: int) -> Call:
    return s.scalar(select(Call).where(Call.external_id == call_id(n)))


def call_requests(fake) -> list:
    return [r for r in fake.log if r.path.endswith("/calls.json")]


def test_full_sync_maps_every_call(db, callrail, setup):
    org, conn = setup
    with db.session() as s:
        dana = create_user(s, "dana@example.com", "pw-123456789")
        add_membership(s, dana, s.get(Organization, org), "agent")
        s.commit()
        dana_id = dana.id
    run = run_sync(conn, "calls", batch_size=100)
    assert (run.status, run.processed, run.created, run.updated, run.failed) == (
        "success",
        350,
        350,
        0,
        0,
    )
    assert run.total is None  # relative pagination tells no totals
    assert run.stats["pages"] == 4 and run.stats["requests"] == 4
    first = call_requests(callrail)[0]
    assert first.path == f"/v3/a/{ACCOUNT_ID}/calls.json"
    assert first.headers["authorization"] == 'Token token="cr-good-key"'
    assert first.query == {
        "relative_pagination": "true",
        "sort": "start_time",
        "order": "asc",
        "start_date": "2024-03-01T00:00:00Z",
        "per_page": "100",
        "fields": "agent_email,source_name",
    }
    # the rest follow next_page as CallRail wrote it, never a page number
    assert [r.query.get("offset") for r in call_requests(callrail)] == [None, "1", "2", "3"]
    assert all("page" not in r.query for r in call_requests(callrail))
    assert count_rows(db, Call, org) == 350
    with db.session() as s:
        answered = call_row(s, 0)  # inbound, answered by dana on the Google Ads number
        assert (answered.direction, answered.status) == ("inbound", "answered")
        assert (answered.from_number, answered.to_number) == ("+16785550000", "+14045551001")
        # 00:10 in New York before DST (-05:00) is 05:10 UTC
        assert answered.started_at == datetime(2024, 3, 9, 5, 10, tzinfo=UTC)
        assert answered.ended_at == answered.started_at + timedelta(seconds=60)
        assert answered.duration_seconds == 60
        assert answered.recording_url.endswith(f"/calls/{call_id(0)}/recording.json")
        assert answered.agent_id == dana_id
        assert answered.source == "callrail"
        assert answered.raw["customer_name"] == "Customer 0"
        line = s.get(PhoneNumber, answered.phone_number_id)
        assert (line.number, line.label) == ("+14045551001", "Google Ads")

        assert call_row(s, 1).agent_id is None  # eli@ is not a member of this organisation
        voicemail = call_row(s, 3)
        assert (voicemail.status, voicemail.duration_seconds, voicemail.recording_url) == (
            "voicemail",
            20,
            None,
        )
        assert call_row(s, 4).status == "missed"
        outbound = call_row(s, 6)  # the customer sees the tracking number as the caller id
        assert outbound.direction == "outbound"
        assert (outbound.from_number, outbound.to_number) == ("+14045552001", "+16785550006")
        unfinished = call_row(s, 49)  # duration null
        assert (unfinished.duration_seconds, unfinished.ended_at) == (0, None)
        # after DST: 10:30 in New York (-04:00) is 14:30 UTC
        assert callrail.call(200)["start_time"] == "2024-03-10T10:30:00.000-04:00"
        assert call_row(s, 200).started_at == datetime(2024, 3, 10, 14, 30, tzinfo=UTC)
        # five active tracking numbers rang; each became one phone number of the org
        assert count_rows(db, PhoneNumber, org) == 5
        cursor = s.scalar(select(SyncState.cursor).where(SyncState.connection_id == conn.id))
        assert cursor == "2024-03-11T15:20:00+00:00"


def test_incremental_sync_rereads_the_lookback_window(db, callrail, setup):
    org, conn = setup
    run_sync(conn, "calls", batch_size=100)
    callrail.modify_call(340, answered=False, voicemail=True, recording=None, duration=31)
    callrail.modify_call(345, agent_email="eli@example.com")
    callrail.modify_call(348, recording="https://api.callrail.com/v3/recordings/new.mp3")
    callrail.add_calls(2)
    callrail.log.clear()
    run = run_sync(conn, "calls", batch_size=100)
    assert run.status == "success"
    window_start = datetime(2024, 3, 10, 15, 20, tzinfo=UTC)  # last start_time minus 24 hours
    in_window = callrail.calls_from(window_start)
    assert in_window == 147
    assert (run.processed, run.created, run.updated, run.unchanged, run.failed) == (
        147,
        2,
        3,
        142,
        0,
    )
    requests = call_requests(callrail)
    assert len(requests) == 2
    assert all(r.query["start_date"] == "2024-03-10T15:20:00Z" for r in requests)
    assert all(r.query["sort"] == "start_time" and r.query["order"] == "asc" for r in requests)
    assert count_rows(db, Call, org) == 352
    with db.session() as s:
        changed = call_row(s, 340)
        assert (changed.status, changed.duration_seconds, changed.recording_url) == (
            "voicemail",
            31,
            None,
        )
        assert call_row(s, 348).recording_url == "https://api.callrail.com/v3/recordings/new.mp3"
        assert call_row(s, 351).started_at == datetime(2024, 3, 11, 15, 40, tzinfo=UTC)
        cursor = s.scalar(select(SyncState.cursor).where(SyncState.connection_id == conn.id))
        assert cursor == "2024-03-11T15:40:00+00:00"


def test_a_change_older_than_the_lookback_needs_a_full_sync(db, callrail, setup):
    org, conn = setup
    run_sync(conn, "calls", batch_size=100)
    callrail.modify_call(10, answered=False)
    quick = run_sync(conn, "calls", batch_size=100)
    assert (quick.processed, quick.updated) == (145, 0)
    full = run_sync(conn, "calls", batch_size=100, full=True)
    assert (full.processed, full.created, full.updated, full.unchanged) == (350, 0, 1, 349)
    with db.session() as s:
        assert call_row(s, 10).status == "missed"


def test_lookback_and_start_date_settings(db, callrail):
    org = make_org(db)
    conn = connect(db, org, callrail, lookback_hours=0, start_date="2024-03-11")
    run = run_sync(conn, "calls", batch_size=100)
    expected = callrail.calls_from(datetime(2024, 3, 11, tzinfo=UTC))
    assert expected == 93
    assert (run.status, run.created) == ("success", expected)
    callrail.add_calls(1)
    callrail.log.clear()
    again = run_sync(conn, "calls", batch_size=100)
    # no lookback: only the newest call we hold (start_date is inclusive) and the new one
    assert (again.processed, again.created, again.unchanged) == (2, 1, 1)
    assert call_requests(callrail)[0].query["start_date"] == "2024-03-11T15:20:00Z"


def test_explicit_since_also_looks_back(db, callrail, setup):
    org, conn = setup
    run = run_sync(conn, "calls", batch_size=100, since="2024-03-11")
    assert call_requests(callrail)[0].query["start_date"] == "2024-03-10T00:00:00Z"
    assert run.created == callrail.calls_from(datetime(2024, 3, 10, tzinfo=UTC)) == 237


def test_trackers_become_phone_numbers_one_per_number(db, callrail, setup):
    org, conn = setup
    run = run_sync(conn, "trackers")
    assert (run.status, run.processed, run.created, run.failed) == ("success", 6, 6, 0)
    assert [r.path for r in callrail.log] == [f"/v3/a/{ACCOUNT_ID}/trackers.json"]
    with db.session() as s:
        rows = {
            n.number: (n.label, n.external_id)
            for n in s.scalars(select(PhoneNumber).where(PhoneNumber.org_id == org))
        }
    assert rows == {
        "+14045551001": ("Google Ads", tracker_id(0)),
        "+14045552001": ("Website pool", tracker_id(1)),
        "+14045552002": ("Website pool", tracker_id(1)),
        "+14045552003": ("Website pool", tracker_id(1)),
        "+14045553001": ("Yelp listing", tracker_id(2)),
        "+14045554001": ("Old billboard (disabled)", tracker_id(3)),
    }
    # calls then ring on those very rows: no second copy of a number
    run_sync(conn, "calls", batch_size=100)
    assert count_rows(db, PhoneNumber, org) == 6
    with db.session() as s:
        pool = s.scalar(select(PhoneNumber.id).where(PhoneNumber.number == "+14045552002"))
        assert s.scalar(select(Call.phone_number_id).where(Call.external_id == call_id(2))) == pool


def test_trackers_after_calls_fill_in_the_numbers_calls_created(db, callrail, setup):
    org, conn = setup
    run_sync(conn, "calls", batch_size=100)
    callrail.trackers[0]["name"] = "Google Ads (brand)"
    run = run_sync(conn, "trackers")
    # the disabled tracker's number is new; the five that rang gain their tracker id
    assert (run.created, run.updated, run.unchanged) == (1, 5, 0)
    again = run_sync(conn, "trackers")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    with db.session() as s:
        ads = s.scalar(select(PhoneNumber).where(PhoneNumber.number == "+14045551001"))
        assert (ads.label, ads.external_id) == ("Google Ads (brand)", tracker_id(0))


def test_a_tracker_without_numbers_is_a_record_error(db, callrail, setup):
    org, conn = setup
    callrail.add_tracker("Half set up", [])
    run = run_sync(conn, "trackers")
    assert (run.status, run.created, run.failed) == ("partial", 6, 1)
    assert run.error_samples == [
        {"record": tracker_id(4), "stream": "trackers", "reason": "tracker has no tracking numbers"}
    ]


def test_paging_with_small_pages(db, callrail, setup):
    org, conn = setup
    run = run_sync(conn, "calls", batch_size=40)
    assert (run.status, run.created) == ("success", 350)
    pages = [(r.query.get("offset", "0"), r.query["per_page"]) for r in call_requests(callrail)]
    assert pages == [(str(n), "40") for n in range(9)]
    assert run.stats["pages"] == 9
    assert count_rows(db, Call, org) == 350


def test_per_page_is_capped_at_250(callrail):
    connector = CallRailConnector(
        base_url=callrail.url + "/v3",
        credentials={"token": "cr-good-key"},
        settings={"account_id": ACCOUNT_ID, "start_date": "2024-03-01"},
    )
    pages = list(connector.read(ReadRequest(CallRailConnector.stream("calls"), page_size=1000)))
    assert [len(p.records) for p in pages] == [250, 100]
    assert [r.query["per_page"] for r in callrail.log] == ["250", "250"]


def test_without_a_start_date_the_api_would_answer_30_days_only(callrail):
    """Why a full read always sends start_date: the fake, like CallRail, defaults to a window."""
    connector = CallRailConnector(
        base_url=callrail.url + "/v3", credentials={"token": "cr-good-key"}
    )
    body = connector.client.get_json(f"a/{ACCOUNT_ID}/calls.json", {"per_page": 10})
    assert (body["total_records"], body["calls"]) == (0, [])


def test_a_full_read_starts_within_the_25_months_callrail_keeps(db):
    """The old default, 2011-01-01, is refused by CallRail's retention window."""
    now = datetime.now(UTC)
    fake = FakeCallRail(calls=5, now=now).start()
    try:
        org = make_org(db)
        settings = {k: v for k, v in SETTINGS.items() if k != "start_date"}
        conn = make_connection(
            db, org, "callrail", base_url=fake.url + "/v3", token="cr-good-key", settings=settings
        )
        run = run_sync(conn, "calls")
        assert run.status == "success", run.error
        start = datetime.fromisoformat(call_requests(fake)[0].query["start_date"])
        assert now - timedelta(days=25 * 31) < start < now - timedelta(days=24 * 30)
        old = make_connection(
            db,
            org,
            "callrail",
            name="Since the beginning",
            base_url=fake.url + "/v3",
            token="cr-good-key",
            settings=SETTINGS | {"start_date": "2011-01-01"},
        )
        refused = run_sync(old, "calls")
        assert refused.status == "failed"
        assert refused.error == (
            "CallRail refused the calls query from 2011-01-01 (HTTP 400): it keeps calls for "
            "25 months, so start_date must be more recent than that"
        )
    finally:
        fake.stop()


def test_the_fake_keeps_relative_and_offset_pagination_apart(callrail):
    import requests

    url = f"{callrail.url}/v3/a/{ACCOUNT_ID}/calls.json"
    auth = {"Authorization": 'Token token="cr-good-key"'}
    base = {"start_date": "2024-03-01", "per_page": 100}
    mixed = requests.get(
        url, params=base | {"relative_pagination": "true", "page": 2}, headers=auth
    )
    assert mixed.status_code == 400 and "error" in mixed.json()
    assert requests.get(url, params=base | {"offset": 1}, headers=auth).status_code == 400
    paged = requests.get(url, params=base, headers=auth).json()
    assert (paged["page"], paged["total_pages"], paged["total_records"]) == (1, 4, 350)
    relative = requests.get(url, params=base | {"relative_pagination": "true"}, headers=auth)
    body = relative.json()
    assert body["has_next_page"] is True and "offset=1" in body["next_page"]
    assert "total_records" not in body


def test_429_without_retry_after_is_backed_off(db, callrail, setup):
    """CallRail sends no Retry-After: the client backs off on its own schedule and goes on."""
    org, conn = setup
    callrail.rate_limit_next(3)
    run = run_sync(conn, "calls", batch_size=100)
    assert run.status == "success"
    assert run.stats["retries"] == 3
    assert count_rows(db, Call, org) == 350


def test_dry_run_writes_nothing(db, callrail, setup):
    org, conn = setup
    run = run_sync(conn, "calls", batch_size=100, dry_run=True)
    assert (run.status, run.processed, run.created) == ("success", 350, 350)
    assert count_rows(db, Call, org) == 0
    assert count_rows(db, PhoneNumber, org) == 0
    with db.session() as s:
        assert s.scalar(select(SyncState.cursor).where(SyncState.connection_id == conn.id)) is None


def test_max_records_stops_reading_and_resumes(db, callrail, setup):
    org, conn = setup
    run = run_sync(conn, "calls", max_records=120, batch_size=50)
    assert (run.status, run.processed, run.created) == ("success", 120, 120)
    assert count_rows(db, Call, org) == 120
    assert [r.query.get("offset") for r in call_requests(callrail)] == [None, "1", "2"]
    rest = run_sync(conn, "calls", batch_size=100)
    # the cursor stopped at call 119; the lookback reaches back to the first call
    assert (rest.created, rest.unchanged) == (230, 120)
    assert count_rows(db, Call, org) == 350


def test_429_and_500_storm_is_survived_and_recorded(db, callrail, setup):
    org, conn = setup
    callrail.fail_next(5, 429, retry_after=0)
    callrail.fail_next(1, 500)
    callrail.truncate_next(1)
    run = run_sync(conn, "calls", batch_size=100)
    assert run.status == "success"
    assert run.stats["retries"] == 7
    assert run.stats["requests"] == 4 + 6 + 1
    assert count_rows(db, Call, org) == 350


def test_malformed_calls_make_the_run_partial(db, callrail, setup):
    org, conn = setup
    good = dict(callrail.call(0))
    callrail.add_raw_call(good | {"id": None})
    callrail.add_raw_call(good | {"id": "CALbad1", "direction": "sideways"})
    callrail.add_raw_call(good | {"id": "CALbad2", "start_time": "yesterday"})
    callrail.add_raw_call(good | {"id": "CALbad3", "duration": "long"})
    callrail.add_raw_call(good | {"id": "CALbad4", "answered": "yes"})
    run = run_sync(conn, "calls", batch_size=100)
    assert run.status == "partial"
    assert (run.processed, run.created, run.failed) == (355, 350, 5)
    reasons = {sample["record"]: sample["reason"] for sample in run.error_samples}
    assert reasons == {
        None: "missing 'id'",
        "CALbad1": "unknown call direction 'sideways'",
        "CALbad2": "start_time 'yesterday' is not a date",
        "CALbad3": "duration 'long' is not a number of seconds",
        "CALbad4": "answered 'yes' is not true or false",
    }
    assert {s["stream"] for s in run.error_samples} == {"calls"}
    assert count_rows(db, Call, org) == 350


def test_wrong_token_fails_saying_so(db, callrail):
    org = make_org(db)
    conn = connect(db, org, callrail, token="cr-wrong-key")
    run = run_sync(conn, "calls", batch_size=100)
    assert run.status == "failed"
    assert run.error == "token rejected (401)"
    assert count_rows(db, Call, org) == 0


def test_missing_account_id_fails_saying_so(db, callrail):
    org = make_org(db)
    conn = make_connection(
        db, org, "callrail", base_url=callrail.url + "/v3", token="cr-good-key", settings={}
    )
    run = run_sync(conn, "calls", batch_size=100)
    assert run.status == "failed"
    assert "account_id" in run.error and "account id" in run.error
    assert callrail.log == []


def test_unreachable_api_fails_saying_so(db):
    org = make_org(db)
    conn = make_connection(
        db,
        org,
        "callrail",
        base_url=f"http://127.0.0.1:{free_port()}/v3",
        token="x",
        settings=SETTINGS | {"max_retries": 1},
    )
    run = run_sync(conn, "calls", batch_size=100)
    assert run.status == "failed"
    assert run.error.startswith("cannot reach 127.0.0.1:")
    assert run.error.endswith("connection refused")
    assert run.stats["retries"] == 1


def test_test_connection_messages(callrail):
    def connector(token="cr-good-key", account=ACCOUNT_ID, url=callrail.url + "/v3"):
        return CallRailConnector(
            base_url=url,
            credentials={"token": token},
            settings={"account_id": account} if account else {},
            retry=RetryPolicy(max_retries=0),
        )

    assert connector().test_connection() == (
        f'Connected to CallRail account {ACCOUNT_ID} "Acme Dental Group" (2 companies)'
    )
    assert [(r.path, r.query) for r in callrail.log] == [
        ("/v3/a.json", {"page": "1", "per_page": "250"}),
        (f"/v3/a/{ACCOUNT_ID}/companies.json", {"per_page": "1"}),
    ]
    callrail.companies.pop()
    assert connector(account=str(NUMERIC_ID)).test_connection() == (
        f'Connected to CallRail account {NUMERIC_ID} "Acme Dental Group" (1 company)'
    )
    with pytest.raises(AuthError, match=r"^token rejected \(401\)$"):
        connector(token="nope").test_connection()
    with pytest.raises(ConnectorError, match=r"cannot see account ACC000 \(accounts it can see: "):
        connector(account="ACC000").test_connection()
    with pytest.raises(ConnectorError, match="set account_id in the connection settings"):
        connector(account=None).test_connection()
    with pytest.raises(
        UnreachableError, match=r"^cannot reach 127\.0\.0\.1:\d+: connection refused$"
    ):
        connector(url=f"http://127.0.0.1:{free_port()}/v3").test_connection()
