"""Calls, recordings and SMS callbacks over HTTP, as the browser calls them, including forged inputs."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from tests.helpers import dash_post, login
from tests.models.test_calls import EVIL_FROM, add_many_calls, add_records

CALLS_OUT = [
    "calls-table.getRowsResponse",
    "calls-count.children",
    "calls-url.search",
    "calls-export.href",
    "calls-empty.children",
]
REC_OUT = [
    "recordings-list.children",
    "recordings-pager.max_value",
    "recordings-pager.active_page",
    "recordings-pager.className",
    "recordings-count.children",
]
SMS_OUT = [
    "sms-table.getRowsResponse",
    "sms-count.children",
    "sms-empty.children",
    "sms-body.className",
    "sms-url.search",
]


def post(client, outputs, inputs, state=(), changed=None):
    """POST a callback like the browser; `changed` names the inputs that triggered it."""
    output = outputs[0] if len(outputs) == 1 else ".." + "...".join(outputs) + ".."
    return dash_post(
        client,
        output,
        [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        state=[{"id": i, "property": p, "value": v} for i, p, v in state],
        changed=changed,
    )


def values(response, outputs) -> dict:
    """{"id.prop": value} of a callback response (outputs left unchanged are missing)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    got = response.get_json()["response"]
    out = {}
    for name in outputs:
        cid, prop = name.rsplit(".", 1)
        if cid in got and prop in got[cid]:
            out[name] = got[cid][prop]
    return out


def rows_request(page=0, size=25, sort_by=()) -> dict:
    """A grid's getRowsRequest for one page, as AG Grid's infinite row model sends it."""
    return {
        "startRow": page * size,
        "endRow": (page + 1) * size,
        "sortModel": [{"colId": s["column_id"], "sort": s["direction"]} for s in sort_by],
        "filterModel": {},
    }


def calls_state(q=None, start=None, end=None, phone=None, agent=None, direction=None, status=None):
    return [
        ("calls-search", "value", q),
        ("calls-dates-from", "value", start),
        ("calls-dates-to", "value", end),
        ("calls-phone", "value", phone),
        ("calls-agent", "value", agent),
        ("calls-direction", "value", direction),
        ("calls-status", "value", status),
    ]


def calls_inputs(**kwargs):
    return [("calls-table", "getRowsRequest", rows_request())]


def calls(client, changed=None, page=0, sort_by=(), **kwargs):
    """The grid's request for a page with the filters as State; the rows are under
    `calls-table.data`, the total under `calls-total` (as the old table tests read them)."""
    response = post(
        client,
        CALLS_OUT,
        [("calls-table", "getRowsRequest", rows_request(page, 25, sort_by))],
        state=calls_state(**kwargs),
        changed=["calls-table.getRowsRequest"],
    )
    got = values(response, CALLS_OUT)
    answer = got.pop("calls-table.getRowsResponse")
    got["calls-table.data"] = answer["rowData"]
    got["calls-total"] = answer["rowCount"]
    return got


def signed_in(server, email):
    client = server.test_client()
    login(client, email)
    client.get("/_dash-layout")
    return client


def test_an_agent_sees_only_their_numbers(server, world):
    agent = signed_in(server, "agent_a1@example.com")
    got = calls(agent, changed=[])
    assert len(got["calls-table.data"]) == 4
    assert {r["number"] for r in got["calls-table.data"]} == {"a1"}
    assert got["calls-count.children"] == "4 calls"
    assert got["calls-url.search"] == ""
    assert got["calls-export.href"] == "/export/calls.csv?bom=1"
    manager = signed_in(server, "manager_a@example.com")
    assert calls(manager, changed=[])["calls-count.children"] == "9 calls"


def test_a_forged_phone_filter_returns_nothing(server, db, world):
    add_records(db, world)
    agent = signed_in(server, "agent_a1@example.com")
    for forged in (world.numbers["a2"], world.numbers["b1"]):
        got = calls(agent, phone=forged)
        assert got["calls-table.data"] == []
        assert got["calls-count.children"] == "No calls match"
    other = calls(agent, agent=world.users["agent_a2"])
    assert other["calls-table.data"] == []


