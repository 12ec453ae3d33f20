"""The sync console tells the truth about runs and checks its forms (issue 11, defects 3 and 5).

Each test here failed before its fix: Sync all stayed enabled during a run, "Stop requested"
outlived the cancelled run, a successful run offered Retry, a cancel was listed as an error,
"not a url" was saved as a base URL, a connection's name could not be changed, and a test of
an unreachable host kept the person waiting 20 s and more.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from models.runs import finish_run, request_run
from models.sync import Connection, SyncRun
from models.sync_options import parse_options
from tests.callbacks.test_sources import (
    as_user,
    call,
    callback_key,
    field_out,
    field_state,
    runs_count,
    save_settings,
    signed_client,
    texts,
)
from tests.helpers import dash_post, make_connection

FAST = {"records": 40, "delay_ms": 0}


def queue_run(db, conn_id: int, stream: str | None = None) -> int:
    with db.session() as s:
        run = request_run(
            s, s.get(Connection, conn_id), stream=stream, options=parse_options({}), trigger="user"
        )
        s.commit()
        return run.id


def sync_buttons(component) -> list[dict]:
    """Every sync-open button in a rendered tree, as {"stream": …, "disabled": …}."""
    found = []

    def walk(node):
        if isinstance(node, list | tuple):
            for item in node:
                walk(item)
            return
        if node is None or not hasattr(node, "to_plotly_json"):
            return
        cid = getattr(node, "id", None)
        if isinstance(cid, dict) and cid.get("type") == "sync-open":
            found.append({"stream": cid["stream"], "disabled": bool(getattr(node, "disabled", 0))})
        walk(getattr(node, "children", None))

    walk(component)
    return found


# --- defect 3: runs ---------------------------------------------------------------------------


def test_sync_all_is_disabled_while_a_run_of_the_source_is_active(server, db, world):
    from callbacks.source_detail import render
    from callbacks.sources import source_card
    from connectors.catalog import connector_facts
    from models.source_views import source_cards

    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    with as_user(server, db, "admin_a@example.com"):
        idle = sync_buttons(render(str(conn.id), None, None, 0)[1])
    assert idle == [{"stream": "", "disabled": False}]
    run_id = queue_run(db, conn.id, "calls")
    with as_user(server, db, "admin_a@example.com"):
        out = render(str(conn.id), None, None, 0)
    assert sync_buttons(out[1]) == [{"stream": "", "disabled": True}]
    rows = sync_buttons(out[2])  # the calls row shows Stop; contacts' Sync waits too
    assert rows == [{"stream": "contacts", "disabled": True}]
    with db.session() as s:
        from models.orgs import User
        from models.scope import build_viewer

        viewer = build_viewer(s, s.get(User, world.users["admin_a"]), None)
        card = source_cards(s, viewer, catalogue=connector_facts())[0]
    assert sync_buttons(source_card(card, admin=True)) == [{"stream": "", "disabled": True}]
    with db.session() as s:
        finish_run(s, run_id, "success")
        s.commit()
    with as_user(server, db, "admin_a@example.com"):
        out = render(str(conn.id), None, None, 0)
    assert sync_buttons(out[1]) == [{"stream": "", "disabled": False}]


def test_the_stop_banner_goes_when_its_run_ends(server, db, world, dash_app):
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    run_id = queue_run(db, conn.id)
    with db.session() as s:
        s.get(SyncRun, run_id).status = "running"  # a worker has it
        s.commit()
    admin = signed_client(server, "admin_a@example.com")
    response = dash_post(
        admin,
        "source-message.children",
        inputs=[
            [{"id": {"run": run_id, "type": "source-stop"}, "property": "n_clicks", "value": 1}]
        ],
    )
    banner = response.get_json()["response"]["source-message"]["children"]
    assert "Stop requested" in json.dumps(banner)

    def after(finished):
        return dash_post(
            admin,
            "source-message.children",
            inputs=[{"id": "syncwatch-finished", "property": "data", "value": finished}],
            state=[{"id": "source-message", "property": "children", "value": banner}],
        )

    other = after({"ids": [run_id + 1], "seq": 1})
    assert "source-message" not in ((other.get_json() or {}).get("response") or {})
    ended = after({"ids": [run_id], "seq": 2}).get_json()["response"]
    assert ended["source-message"]["children"] is None


@pytest.mark.parametrize("status", ["success", "partial", "failed", "cancelled"])
def test_only_a_run_that_did_not_finish_cleanly_offers_retry(server, db, world, dash_app, status):
    from callbacks.sync_detail import render

    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    run_id = queue_run(db, conn.id, "calls")
    with db.session() as s:
        finish_run(s, run_id, status)
        s.commit()
    with as_user(server, db, "admin_a@example.com"):
        page = texts(render(str(run_id), None))
    assert ('"run-retry"' in page) is (status != "success")
    # A forged Retry of a successful run starts nothing.
    admin = signed_client(server, "admin_a@example.com")
    out = call(
        admin,
        callback_key(dash_app, "..run-location.href"),
        [{"id": "run-retry", "property": "n_clicks", "value": 1}],
        [{"id": "run-id", "property": "data", "value": str(run_id)}],
    ).get_json()["response"]
    if status == "success":
        assert "nothing to retry" in json.dumps(out) and runs_count(db) == 1
    else:
        assert "run-location" in out and runs_count(db) == 2


def test_a_cancel_is_not_listed_as_a_recent_error(server, db, world):
    from connectors.catalog import connector_facts
    from models.orgs import User
    from models.scope import build_viewer
    from models.stream_views import stream_summary

    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    cancelled = queue_run(db, conn.id, "calls")
    with db.session() as s:
        finish_run(s, cancelled, "cancelled", error="Cancelled by request; records kept.")
        s.commit()
    failed = queue_run(db, conn.id, "calls")
    with db.session() as s:
        finish_run(s, failed, "failed", error="token rejected (401)")
        s.commit()
    with db.session() as s:
        viewer = build_viewer(s, s.get(User, world.users["admin_a"]), None)
        summary = stream_summary(s, viewer, conn.id, "calls", catalogue=connector_facts())
    assert [e["reason"] for e in summary["errors"]] == ["token rejected (401)"]


# --- defect 5: the add-connection form ----------------------------------------------------


def check_form(client, dash_app, *, connector="hubspot", name="", base_url="", **fields):
    values = {k.replace("__", "."): v for k, v in fields.items()}
    return call(
        client,
        callback_key(dash_app, "..sources-add-name.invalid@"),
        inputs=[
            {"id": "sources-add-connector", "property": "value", "value": connector},
            {"id": "sources-add-name", "property": "value", "value": name},
            {"id": "sources-add-base-url", "property": "value", "value": base_url},
            {"id": "sources-add-schedule", "property": "value", "value": None},
            field_state("sources-add-field", values),
            {"id": "sources-add-file-path", "property": "data", "value": None},
        ],
    )


def test_the_add_form_marks_each_field_as_it_is_typed_and_holds_save(server, db, world, dash_app):
    admin = signed_client(server, "admin_a@example.com")
    out = check_form(admin, dash_app, name="Sales", base_url="not a url").get_json()["response"]
    assert out["sources-add-base-url"]["invalid"] is True
    assert "starts with http:// or https://" in out["sources-add-base-url-feedback"]["children"]
    token = field_out(out, "sources-add-field-feedback", "hubspot", "token")
    assert token["children"] == "Enter the Private app access token."
    assert out["sources-add-save"]["disabled"] is True
    assert out["sources-add-test"]["disabled"] is True
    for url in ("ftp://x.example", "https://", "http://exa mple.com", "https://host:port/"):
        out = check_form(admin, dash_app, name="Sales", base_url=url, hubspot__token="t")
        assert out.get_json()["response"]["sources-add-base-url"]["invalid"] is True, url
    good = check_form(
        admin, dash_app, name="Sales", base_url="https://api.example.com", hubspot__token="t"
    ).get_json()["response"]
    assert good["sources-add-base-url"]["invalid"] is False
    assert good["sources-add-save"]["disabled"] is False
    assert good["sources-add-test"]["disabled"] is False
    # Before a name is typed, an empty required field holds Save but is not yet blamed.
    fresh = check_form(admin, dash_app).get_json()["response"]
    assert fresh["sources-add-save"]["disabled"] is True
    assert field_out(fresh, "sources-add-field", "hubspot", "token")["invalid"] is False
    manager = signed_client(server, "manager_a@example.com")
    assert check_form(manager, dash_app, name="x").status_code == 403


def test_a_forged_save_with_a_bad_base_url_is_refused_beside_the_field(server, db, world, dash_app):
    from tests.callbacks.test_sources import add_state, save

    admin = signed_client(server, "admin_a@example.com")
    state = add_state(name="Sales", base_url="not a url", hubspot__token="pat-1")
    out = save(admin, dash_app, state).get_json()["response"]
    assert out["sources-add-base-url"]["invalid"] is True
    assert "http://" in out["sources-add-base-url-feedback"]["children"]
    with db.session() as s:
        assert s.scalar(select(func.count(Connection.id))) == 0


def test_the_demo_connectors_placeholders_are_its_own(server, db, world, dash_app):
    """The demo's settings used to show CallRail's account_id=ACC123 as their example."""
    from callbacks.sources import describe_connector
    from connectors.catalog import catalog
    from pages._sources_view import connector_fields

    groups = connector_fields(catalog(), group="g", field="f", feedback="b")
    demo = next(g for g in groups if g.id == {"type": "g", "connector": "demo"})
    drawn = texts(demo)
    assert "ACC123" not in drawn and "account_id" not in drawn
    assert '"placeholder": "2000"' in drawn  # its own records field
    placeholder, docs, _file, _groups = describe_connector("demo")
    assert placeholder == "Not needed" and "CallRail" not in docs


# --- editing a saved connection ---------------------------------------------------------------


def test_a_connections_name_and_settings_can_be_edited_after_saving(server, db, world, dash_app):
    conn = make_connection(db, world.org_a, "hubspot", name="Sales", token="pat-1")
    make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    admin = signed_client(server, "admin_a@example.com")
    key = callback_key(dash_app, "..source-message.children...source-changed.data")
    from tests.callbacks.test_sources import pattern_outputs, post, settings_state

    def save_as(name, base_url=""):
        return post(
            admin,
            key,
            pattern_outputs(key),
            inputs=[
                {"id": "source-schedule-save", "property": "n_clicks", "value": 0},
                {"id": "source-schedule-off", "property": "n_clicks", "value": 0},
                {"id": "source-settings-save", "property": "n_clicks", "value": 1},
            ],
            state=settings_state(conn.id, base_url=base_url, name=name),
            changed=["source-settings-save.n_clicks"],
        ).get_json()["response"]

    out = save_as("Sales pipeline")
    assert "Settings of Sales pipeline saved" in json.dumps(out)
    with db.session() as s:
        assert s.get(Connection, conn.id).name == "Sales pipeline"
    taken = save_as("Demo CRM")
    assert taken["source-name-input"]["invalid"] is True
    assert "already has a connection named" in taken["source-name-feedback"]["children"]
    empty = save_as("  ")
    assert empty["source-name-feedback"]["children"] == "A connection needs a name."
    bad = save_as("Sales pipeline", "not a url")
    assert bad["source-base-url"]["invalid"] is True
    with db.session() as s:
        stored = s.get(Connection, conn.id)
        assert stored.name == "Sales pipeline" and stored.base_url == ""
    # the saved token is kept (the secret box was left empty: "unchanged")
    out = save_settings(admin, dash_app, conn.id, "")
    assert "Credentials cleared" not in json.dumps(out.get_json())


# --- a connection test gives up after 10 s ------------------------------------------------------


@pytest.fixture
def silent_host():
    """A TCP port on loopback that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    for sock in held:
        sock.close()
    listener.close()


