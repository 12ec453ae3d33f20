"""Calls, recordings and SMS queries: scope per viewer, filters, search, sort and the export stream."""

from __future__ import annotations

import tracemalloc
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update

from models.base import utcnow
from models.calls import (
    CallFilters,
    FilterError,
    call_page,
    count_calls,
    has_sms,
    iter_calls,
    playable_url,
    recording_page,
    sms_page,
)
from models.orgs import User
from models.records import Call, Contact, Sms
from models.scope import build_viewer

EVIL_FROM = '=HYPERLINK("http://x.io","hi")'  # fits from_number's 32 characters
EVIL_CONTACT = "+cmd"


def add_records(db, world) -> dict[str, int]:
    """Agents on the world's calls, a contact and a from-number a spreadsheet would run,
    recordings (one with a javascript: URL), and SMS on each number. Returns call ids."""
    ext = {}
    with db.session() as s:
        by_number = {
            "a1": world.users["agent_a1"],
            "a2": world.users["agent_a2"],
            "a3": world.users["agent_a2"],
            "b1": world.users["admin_b"],
        }
        for key, agent in by_number.items():
            s.execute(
                update(Call)
                .where(Call.phone_number_id == world.numbers[key])
                .values(agent_id=agent)
            )
        contact = Contact(
            org_id=world.org_a, first_name=EVIL_CONTACT, last_name="", external_id="k1"
        )
        s.add(contact)
        s.flush()
        s.execute(
            update(Call)
            .where(Call.external_id == "c1")
            .values(
                from_number=EVIL_FROM,
                contact_id=contact.id,
                recording_url="https://rec.example/c1.mp3",
                duration_seconds=305,
            )
        )
        s.execute(
            update(Call).where(Call.external_id == "c2").values(recording_url="javascript:alert(1)")
        )
        s.execute(
            update(Call)
            .where(Call.external_id == "c5")
            .values(recording_url="https://rec.example/c5.mp3")
        )
        s.execute(
            update(Call)
            .where(Call.external_id == "c10")
            .values(recording_url="https://rec.example/b.mp3")
        )
        now = utcnow()
        for n, (key, org, body) in enumerate(
            [
                ("a1", world.org_a, "Hello from a1"),
                ("a1", world.org_a, "=1+1 second on a1"),
                ("a2", world.org_a, "Message on a2"),
                ("b1", world.org_b, "Message in beta"),
            ]
        ):
            s.add(
                Sms(
                    org_id=org,
                    phone_number_id=world.numbers[key],
                    direction="inbound",
                    from_number="+15557770000",
                    to_number="+1555000",
                    body=body,
                    sent_at=now - timedelta(minutes=n),
                    external_id=f"s{n}",
                )
            )
        s.commit()
        for call_id, external in s.execute(select(Call.id, Call.external_id)):
            ext[external] = call_id
    return ext


def add_many_calls(db, org_id: int, number_id: int, count: int, *, agent_id=None) -> None:
    """`count` calls in one executemany, with varied durations and statuses."""
    now = utcnow()
    statuses = ("answered", "answered", "missed", "voicemail")
    rows = [
        {
            "org_id": org_id,
            "phone_number_id": number_id,
            "agent_id": agent_id,
            "direction": "inbound" if i % 3 else "outbound",
            "from_number": f"+1444{i:07d}",
            "to_number": "+15550000000",
            "status": statuses[i % 4],
            "started_at": now - timedelta(days=2, minutes=i),
            "duration_seconds": (i * 37) % 900 if statuses[i % 4] == "answered" else 0,
            "source": "bulk",
            "external_id": f"bulk-{number_id}-{i}",
            "synced_at": now,
        }
        for i in range(count)
    ]
    with db.engine.begin() as conn:
        conn.execute(insert(Call), rows)


def viewer_for(db, world, key):
    with db.session() as s:
        return build_viewer(s, s.get(User, world.users[key]), None)