def test_rows_read_like_a_person_expects(server, db, world):
    add_records(db, world)
    manager = signed_in(server, "manager_a@example.com")
    got = calls(manager, q="hyperlink")
    (row,) = got["calls-table.data"]
    assert row["from"] == EVIL_FROM  # shown as text; only CSV cells need neutralising
    assert row["contact"] == "+cmd"
    assert row["status"] == "Answered" and row["duration"] == "5:05"
    assert row["agent"] == "agent_a1" and row["direction"] == "Inbound"


def test_filters_sort_and_page_go_to_the_url_and_the_export_link(server, db, world):
    add_many_calls(db, world.org_a, world.numbers["a2"], 60, agent_id=world.users["agent_a2"])
    manager = signed_in(server, "manager_a@example.com")
    sort = [{"column_id": "duration", "direction": "desc"}]
    first = calls(manager, q="+1444", status="answered", sort_by=sort)
    assert first["calls-count.children"] == "30 calls"
    assert first["calls-total"] == 30
    durations = [r["duration"] for r in first["calls-table.data"]]
    assert durations[0] == "14:48"  # the longest first (888 s)
    second = calls(manager, q="+1444", status="answered", sort_by=sort, page=1)
    assert len(second["calls-table.data"]) == 5
    url = parse_qs(second["calls-url.search"].lstrip("?"))
    assert url == {"q": ["+1444"], "status": ["answered"], "sort": ["duration"], "desc": ["1"]}
    export = urlsplit(second["calls-export.href"])
    assert export.path == "/export/calls.csv"
    assert parse_qs(export.query) == {
        "q": ["+1444"],
        "status": ["answered"],
        "sort": ["duration"],
        "desc": ["1"],
        "bom": ["1"],
    }
    # dates are inclusive days in the URL as from/to
    dated = calls(manager, start="2026-01-01", end="2026-01-31")
    assert "from=2026-01-01&to=2026-01-31" in dated["calls-url.search"]


def test_forged_values_are_refused_politely(server, world):
    manager = signed_in(server, "manager_a@example.com")
    got = calls(manager, start="yesterday")
    assert got["calls-count.children"] == "The start date must be a date written YYYY-MM-DD."
    # what can be used still shows: never a zero-row answer for a typo, which can leave the
    # grid's infinite row model waiting for an answer that never comes (see the browser test)
    assert got["calls-total"] == 9 and "calls-url.search" not in got
    injected = calls(manager, sort_by=[{"column_id": "id; DROP TABLE calls", "direction": "asc"}])
    assert injected["calls-count.children"] == "9 calls"
    past_the_end = calls(manager, page=40)
    assert past_the_end["calls-table.data"] == [] and past_the_end["calls-total"] == 9


def test_an_empty_table_says_why(server, db, world):
    """Nothing in the range of an org with calls is not "No calls yet" (defect 6)."""
    manager = signed_in(server, "manager_a@example.com")
    got = calls(manager, start="2020-01-01", end="2020-12-31")
    assert "No calls between 1 Jan 2020 and 31 Dec 2020" in json.dumps(got["calls-empty.children"])
    got = calls(manager, start="2020-01-01", end="2020-12-31", direction="outbound")
    assert "No calls match these filters" in json.dumps(got["calls-empty.children"])
    assert calls(manager)["calls-empty.children"] is None
    admin_b = signed_in(server, "admin_b@example.com")
    from models.records import Call

    with db.session() as s:
        s.query(Call).filter(Call.org_id == world.org_b).delete()
        s.commit()
    assert "No calls yet" in json.dumps(calls(admin_b)["calls-empty.children"])


def test_an_agent_without_numbers_is_told_who_assigns_them(server, db, world):
    from models.orgs import PhoneAssignment

    with db.session() as s:
        s.query(PhoneAssignment).filter(PhoneAssignment.user_id == world.users["agent_a1"]).delete()
        s.commit()
    text = json.dumps(calls(signed_in(server, "agent_a1@example.com"))["calls-empty.children"])
    assert "No phone numbers assigned to you yet" in text and "org admin" in text


