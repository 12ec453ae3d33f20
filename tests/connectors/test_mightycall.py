"""MightyCall over real HTTP against the fake, through the real engine, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from connectors.base import AuthError, ReadRequest, RecordError, RetryPolicy, UnreachableError
from connectors.mightycall import MightyCallConnector, duration_seconds, split_credentials
from models.orgs import Organization, PhoneNumber
from models.records import Call, Contact
from tests.conftest import free_port
from tests.fakes.mightycall import FakeMightyCall, iso
from tests.helpers import count_rows, make_org, run_sync

KEYS = {"token": "mc-api-key", "secret": "mc-user-key"}
#: How a connection saved before the keys were two fields holds them.
LEGACY_TOKEN = "mc-api-key:mc-user-key"


def connect(db, org, url, credentials=KEYS, *, name="Phones", settings=None):
    """A saved MightyCall connection with both keys stored encrypted, as the form saves it."""
    from models.connections import create_connection

    with db.session() as s:
        conn = create_connection(
            s,
            org_id=org,
            connector="mightycall",
            name=name,
            base_url=url,
            credentials=credentials,
            settings=settings or {},
        )
        s.commit()
        s.expunge(conn)
        return conn


@pytest.fixture
def mightycall():
    fake = FakeMightyCall(calls=350, contacts=350).start()
    yield fake
    fake.stop()


@pytest.fixture
def setup(db, mightycall):
    org = make_org(db)
    return org, connect(db, org, f"{mightycall.url}/v4")


def _call(db, external_id: str) -> Call:
    with db.session() as s:
        call = s.scalar(select(Call).where(Call.external_id == external_id))
        s.expunge(call)
        return call


def _data_requests(fake: FakeMightyCall, path: str) -> list:
    return [r for r in fake.log if r.path == path]


def test_full_sync_of_calls_maps_every_call(db, mightycall, setup):
    org, conn = setup
    from models.users import add_membership, create_user

    with db.session() as s:
        ana = create_user(s, "ana@example.com", "pw-123456789")
        add_membership(s, ana, s.get(Organization, org), "agent")
        s.commit()
        ana_id = ana.id
    run = run_sync(conn, "calls")
    assert (run.status, run.processed, run.created, run.updated, run.failed) == (
        "success",
        350,
        350,
        0,
        0,
    )
    # one token exchange, then four pages of 100
    assert run.stats["pages"] == 4 and run.stats["requests"] == 5
    assert run.total == 350
    assert count_rows(db, Call, org) == 350

    first = _call(db, "call-00000")  # inbound, answered by ana, duration sent as hh:mm:ss
    assert (first.direction, first.status, first.duration_seconds) == ("inbound", "answered", 60)
    assert (first.from_number, first.to_number) == ("+14150000000", "+18005550101")
    assert first.started_at.replace(tzinfo=UTC) == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    assert first.ended_at.replace(tzinfo=UTC) == datetime(2024, 3, 1, 8, 1, tzinfo=UTC)
    assert first.recording_url == "https://recordings.mightycall.example/call-00000.mp3"
    assert first.agent_id == ana_id and first.source == "mightycall"
    assert first.raw["callStatus"] == "Connected"

    out = _call(db, "call-00001")  # outbound by ben (not a member), duration in ms
    assert (out.direction, out.status, out.duration_seconds) == ("outbound", "answered", 61)
    assert (out.from_number, out.to_number) == ("+18005550102", "+14150000001")
    assert out.agent_id is None

    missed = _call(db, "call-00003")
    assert (missed.status, missed.duration_seconds, missed.recording_url) == ("missed", 0, None)
    voicemail = _call(db, "call-00007")
    assert (voicemail.status, voicemail.duration_seconds) == ("voicemail", 30)

    with db.session() as s:
        statuses = dict(
            s.execute(
                select(Call.status, func.count()).where(Call.org_id == org).group_by(Call.status)
            ).all()
        )
        numbers = dict(
            s.execute(
                select(PhoneNumber.number, PhoneNumber.label).where(PhoneNumber.org_id == org)
            ).all()
        )
        main_id = s.scalar(select(PhoneNumber.id).where(PhoneNumber.number == "+18005550101"))
    assert statuses == {"answered": 280, "missed": 35, "voicemail": 35}
    assert numbers == {
        "+18005550101": "Main line",
        "+18005550102": "Support",
        "+18005550103": "Sales",
    }
    assert first.phone_number_id == main_id

    token, *data = mightycall.log
    assert (token.method, token.path) == ("POST", "/v4/auth/token")
    assert all(r.path == "/v4/api/calls" for r in data)
    issued = next(iter(mightycall.tokens))
    assert all(r.headers["authorization"] == f"Bearer {issued}" for r in data)
    assert all(r.headers["x-api-key"] == "mc-api-key" for r in data)
    assert [r.query["skip"] for r in data] == ["0", "100", "200", "300"]


def test_phone_numbers_stream(db, mightycall, setup):
    org, conn = setup
    run = run_sync(conn, "phone_numbers")
    assert (run.status, run.processed, run.created) == ("success", 3, 3)
    with db.session() as s:
        rows = s.execute(
            select(PhoneNumber.number, PhoneNumber.label, PhoneNumber.external_id)
            .where(PhoneNumber.org_id == org)
            .order_by(PhoneNumber.number)
        ).all()
    assert rows == [
        ("+18005550101", "Main line", "pn-1"),
        ("+18005550102", "Support", "pn-2"),
        ("+18005550103", "Sales", "pn-3"),
    ]
    again = run_sync(conn, "phone_numbers")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_full_sync_of_contacts_reads_single_values_and_lists(db, mightycall, setup):
    org, conn = setup
    run = run_sync(conn, "contacts")
    assert (run.status, run.processed, run.created, run.failed) == ("success", 350, 350, 0)
    assert count_rows(db, Contact, org) == 350
    with db.session() as s:
        single = s.scalar(select(Contact).where(Contact.external_id == "ct-00000"))
        listed = s.scalar(select(Contact).where(Contact.external_id == "ct-00001"))
        assert (single.first_name, single.last_name, single.email, single.phone) == (
            "First0",
            "Last0",
            "person0@example.com",
            "+12120000000",
        )
        assert (listed.email, listed.phone, listed.company) == (
            "person1@example.com",
            "+12120000001",
            "Company 1",
        )
        assert listed.updated_at.replace(tzinfo=UTC) == datetime(2024, 1, 1, 0, 2, tzinfo=UTC)


def test_incremental_calls_use_start_utc_with_a_lookback(db, mightycall, setup):
    org, conn = setup
    run_sync(conn, "calls")
    # calls 346, 348 and 349 change after the sync (late recordings, corrected durations)
    mightycall.modify_call("call-00349", duration=999_000)
    mightycall.modify_call("call-00348", callStatus="Missed", duration=0, callRecord=None)
    mightycall.modify_call("call-00346", callRecord={"uri": "https://rec.example/late.mp3"})
    mightycall.add_calls(2)
    mightycall.log.clear()
    run = run_sync(conn, "calls")
    assert run.status == "success", run.error
    # the hour before the newest call (343..349) is read again, plus the 2 new ones
    assert (run.created, run.updated, run.unchanged, run.processed) == (2, 3, 4, 9)
    calls = _data_requests(mightycall, "/v4/api/calls")
    assert len(calls) == 1
    newest = mightycall.call_time(349)
    assert calls[0].query["startUtc"] == iso(newest - timedelta(minutes=60))
    assert datetime.fromisoformat(calls[0].query["endUtc"].replace("Z", "+00:00")) > datetime.now(
        UTC
    )
    assert count_rows(db, Call, org) == 352
    assert _call(db, "call-00349").duration_seconds == 999
    assert _call(db, "call-00348").status == "missed"
    assert _call(db, "call-00346").recording_url == "https://rec.example/late.mp3"
    assert _call(db, "call-00351").started_at.replace(tzinfo=UTC) == mightycall.call_time(351)


def test_incremental_contacts_keep_only_changed_ones(db, mightycall, setup):
    org, conn = setup
    run_sync(conn, "contacts")
    for contact_id in ("ct-00010", "ct-00020", "ct-00030"):
        mightycall.modify_contact(contact_id, company="Renamed Inc")
    mightycall.add_contacts(2)
    mightycall.log.clear()
    run = run_sync(conn, "contacts")
    assert run.status == "success", run.error
    # the newest contact of the last sync sits on the cursor (>=) and is seen unchanged
    assert (run.created, run.updated, run.unchanged, run.processed) == (2, 3, 1, 6)
    # the listing has no modification filter: every page is read, without filter params
    pages = _data_requests(mightycall, "/v4/api/contacts")
    assert [r.query["skip"] for r in pages] == ["0", "100", "200", "300"]
    assert all(set(r.query) == {"skip", "pageSize"} for r in pages)
    assert count_rows(db, Contact, org) == 352
    with db.session() as s:
        renamed = s.scalars(
            select(Contact.external_id).where(Contact.company == "Renamed Inc")
        ).all()
    assert sorted(renamed) == ["ct-00010", "ct-00020", "ct-00030"]


def test_voicemails_land_on_their_calls_and_never_double_count(db, mightycall, setup):
    org, conn = setup
    run_sync(conn, "calls")
    mightycall.add_journal(
        {
            "id": "jr-orphan",
            "type": "Voicemail",
            "created": "2024-03-02T10:00:00Z",
            "direction": "Incoming",
            "client": {"address": "+14155550000", "name": "Caller"},
            "businessNumber": {"number": "+18005550102", "label": "Support"},
            "duration": "15000",
            "recording": {"link": "https://rec.example/vm.mp3"},
        }
    )
    mightycall.add_journal(
        {"id": "jr-sms", "type": "Message", "created": "2024-03-05T10:00:00Z", "text": "hi"}
    )
    run = run_sync(conn, "voicemails")
    assert run.status == "success", run.error
    # 35 voicemails belong to calls already held (raw differs: updated), one stands alone
    assert (run.processed, run.created, run.updated, run.failed) == (36, 1, 35, 0)
    assert count_rows(db, Call, org) == 351
    with db.session() as s:
        voicemails = s.scalar(
            select(func.count()).where(Call.org_id == org, Call.status == "voicemail")
        )
    assert voicemails == 36
    orphan = _call(db, "voicemail:jr-orphan")
    assert (orphan.status, orphan.direction, orphan.duration_seconds) == (
        "voicemail",
        "inbound",
        15,
    )
    assert (orphan.from_number, orphan.to_number) == ("+14155550000", "+18005550102")
    assert orphan.recording_url == "https://rec.example/vm.mp3"
    merged = _call(db, "call-00007")
    assert (merged.status, merged.duration_seconds) == ("voicemail", 30)
    assert merged.raw["id"] == "jr-00007"
    journal = _data_requests(mightycall, "/v4/api/journal/requests")
    assert journal[0].query["type"] == "Voicemail" and journal[0].query["page"] == "1"

    mightycall.log.clear()
    mightycall.add_calls(10)  # 350..359: call 357 is a voicemail
    again = run_sync(conn, "voicemails")
    assert (again.created, again.processed) == (1, 2)  # 357 new, 347 is the cursor (>=)
    journal = _data_requests(mightycall, "/v4/api/journal/requests")
    assert journal[0].query["from"] == iso(mightycall.call_time(347))


def test_dry_run_writes_nothing(db, mightycall, setup):
    org, conn = setup
    run = run_sync(conn, "calls", dry_run=True)
    assert (run.status, run.processed, run.created) == ("success", 350, 350)
    assert count_rows(db, Call, org) == 0
    assert count_rows(db, PhoneNumber, org) == 0


def test_max_records_stops_reading(db, mightycall, setup):
    org, conn = setup
    run = run_sync(conn, "calls", max_records=120, batch_size=50)
    assert (run.status, run.processed, run.created) == ("success", 120, 120)
    assert count_rows(db, Call, org) == 120
    # 50 + 50 + 50 read, then no more pages are asked for
    assert run.stats["pages"] == 3
    assert [r.query["skip"] for r in _data_requests(mightycall, "/v4/api/calls")] == [
        "0",
        "50",
        "100",
    ]


def test_paging_with_small_pages(db, mightycall, setup):
    org, conn = setup
    run = run_sync(conn, "calls", batch_size=50)
    assert (run.status, run.created) == ("success", 350)
    pages = _data_requests(mightycall, "/v4/api/calls")
    assert [int(r.query["skip"]) for r in pages] == [0, 50, 100, 150, 200, 250, 300]
    assert {r.query["pageSize"] for r in pages} == {"50"}
    assert run.stats["pages"] == 7
    with db.session() as s:
        keys = s.scalar(
            select(func.count(func.distinct(Call.external_id))).where(Call.org_id == org)
        )
    assert keys == 350


def test_429_and_500_storm_is_survived_and_recorded(db, mightycall, setup):
    org, conn = setup
    # the token exchange meets them first; the 500 leads so its backoff is the short first one
    mightycall.fail_next(1, 500)
    mightycall.fail_next(5, 429, retry_after=0)
    mightycall.truncate_next(1)  # the token answer arrives cut in half
    run = run_sync(conn, "calls")
    assert run.status == "success", run.error
    assert run.stats["retries"] == 7
    assert count_rows(db, Call, org) == 350
    assert mightycall.tokens_issued == 2  # the truncated answer's token was never used


def test_a_revoked_access_token_is_renewed_once(mightycall):
    connector = MightyCallConnector(base_url=f"{mightycall.url}/v4", credentials=KEYS)
    assert connector.test_connection() == "Connected to MightyCall: 3 phone numbers"
    mightycall.expire_tokens()
    stream = MightyCallConnector.stream("calls")
    pages = list(connector.read(ReadRequest(stream=stream, page_size=100)))
    assert sum(len(p.records) for p in pages) == 350
    assert mightycall.tokens_issued == 2
    statuses = [(r.path, r.method) for r in mightycall.log]
    assert statuses.count(("/v4/auth/token", "POST")) == 2


def test_malformed_records_make_the_run_partial(db, mightycall, setup):
    org, conn = setup
    base = {
        "callStatus": "Connected",
        "direction": "Incoming",
        "dateTimeUtc": "2024-06-01T00:00:00Z",
    }
    mightycall.add_raw_call({**base, "id": "bad-direction", "direction": "Sideways"})
    mightycall.add_raw_call({**base, "id": "bad-time", "dateTimeUtc": "yesterday"})
    mightycall.add_raw_call({**base, "id": "bad-duration", "duration": "about a minute"})
    mightycall.add_raw_call({**base, "id": "bad-status", "callStatus": "Teleported"})
    mightycall.add_raw_call(dict(base))
    run = run_sync(conn, "calls")
    assert run.status == "partial"
    assert (run.processed, run.created, run.failed) == (355, 350, 5)
    reasons = {sample["record"]: sample["reason"] for sample in run.error_samples}
    assert reasons == {
        "bad-direction": "unknown direction 'Sideways'",
        "bad-time": "dateTimeUtc 'yesterday' is not a date",
        "bad-duration": "duration 'about a minute' is not milliseconds or hh:mm:ss",
        "bad-status": "unknown callStatus 'Teleported'",
        None: "missing 'id'",
    }
    assert {sample["stream"] for sample in run.error_samples} == {"calls"}
    assert count_rows(db, Call, org) == 350


def test_malformed_contacts_are_named(db, mightycall, setup):
    org, conn = setup
    mightycall.add_raw_contact({"id": "ct-bad-mail", "firstName": "X", "email": "not-an-email"})
    mightycall.add_raw_contact({"id": "ct-bad-date", "firstName": "Y", "updatedUtc": "soon"})
    run = run_sync(conn, "contacts")
    assert (run.status, run.created, run.failed) == ("partial", 350, 2)
    reasons = {sample["record"]: sample["reason"] for sample in run.error_samples}
    assert reasons == {
        "ct-bad-mail": "email 'not-an-email' is not an email address",
        "ct-bad-date": "updatedUtc 'soon' is not a date",
    }


def test_wrong_key_fails_saying_so(db, mightycall):
    org = make_org(db)
    conn = connect(db, org, f"{mightycall.url}/v4", {"token": "mc-api-key", "secret": "wrong"})
    run = run_sync(conn, "calls")
    assert run.status == "failed"
    assert run.error == "token rejected (401)"
    assert [r.path for r in mightycall.log] == ["/v4/auth/token"]
    assert count_rows(db, Call, org) == 0


def test_unreachable_api_fails_saying_so(db):
    org = make_org(db)
    quick = {"max_retries": 1, "retry_backoff": 0.01}
    conn = connect(db, org, f"http://127.0.0.1:{free_port()}/v4", settings=quick)
    run = run_sync(conn, "calls")
    assert run.status == "failed"
    assert run.error.startswith("cannot reach 127.0.0.1:")
    assert run.error.endswith("connection refused")
    assert run.stats["retries"] == 1


def test_test_connection_messages(mightycall):
    url = f"{mightycall.url}/v4"
    good = MightyCallConnector(base_url=url, credentials=KEYS)
    assert good.test_connection() == "Connected to MightyCall: 3 phone numbers"
    saved_as_one_box = MightyCallConnector(base_url=url, credentials={"token": LEGACY_TOKEN})
    assert saved_as_one_box.test_connection() == "Connected to MightyCall: 3 phone numbers"
    mightycall.phone_numbers = mightycall.phone_numbers[:1]
    assert good.test_connection() == "Connected to MightyCall: 1 phone number"
    with pytest.raises(AuthError, match=r"^token rejected \(401\)$"):
        MightyCallConnector(base_url=url, credentials=KEYS | {"secret": "nope"}).test_connection()
    with pytest.raises(AuthError, match="enter both in the connection's settings"):
        MightyCallConnector(base_url=url, credentials={"token": "mc-api-key"}).test_connection()
    closed = MightyCallConnector(
        base_url=f"http://127.0.0.1:{free_port()}/v4",
        credentials=KEYS,
        retry=RetryPolicy(max_retries=0),
    )
    with pytest.raises(UnreachableError, match="connection refused"):
        closed.test_connection()


def test_the_token_exchange_follows_mightycalls_authentication_guide(mightycall):
    """Call Center host by default; x-api-key with the form; two keys, both required."""
    assert MightyCallConnector.default_base_url == "https://ccapi.mightycall.com/v4"
    fields = {f.name: f for f in MightyCallConnector.config_fields}
    assert fields["token"].secret and fields["token"].required
    assert fields["secret"].secret and fields["secret"].required
    MightyCallConnector(base_url=f"{mightycall.url}/v4", credentials=KEYS).test_connection()
    token = mightycall.log[0]
    assert (token.method, token.path) == ("POST", "/v4/auth/token")
    assert token.headers["x-api-key"] == "mc-api-key"
    assert token.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in token.headers
    form = dict(pair.split("=", 1) for pair in token.body.decode().split("&"))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "mc-api-key",
        "client_secret": "mc-user-key",
    }


def test_a_connection_without_the_user_key_says_which_key_is_missing(db, mightycall):
    org = make_org(db)
    conn = connect(db, org, f"{mightycall.url}/v4", {"token": "mc-api-key"})
    run = run_sync(conn, "calls")
    assert run.status == "failed"
    assert run.error.startswith("The User key is missing")
    assert mightycall.log == []


def test_credentials_and_durations_parse():
    assert split_credentials({"token": "key:user:with:colons"}) == ("key", "user:with:colons")
    assert split_credentials({"token": "key", "secret": "user"}) == ("key", "user")
    assert split_credentials({"token": "a:b", "secret": "c"}) == ("a:b", "c")
    assert [duration_seconds(v) for v in (61_000, "61000", "00:01:01", "1:01", "", None)] == [
        61,
        61,
        61,
        61,
        0,
        0,
    ]
    for bad in ("inf", "-5000", -1, "1:2:3:4", True):
        with pytest.raises(RecordError):
            duration_seconds(bad)