def page(db, viewer, **filters):
    with db.session() as s:
        return call_page(s, viewer, CallFilters(**filters), page_size=100)


def test_each_viewer_sees_only_their_scope_in_the_calls_table(db, world):
    add_records(db, world)
    expected = {"agent_a1": 4, "agent_a2": 5, "manager_a": 9, "admin_a": 9, "admin_b": 5}
    for key, total in expected.items():
        result = page(db, viewer_for(db, world, key))
        assert result.total == total == len(result.rows), key
    agent = page(db, viewer_for(db, world, "agent_a1"))
    assert {r["number_label"] for r in agent.rows} == {"a1"}
    assert {r["agent"] for r in agent.rows} == {"agent_a1"}


def test_a_forged_phone_filter_for_another_agents_number_returns_nothing(db, world):
    add_records(db, world)
    agent = viewer_for(db, world, "agent_a1")
    assert page(db, agent, phone=world.numbers["a2"]).total == 0
    assert page(db, agent, phone=world.numbers["b1"]).total == 0
    assert page(db, agent, phone=world.numbers["a1"]).total == 4
    manager = viewer_for(db, world, "manager_a")
    assert page(db, manager, phone=world.numbers["a2"]).total == 3
    assert page(db, manager, phone=world.numbers["b1"]).total == 0  # another org's number


def test_filters_search_and_sort(db, world):
    add_records(db, world)
    manager = viewer_for(db, world, "manager_a")
    assert page(db, manager, status="missed").total == 2
    assert page(db, manager, agent=world.users["agent_a2"]).total == 5
    assert page(db, manager, direction="outbound").total == 0
    today = utcnow().date()
    assert page(db, manager, start=today - timedelta(days=1), end=today).total == 9
    assert page(db, manager, start=today + timedelta(days=1)).total == 0
    # search covers from/to, number label and number, agent name and contact
    assert page(db, manager, search="hyperlink").total == 1
    assert page(db, manager, search="AGENT_A2").total == 5
    assert page(db, manager, search="+cmd").total == 1
    assert page(db, manager, search="100%_").total == 0  # LIKE wildcards are literal
    durations = [r["duration_seconds"] for r in page(db, manager, sort="duration").rows]
    assert durations == sorted(durations) and durations[-1] == 305
    desc = [r["duration_seconds"] for r in page(db, manager, sort="duration", descending=True).rows]
    assert desc == sorted(desc, reverse=True)
    # a sort key outside the whitelist falls back to newest first
    forged = page(db, manager, sort="id; DROP TABLE calls").rows
    times = [r["started_at"] for r in forged]
    assert times == sorted(times, reverse=True)


def test_calls_without_agent_or_contact_sort_last_both_ways(db, world):
    with db.session() as s:
        s.execute(
            update(Call)
            .where(Call.phone_number_id == world.numbers["a2"])
            .values(agent_id=world.users["agent_a2"])
        )
        contact = Contact(org_id=world.org_a, first_name="Ada", last_name="Byron", external_id="k")
        s.add(contact)
        s.flush()
        s.execute(update(Call).where(Call.external_id == "c5").values(contact_id=contact.id))
        s.commit()
    manager = viewer_for(db, world, "manager_a")
    for descending in (False, True):
        agents = [r["agent"] for r in page(db, manager, sort="agent", descending=descending).rows]
        assert agents == ["agent_a2"] * 3 + [None] * 6
        contacts = [
            r["contact"] for r in page(db, manager, sort="contact", descending=descending).rows
        ]
        assert contacts == ["Ada Byron"] + [None] * 8
    with db.session() as s:
        exported = list(iter_calls(s, manager, CallFilters(sort="agent", descending=True)))
    assert [row[9] for row in exported] == ["agent_a2"] * 3 + [""] * 6