def test_a_test_of_a_silent_host_gives_up_within_10_s(server, db, world, silent_host):
    from models.orgs import User
    from models.scope import build_viewer
    from settings import get_settings, parse_allowed_host, reset_settings
    from workers.service import check_connection

    before = get_settings()
    allowed = (parse_allowed_host(f"127.0.0.1:{silent_host}"),)
    reset_settings(replace(before, connector_allow_hosts=allowed))
    try:
        with db.session() as s:
            viewer = build_viewer(s, s.get(User, world.users["admin_a"]), None)
        started = time.monotonic()
        ok, message = check_connection(
            viewer, "hubspot", f"http://127.0.0.1:{silent_host}", {"token": "pat-1"}, {}
        )
        took = time.monotonic() - started
    finally:
        reset_settings(before)
    assert ok is False
    assert took < 11.5, took
    assert message.startswith("No answer from 127.0.0.1 within 10 s"), message


def test_the_test_buttons_say_testing_and_are_disabled_while_they_run(dash_app):
    """Dash's `running` sets the button while the callback runs (no tiny spinner elsewhere)."""
    from dash._callback import GLOBAL_CALLBACK_LIST

    from pages._sources_ids import TESTING

    for button in ("sources-add-test", "source-test"):
        spec = next(
            c
            for c in [*GLOBAL_CALLBACK_LIST, *dash_app.app._callback_list]
            if c["output"].endswith("test-result.children")
            and any(i["id"] == button for i in c["inputs"])
        )
        running = spec["running"]
        assert running["running"][f"{button}.disabled"] is True
        assert running["runningOff"][f"{button}.disabled"] is False
        assert TESTING in json.dumps(running["running"], ensure_ascii=False, default=str)