def _page_props(client, path: str, search: str) -> dict[str, dict]:
    response = dash_post(
        client,
        ".._pages_content.children..._pages_store.data..",
        [
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
    )
    props: dict[str, dict] = {}

    def walk(node):
        if isinstance(node, dict):
            if "props" in node and "id" in node["props"]:
                props[node["props"]["id"]] = node["props"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(response.get_json()["response"]["_pages_content"]["children"])
    return props


def test_bad_dates_in_the_url_are_explained_and_the_url_shows_what_is_used(server, world):
    manager = signed_in(server, "manager_a@example.com")
    props = _page_props(manager, "/calls", "?from=2026-13-45&to=2026-01-31&direction=inbound")
    assert props["calls-url"]["search"] == "?to=2026-01-31&direction=inbound"
    assert "not “2026-13-45”" in json.dumps(
        props["calls-dates-note"]["children"], ensure_ascii=False
    )
    assert props["calls-dates-from"]["value"] is None
    props = _page_props(manager, "/calls", "?from=2026-03-07&to=2026-03-01")
    assert props["calls-url"]["search"] == "?from=2026-03-01&to=2026-03-07"
    assert "swapped" in json.dumps(props["calls-dates-note"]["children"], ensure_ascii=False)
    assert (
        _page_props(manager, "/calls", "?from=2026-03-01")["calls-dates-note"]["children"] is None
    )


def test_filter_choices_follow_the_scope(server, world):
    outputs = ["calls-phone.options", "calls-agent.options"]
    agent = signed_in(server, "agent_a2@example.com")
    got = values(post(agent, outputs, [("calls-page", "id", "calls-page")]), outputs)
    assert {o["value"] for o in got["calls-phone.options"]} == {
        world.numbers["a2"],
        world.numbers["a3"],
    }
    manager = signed_in(server, "manager_a@example.com")
    got = values(post(manager, outputs, [("calls-page", "id", "calls-page")]), outputs)
    assert len(got["calls-phone.options"]) == 3


def test_signed_out_callbacks_are_refused(client, world):
    response = post(client, CALLS_OUT, calls_inputs())
    assert response.status_code in (401, 403)


# --- recordings ---------------------------------------------------------------------------


def recordings(client, **kwargs):
    inputs = [
        ("recordings-search", "value", kwargs.get("q")),
        ("recordings-dates-from", "value", None),
        ("recordings-dates-to", "value", None),
        ("recordings-phone", "value", kwargs.get("phone")),
        ("recordings-pager", "active_page", kwargs.get("page", 1)),
    ]
    return values(post(client, REC_OUT, inputs), REC_OUT)


def audio_players(tree) -> list[dict]:
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "Audio":
                found.append(node["props"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return found


def test_recordings_play_in_the_page_for_the_viewers_numbers_only(server, db, world):
    add_records(db, world)
    agent = signed_in(server, "agent_a1@example.com")
    got = recordings(agent)
    assert got["recordings-count.children"] == "2 recordings"
    players = audio_players(got["recordings-list.children"])
    (player,) = players
    assert player["src"] == "https://rec.example/c1.mp3"
    assert player["controls"] is True and player["preload"] == "none"
    text = json.dumps(got["recordings-list.children"])
    assert "javascript:" not in text
    assert "Recording link not playable" in text
    assert "rec.example/c5.mp3" not in text and "rec.example/b.mp3" not in text
    forged = recordings(agent, phone=world.numbers["a2"])
    assert forged["recordings-count.children"] == "No recordings match"
    manager = signed_in(server, "manager_a@example.com")
    assert recordings(manager)["recordings-count.children"] == "3 recordings"


# --- SMS ----------------------------------------------------------------------------------


def sms(client, q=None, start=None, end=None):
    inputs = [("sms-table", "getRowsRequest", rows_request())]
    state = [
        ("sms-search", "value", q),
        ("sms-dates-from", "value", start),
        ("sms-dates-to", "value", end),
    ]
    got = values(post(client, SMS_OUT, inputs, state=state), SMS_OUT)
    got["sms-table.data"] = got.pop("sms-table.getRowsResponse")["rowData"]
    return got


def test_sms_explains_when_no_connector_brings_any(server, world):
    manager = signed_in(server, "manager_a@example.com")
    got = sms(manager)
    assert "None of the connected systems brings SMS yet" in json.dumps(got["sms-empty.children"])
    assert "d-none" in got["sms-body.className"]


def test_sms_are_scoped_and_searchable(server, db, world):
    add_records(db, world)
    agent = signed_in(server, "agent_a1@example.com")
    got = sms(agent)
    assert got["sms-count.children"] == "2 messages"
    assert {r["number"] for r in got["sms-table.data"]} == {"a1 · +15550000000"}
    assert got["sms-empty.children"] is None and got["sms-body.className"] == "records-card"
    assert sms(agent, q="beta")["sms-table.data"] == []
    manager = signed_in(server, "manager_a@example.com")
    assert [r["body"] for r in sms(manager, q="on a2")["sms-table.data"]] == ["Message on a2"]


def test_sms_filter_by_day_and_keep_the_days_in_the_url(server, db, world):
    from datetime import timedelta

    from models.base import utcnow

    add_records(db, world)
    today = utcnow().date()
    yesterday = (today - timedelta(days=1)).isoformat()
    agent = signed_in(server, "agent_a1@example.com")
    got = sms(agent, start=yesterday, end="")  # an emptied date input sends ""
    assert got["sms-count.children"] == "2 messages"
    assert got["sms-url.search"] == f"?from={yesterday}"
    got = sms(agent, q="a1", end=yesterday)
    assert got["sms-table.data"] == [] and got["sms-count.children"] == "No messages match"
    assert got["sms-empty.children"] is None  # there are messages, just not on these days
    assert got["sms-url.search"] == f"?q=a1&to={yesterday}"
    refused = sms(agent, start="2026-13-45")
    assert refused["sms-count.children"] == "The start date must be a date written YYYY-MM-DD."
    assert "sms-url.search" not in refused


def test_sms_bad_url_dates_are_explained_next_to_the_inputs(server, world):
    manager = signed_in(server, "manager_a@example.com")
    props = _page_props(manager, "/sms", "?from=2026-03-07&to=2026-03-01&q=hello&phone=3")
    assert props["sms-url"]["search"] == "?q=hello&from=2026-03-01&to=2026-03-07"
    assert "swapped" in json.dumps(props["sms-dates-note"]["children"], ensure_ascii=False)
    assert props["sms-dates-note"]["role"] == "alert"
    assert (props["sms-dates-from"]["value"], props["sms-dates-to"]["value"]) == (
        "2026-03-01",
        "2026-03-07",
    )
    assert props["sms-search"]["value"] == "hello"


def test_typed_dates_are_checked_next_to_the_inputs(server, world):
    """Every date range shares one check (callbacks/_dates.py): out of range or reversed
    days are said under the inputs and mark the input at fault; good days clear the note."""
    manager = signed_in(server, "manager_a@example.com")
    outputs = ["calls-dates-note.children", "calls-dates-from.invalid", "calls-dates-to.invalid"]

    def check(start, end):
        inputs = [("calls-dates-from", "value", start), ("calls-dates-to", "value", end)]
        got = values(post(manager, outputs, inputs, changed=["calls-dates-from.value"]), outputs)
        return json.dumps(got[outputs[0]], ensure_ascii=False), got[outputs[1]], got[outputs[2]]

    note, bad_from, bad_to = check("0002-03-01", "2026-03-01")  # a year typed digit by digit
    assert "The start date must be between 2000-01-01 and 2100-12-31" in note
    assert (bad_from, bad_to) == (True, False)
    note, bad_from, bad_to = check("2026-03-07", "2026-03-01")
    assert "The end date is before the start date." in note and (bad_from, bad_to) == (False, True)
    assert check("2026-03-01", "") == ("null", False, False)
    assert check(None, None) == ("null", False, False)
    for prefix in ("overview-dates", "recordings-dates", "sms-dates", "reports-dates"):
        assert f"{prefix}-note" in {
            part.split(".")[0] for key in dash_map() for part in key.strip(".").split("...")
        }, prefix


def dash_map():
    import dash

    return dash.get_app().callback_map