def test_paging_walks_every_row_once(db, world):
    add_many_calls(db, world.org_a, world.numbers["a1"], 57)
    agent = viewer_for(db, world, "agent_a1")
    seen = []
    with db.session() as s:
        for n in range(4):
            result = call_page(s, agent, CallFilters(sort="duration"), page=n, page_size=20)
            seen.extend(r["id"] for r in result.rows)
    assert result.total == 61 and result.page_count == 4
    assert len(seen) == len(set(seen)) == 61


def test_filters_parse_from_the_query_string_strictly_or_leniently(db):
    params = {
        "q": "  smith ",
        "from": "2026-01-01",
        "to": "2026-01-31T00:00:00",
        "phone": "3",
        "agent": ["7"],
        "direction": "Inbound",
        "status": "missed",
        "sort": "duration",
        "desc": "1",
    }
    filters = CallFilters.from_params(params)
    assert filters.search == "smith" and filters.phone == 3 and filters.agent == 7
    assert filters.direction == "inbound" and filters.descending
    assert CallFilters.from_params(filters.to_params()) == filters
    assert filters.to_params()["from"] == "2026-01-01" and filters.to_params()["to"] == "2026-01-31"
    assert CallFilters.from_params({"start": "2026-01-01"}).start == filters.start  # long names too
    assert filters.range_label(utcnow().date()) == "2026-01-01-to-2026-01-31"
    for bad in (
        {"from": "yesterday"},
        {"phone": "1 OR 1=1"},
        {"phone": "-4"},
        {"status": "hacked"},
        {"from": "2026-02-01", "to": "2026-01-01"},
    ):
        with pytest.raises(FilterError):
            CallFilters.from_params(bad)
    lenient = CallFilters.from_params({"phone": "x", "status": "nope", "q": "ok"}, strict=False)
    assert lenient == CallFilters(search="ok")


def test_recordings_are_scoped_and_only_http_urls_play(db, world):
    ids = add_records(db, world)
    with db.session() as s:
        agent = recording_page(s, viewer_for(db, world, "agent_a1"), CallFilters())
        other = recording_page(s, viewer_for(db, world, "agent_a2"), CallFilters())
        manager = recording_page(s, viewer_for(db, world, "manager_a"), CallFilters())
    assert {r["id"] for r in agent.rows} == {ids["c1"], ids["c2"]}
    assert {r["id"] for r in other.rows} == {ids["c5"]}
    assert manager.total == 3
    assert playable_url("https://rec.example/c1.mp3") == "https://rec.example/c1.mp3"
    assert playable_url("HTTP://rec.example/a.wav") == "HTTP://rec.example/a.wav"
    # The app's own files (the demo's recordings) are put under the URL prefix.
    demo = "/assets/demo-recordings/call-1.wav"
    assert playable_url(demo) == demo
    assert playable_url(demo, "/analytics/") == "/analytics" + demo
    for bad in (
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java\nscript:alert(1)",
        "data:audio/wav;base64,AAAA",
        "vbscript:msgbox",
        "//rec.example/a.mp3",
        "/assets/../secret",
        "/\\rec.example/a.mp3",
        "http:/no-host",
        "",
        None,
    ):
        assert playable_url(bad) is None, bad


def test_sms_are_scoped_searchable_and_can_be_absent(db, world):
    with db.session() as s:
        assert has_sms(s, viewer_for(db, world, "manager_a")) is False
    add_records(db, world)
    with db.session() as s:
        agent = sms_page(s, viewer_for(db, world, "agent_a1"), CallFilters())
        manager = sms_page(s, viewer_for(db, world, "manager_a"), CallFilters())
        found = sms_page(s, viewer_for(db, world, "manager_a"), CallFilters(search="on a2"))
        beta = sms_page(s, viewer_for(db, world, "admin_b"), CallFilters())
        assert has_sms(s, viewer_for(db, world, "agent_a1"))
    assert agent.total == 2 and {r["number_label"] for r in agent.rows} == {"a1"}
    assert manager.total == 3
    assert [r["body"] for r in found.rows] == ["Message on a2"]
    assert [r["body"] for r in beta.rows] == ["Message in beta"]