# --- loading shapes (defect 4): no console page starts blank ---------------------------------


def _find(tree, wanted: str):
    """The component with id `wanted` in a layout tree, or None."""
    if getattr(tree, "id", None) == wanted:
        return tree
    children = getattr(tree, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found = _find(child, wanted)
            if found is not None:
                return found
    return None


@pytest.mark.parametrize(
    "module, kwargs, containers",
    [
        ("pages.sources", {}, ["sources-grid"]),
        (
            "pages.source_detail",
            {"source_id": "1"},
            ["source-header", "source-streams", "source-settings"],
        ),
        (
            "pages.stream_detail",
            {"source_id": "1", "stream": "contacts"},
            ["stream-header", "stream-summary", "stream-errors", "stream-records"],
        ),
        ("pages.sync_detail", {"run_id": "1"}, ["run-body"]),
    ],
)
def test_console_pages_start_with_the_shape_of_their_content(
    server, db, world, module, kwargs, containers
):
    """What a callback fills shows a skeleton (role=status, "Loading…") until it does."""
    import dash

    with as_user(server, db, "agent_a1@example.com"):
        tree = dash.page_registry[module]["layout"](**kwargs)
    for cid in containers:
        box = _find(tree, cid)
        assert box is not None, cid
        shown = texts(box)
        assert "sb-skeleton" in shown and "Loading" in shown and '"role": "status"' in shown, cid