def test_export_rows_match_the_filtered_count(db, world):
    add_records(db, world)
    add_many_calls(db, world.org_a, world.numbers["a2"], 40, agent_id=world.users["agent_a2"])
    mine = Call.phone_number_id.in_([world.numbers["a2"], world.numbers["a3"]])
    cases = [
        ("agent_a1", CallFilters(), [Call.phone_number_id == world.numbers["a1"]]),
        ("agent_a2", CallFilters(status="answered"), [mine, Call.status == "answered"]),
        (
            "manager_a",
            CallFilters(search="+1444", sort="duration", descending=True),
            [Call.org_id == world.org_a, Call.from_number.like("+1444%")],
        ),
        ("agent_a1", CallFilters(phone=world.numbers["a2"]), [Call.id < 0]),
    ]
    for key, filters, direct_where in cases:
        viewer = viewer_for(db, world, key)
        with db.session() as s:
            rows = list(iter_calls(s, viewer, filters))
            direct = s.scalar(select(func.count()).select_from(Call).where(*direct_where))
            assert len(rows) == direct == count_calls(s, viewer, filters), (key, filters)
    assert direct == 0
    with db.session() as s:
        agent_rows = list(iter_calls(s, viewer_for(db, world, "agent_a1"), CallFilters()))
    assert {r[1] for r in agent_rows} == {"a1"}
    assert EVIL_FROM in {r[4] for r in agent_rows}  # raw here; neutralised when written as CSV


def test_export_stream_holds_one_batch_not_every_row(db, world):
    """20k calls: streaming peaks far below materialising them all."""
    add_many_calls(db, world.org_a, world.numbers["a1"], 20_000)
    manager = viewer_for(db, world, "manager_a")

    def peak(consume) -> int:
        with db.session() as s:
            tracemalloc.start()
            try:
                consume(iter_calls(s, manager, CallFilters()))
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    with db.session() as s:  # warm the statement cache so only rows are measured
        next(iter_calls(s, manager, CallFilters()))
    counted = []
    streamed = peak(lambda rows: counted.append(sum(1 for _ in rows)))
    held = []
    whole = peak(lambda rows: held.append(list(rows)))
    assert counted == [20_009] and len(held[0]) == 20_009
    assert streamed < whole / 3, (streamed, whole)


def test_an_export_is_named_after_its_filters(db, world):
    """Two exports of different filters never share a file name (they did: `all-dates`)."""
    from datetime import date

    from models.calls import export_name_parts
    from web.csv_export import safe_filename

    today = date(2026, 11, 30)
    manager, agent = viewer_for(db, world, "manager_a"), viewer_for(db, world, "agent_a1")
    with db.session() as s:
        s.execute(update(User).where(User.id == world.users["agent_a1"]).values(name="Ann Lee"))
        s.commit()

    def name(viewer, **params) -> str:
        with db.session() as s:
            filters = CallFilters.from_params(params)
            return safe_filename(*export_name_parts(s, viewer, filters, today))

    assert name(manager) == "calls-alpha-all-dates.csv"
    assert (
        name(manager, **{"from": "2026-11-01", "to": "2026-11-30", "direction": "inbound"})
        == "calls-alpha-2026-11-01-to-2026-11-30-inbound.csv"
    )
    assert (
        name(manager, status="missed", phone=str(world.numbers["a2"]))
        == "calls-alpha-all-dates-missed-15550000001.csv"
    )
    assert name(manager, agent=str(world.users["agent_a1"])) == (
        "calls-alpha-all-dates-agent-Ann-Lee.csv"
    )
    # A number the viewer may not see is not named (nor looked up outside their scope).
    assert name(agent, phone=str(world.numbers["b1"])) == "calls-alpha-all-dates-number.csv"
