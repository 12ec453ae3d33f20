"""The sources and source pages' callbacks: as functions and over HTTP, forged inputs included."""

from __future__ import annotations

import json
from contextlib import contextmanager

from sqlalchemy import func, select

from models.credentials import decrypt_credentials
from models.sync import Connection, SyncRun
from tests.helpers import dash_post, login, make_connection, run_sync

SECRET = "tok-SECRET-7f3a9c"
FAST = {"records": 40, "delay_ms": 0}


# --- helpers shared with test_syncs.py --------------------------------------------------------


def callback_key(dash_app, fragment: str) -> str:
    """The exact output key Dash registered for a callback (with any @hash of allow_duplicate)."""
    from dash._callback import GLOBAL_CALLBACK_MAP

    keys = {*GLOBAL_CALLBACK_MAP, *dash_app.app.callback_map}
    if fragment in keys:
        return fragment
    found = [k for k in keys if k.startswith(fragment)] or [k for k in keys if fragment in k]
    assert len(found) == 1, (fragment, found)
    return found[0]


def signed_client(server, email: str):
    client = server.test_client()
    login(client, email)
    client.get("/_dash-layout")
    return client


def post(client, output: str, outputs, inputs: list[dict], state: list | None = None, changed=None):
    """A raw callback POST (pattern-matching ids included) with the CSRF header, as the browser sends."""
    return dash_post(client, output, inputs, state=state, changed=changed, outputs=outputs)


def outputs_of(key: str):
    """The `outputs` list the browser sends for an output key ("..a.x...b.y.." or "a.x")."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outs = [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in parts]
    return outs if key.startswith("..") else outs[0]


def call(client, key: str, inputs: list[dict], state: list | None = None):
    """POST a callback through tests.helpers.dash_post, as the browser does."""
    outputs = pattern_outputs(key) if '["ALL"]' in key else None
    return dash_post(client, key, inputs, state=state, outputs=outputs)


# --- the connector settings forms: every connector's fields, drawn in catalog order ---------


def field_state(kind: str = "sources-add-field", values: dict | None = None) -> list[dict]:
    """The ALL state of every settings field as the browser sends it; values by "key.name"."""
    from connectors.catalog import catalog
    from pages._sources_view import empty_value

    values = values or {}
    return [
        {
            "id": {"type": kind, "connector": cls.key, "name": spec.name},
            "property": "value",
            "value": values.get(f"{cls.key}.{spec.name}", empty_value(spec)),
        }
        for cls in catalog()
        for spec in cls.config_fields
    ]


def pattern_outputs(key: str) -> list:
    """The `outputs` the renderer sends for a key, each ALL part expanded to the layout's ids."""
    from connectors.catalog import catalog

    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outs = []
    for part in parts:
        cid, prop = part.rsplit(".", 1)
        cid = cid.split("@")[0]
        if not cid.startswith("{"):
            outs.append({"id": cid, "property": prop})
            continue
        kind = json.loads(cid)["type"]
        if "name" in json.loads(cid):
            ids = [
                {"type": kind, "connector": cls.key, "name": spec.name}
                for cls in catalog()
                for spec in cls.config_fields
            ]
        else:
            ids = [{"type": kind, "connector": cls.key} for cls in catalog()]
        outs.append([{"id": i, "property": prop} for i in ids])
    return outs if key.startswith("..") else outs[0]


def field_out(out: dict, kind: str, connector: str, name: str) -> dict:
    """One field's entry in a callback's response."""
    cid = {"type": kind, "connector": connector, "name": name}
    return out[json.dumps(cid, sort_keys=True, separators=(",", ":"))]


def page_layout(client, path: str, search: str = ""):
    """What Dash's page router returns for `path` (the layout a browser would render)."""
    return call(
        client,
        ".._pages_content.children..._pages_store.data..",
        inputs=[
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
    )


@contextmanager
def as_user(server, db, email: str):
    """A request context signed in as `email`, for calling callbacks as plain functions."""
    from flask_login import login_user

    from models.orgs import User
    from web.auth import SignedInUser

    with db.session() as s:
        user = s.scalar(select(User).where(User.email == email))
        signed = SignedInUser(
            user.id, user.email, user.name, user.is_platform_admin, user.session_version
        )
    with server.test_request_context("/"):
        login_user(signed)
        yield


def texts(component) -> str:
    """Every string in a component tree (dicts from JSON or Dash components)."""
    if hasattr(component, "to_plotly_json"):
        component = component.to_plotly_json()
    return json.dumps(component, default=lambda o: o.to_plotly_json())


def runs_count(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count(SyncRun.id)))


# --- the source cards ----------------------------------------------------------------------


def test_cards_as_functions_differ_by_role(server, db, world):
    from callbacks.sources import render_cards

    make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    make_connection(db, world.org_b, "demo", name="Beta only", settings=FAST)
    with as_user(server, db, "admin_a@example.com"):
        grid = texts(render_cards(None, 0, None, None, None))
    assert "Demo CRM" in grid and "Beta only" not in grid
    assert "never synced" in grid and '"sync-open"' in grid  # admins get "Sync all"
    with as_user(server, db, "manager_a@example.com"):
        grid = texts(render_cards("", 0, None, None, None))
    assert "Demo CRM" in grid and '"sync-open"' not in grid
    with as_user(server, db, "admin_a@example.com"):
        empty = texts(render_cards("zzz", 0, None, None, None))
    assert "No source matches" in empty


def test_cards_over_http_show_health_after_a_sync(server, db, world):
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    run_sync(conn)
    client = signed_client(server, "agent_a1@example.com")
    response = call(
        client,
        "sources-grid.children",
        inputs=[
            {"id": "sources-search", "property": "value", "value": "demo"},
            {"id": "sources-refresh", "property": "n_clicks", "value": 1},
            {"id": "syncwatch-started", "property": "data", "value": None},
            {"id": "syncwatch-finished", "property": "data", "value": None},
            {"id": "sources-add-saved", "property": "data", "value": None},
        ],
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Demo CRM" in body and "success" in body and "just now" in body


# --- adding a connection --------------------------------------------------------------------


def add_state(connector="hubspot", name="Sales", base_url="", schedule=30, path=None, **fields):
    """The save callback's state; fields by "connector.field" (dots as "__" in keywords)."""
    values = {k.replace("__", "."): v for k, v in fields.items()}
    return [
        {"id": "sources-add-connector", "property": "value", "value": connector},
        {"id": "sources-add-name", "property": "value", "value": name},
        {"id": "sources-add-base-url", "property": "value", "value": base_url},
        {"id": "sources-add-schedule", "property": "value", "value": schedule},
        field_state("sources-add-field", values),
        {"id": "sources-add-file-path", "property": "data", "value": path},
    ]


def check_state(connector="hubspot", base_url="", path=None, **fields):
    """The Test callback's state (no name, no schedule)."""
    state = add_state(connector, base_url=base_url, path=path, **fields)
    return [state[0], state[2], state[4], state[5]]


ADD_STATE = add_state(hubspot__token=SECRET)


def save(client, dash_app, state=ADD_STATE):
    return call(
        client,
        callback_key(dash_app, "sources-add-saved.data"),
        inputs=[{"id": "sources-add-save", "property": "n_clicks", "value": 1}],
        state=state,
    )


def test_admin_adds_a_connection_and_the_token_never_comes_back(server, db, world, dash_app):
    client = signed_client(server, "admin_a@example.com")
    response = save(client, dash_app)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert SECRET not in body
    out = response.get_json()["response"]
    assert field_out(out, "sources-add-field", "hubspot", "token")["value"] == ""  # cleared
    assert out["sources-add-saved"]["data"]["name"] == "Sales"
    with db.session() as s:
        conn = s.scalar(select(Connection).where(Connection.name == "Sales"))
        assert conn.org_id == world.org_a and conn.schedule_minutes == 30
        assert decrypt_credentials(conn.credentials_encrypted) == {"token": SECRET}
        blob, cid = conn.credentials_encrypted, conn.id

    # Nothing the pages send afterwards carries the token or its ciphertext.
    responses = [
        page_layout(client, "/sources"),
        page_layout(client, f"/sources/{cid}"),
        call(
            client,
            "sources-grid.children",
            inputs=[
                {"id": "sources-search", "property": "value", "value": ""},
                {"id": "sources-refresh", "property": "n_clicks", "value": 0},
                {"id": "syncwatch-started", "property": "data", "value": None},
                {"id": "syncwatch-finished", "property": "data", "value": None},
                {"id": "sources-add-saved", "property": "data", "value": None},
            ],
        ),
        call(
            client,
            callback_key(dash_app, "..source-header.children"),
            inputs=[
                {"id": "source-id", "property": "data", "value": str(cid)},
                {"id": "syncwatch-started", "property": "data", "value": None},
                {"id": "syncwatch-finished", "property": "data", "value": None},
                {"id": "source-changed", "property": "data", "value": 0},
            ],
        ),
        call(
            client,
            callback_key(dash_app, "..source-name-input.value"),
            inputs=[
                {"id": "source-id", "property": "data", "value": str(cid)},
                {"id": "source-changed", "property": "data", "value": 0},
            ],
        ),
    ]
    for response in responses:
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert SECRET not in text and blob not in text
    # decoded, since Dash escapes non-ASCII text unless orjson is installed
    assert "•••• saved" in json.dumps(responses[3].get_json(), ensure_ascii=False)


def test_duplicate_and_missing_names_are_explained_inline(server, db, world, dash_app):
    make_connection(db, world.org_a, "demo", name="Sales", settings=FAST)
    client = signed_client(server, "admin_a@example.com")
    out = save(client, dash_app).get_json()["response"]
    assert out["sources-add-name"]["invalid"] is True
    assert "already has a connection named" in out["sources-add-name-feedback"]["children"]
    assert SECRET not in json.dumps(out)  # the typed token is not echoed back
    out = save(client, dash_app, add_state(name="   ", hubspot__token=SECRET)).get_json()
    out = out["response"]
    assert out["sources-add-name-feedback"]["children"] == "A connection needs a name."
    bad = add_state(name="Support", schedule=0, hubspot__token=SECRET)
    out = save(client, dash_app, bad).get_json()["response"]
    assert "between 1 minute and 7 days" in json.dumps(out["sources-add-error"])


def test_managers_and_agents_cannot_add_or_test(server, db, world, dash_app):
    for email in ("manager_a@example.com", "agent_a1@example.com"):
        client = signed_client(server, email)
        assert save(client, dash_app).status_code == 403
        tested = call(
            client,
            callback_key(dash_app, "sources-add-test-result.children"),
            inputs=[{"id": "sources-add-test", "property": "n_clicks", "value": 1}],
            state=check_state(hubspot__token=SECRET),
        )
        assert tested.status_code == 403
    with db.session() as s:
        assert s.scalar(select(func.count(Connection.id))) == 0


def test_test_connection_shows_the_connectors_message(server, db, world, dash_app):
    from callbacks.sources import describe_connector, test_new_connection

    client = signed_client(server, "admin_a@example.com")
    key = callback_key(dash_app, "sources-add-test-result.children")
    response = call(
        client,
        key,
        inputs=[{"id": "sources-add-test", "property": "n_clicks", "value": 1}],
        state=check_state("demo", demo__records=300),
    )
    alert = json.dumps(response.get_json()["response"])
    assert "Demo data is ready: 300 records per stream." in alert and "success" in alert
    with as_user(server, db, "admin_a@example.com"):
        failed = texts(test_new_connection(1, "nope", "", {"token": SECRET}))
        unchecked = texts(test_new_connection(1, "demo", "", {"records": "many"}))
    assert "unknown connector" in failed and "danger" in failed and SECRET not in failed
    assert "Records per stream must be a whole number." in unchecked
    placeholder, _docs, file_style, groups = describe_connector("hubspot")
    assert placeholder == "https://api.hubapi.com" and file_style == {"display": "none"}
    from connectors.catalog import catalog

    shown = [cls.key for cls, style in zip(catalog(), groups, strict=True) if style is None]
    assert shown == ["hubspot"]
    assert describe_connector("csv")[2] is None  # an uploading connector shows the upload box
    assert all(style == {"display": "none"} for style in describe_connector("nope")[3])


def test_each_setting_is_checked_on_the_server_with_its_message_under_it(
    server, db, world, dash_app
):
    client = signed_client(server, "admin_a@example.com")
    missing = save(client, dash_app, add_state(name="No key")).get_json()["response"]
    token = field_out(missing, "sources-add-field", "hubspot", "token")
    assert token["invalid"] is True
    message = field_out(missing, "sources-add-field-feedback", "hubspot", "token")
    assert message["children"] == "Enter the Private app access token."
    # another connector's fields are neither marked nor blamed
    assert field_out(missing, "sources-add-field", "callrail", "token")["invalid"] is False
    assert "Check the highlighted settings." in json.dumps(missing["sources-add-error"])
    forged = add_state(
        "callrail",
        "Calls",
        callrail__token=SECRET,
        callrail__account_id="ACC1",
        callrail__lookback_hours="-3",
        callrail__start_date="yesterday",
    )
    out = save(client, dash_app, forged).get_json()["response"]
    messages = {
        name: field_out(out, "sources-add-field-feedback", "callrail", name)["children"]
        for name in ("token", "account_id", "lookback_hours", "start_date")
    }
    assert messages == {
        "token": "",
        "account_id": "",
        "lookback_hours": "Re-read recent calls (hours) must be at least 0.",
        "start_date": "Read calls from must be a date (YYYY-MM-DD).",
    }
    assert SECRET not in json.dumps(out)
    with db.session() as s:
        assert s.scalar(select(func.count(Connection.id))) == 0


def test_every_secret_field_is_encrypted_and_only_shown_as_saved(server, db, world, dash_app):
    """MightyCall's two keys are two secret fields: both stored encrypted, neither sent back."""
    api_key, user_key = "mc-API-1f2e3d", "mc-USER-9a8b7c"
    client = signed_client(server, "admin_a@example.com")
    state = add_state(
        "mightycall",
        "Phones",
        mightycall__token=api_key,
        mightycall__secret=user_key,
        mightycall__lookback_minutes=15,
    )
    out = save(client, dash_app, state).get_json()["response"]
    assert out["sources-add-saved"]["data"]["name"] == "Phones"
    with db.session() as s:
        conn = s.scalar(select(Connection).where(Connection.name == "Phones"))
        assert decrypt_credentials(conn.credentials_encrypted) == {
            "token": api_key,
            "secret": user_key,
        }
        assert conn.settings == {"lookback_minutes": 15}
        cid, blob = conn.id, conn.credentials_encrypted
    fill = call(
        client,
        callback_key(dash_app, "..source-name-input.value"),
        inputs=[
            {"id": "source-id", "property": "data", "value": str(cid)},
            {"id": "source-changed", "property": "data", "value": 0},
        ],
    )
    filled = fill.get_json()["response"]
    for name in ("token", "secret"):
        box = field_out(filled, "source-field", "mightycall", name)
        assert box["value"] == "" and box["placeholder"].startswith("•••• unchanged")
    assert field_out(filled, "source-field", "mightycall", "lookback_minutes")["value"] == 15
    header = call(
        client,
        callback_key(dash_app, "..source-header.children"),
        inputs=[
            {"id": "source-id", "property": "data", "value": str(cid)},
            {"id": "syncwatch-started", "property": "data", "value": None},
            {"id": "syncwatch-finished", "property": "data", "value": None},
            {"id": "source-changed", "property": "data", "value": 0},
        ],
    )
    listed = json.dumps(header.get_json(), ensure_ascii=False)
    assert listed.count("•••• saved") == 2 and "User key" in listed
    for response in (fill, header, page_layout(client, f"/sources/{cid}")):
        text = response.get_data(as_text=True)
        assert api_key not in text and user_key not in text and blob not in text


def test_saving_settings_checks_them_and_keeps_what_the_form_does_not_hold(
    server, db, world, dash_app
):
    from models.connections import create_connection

    with db.session() as s:
        conn = create_connection(
            s,
            org_id=world.org_a,
            connector="mightycall",
            name="Phones",
            base_url="",
            credentials={"token": "key-1", "secret": "user-1"},
            settings={"lookback_minutes": 30, "max_retries": 2},
        )
        s.commit()
        cid = conn.id
    admin = signed_client(server, "admin_a@example.com")
    refused = save_settings(admin, dash_app, cid, "", mightycall__lookback_minutes=-1)
    out = refused.get_json()["response"]
    assert field_out(out, "source-field", "mightycall", "lookback_minutes")["invalid"] is True
    assert field_out(out, "source-field-feedback", "mightycall", "lookback_minutes")[
        "children"
    ] == ("Re-read recent calls (minutes) must be at least 0.")
    assert "Nothing was saved" in json.dumps(out)
    # the saved keys may stay empty; a typed one replaces its own key only
    saved = save_settings(
        admin, dash_app, cid, "", mightycall__secret="user-2", mightycall__lookback_minutes=5
    )
    assert "the new User key is stored encrypted" in saved.get_data(as_text=True)
    assert "user-2" not in saved.get_data(as_text=True)
    with db.session() as s:
        stored = s.get(Connection, cid)
        assert decrypt_credentials(stored.credentials_encrypted) == {
            "token": "key-1",
            "secret": "user-2",
        }
        assert stored.settings == {"lookback_minutes": 5, "max_retries": 2}
    cleared = save_settings(admin, dash_app, cid, "")
    assert "Settings of Phones saved." in cleared.get_data(as_text=True)
    with db.session() as s:
        assert s.get(Connection, cid).settings == {"max_retries": 2}


# --- a source's page ------------------------------------------------------------------------


def test_source_page_lists_streams_with_records_and_refuses_other_orgs(server, db, world):
    from callbacks.source_detail import render

    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    run_sync(conn)
    with as_user(server, db, "admin_a@example.com"):
        header, actions, streams, schedule, settings, delete, purge = render(
            str(conn.id), None, None, 0
        )
    table = texts(streams)
    assert '"stream-row-contacts"' in table and '"stream-row-calls"' in table
    assert "40" in table and "just now" in table and '"sync-open"' in table
    assert "No schedule" in schedule
    # A demo connection offers to delete the demo records it generated (80: its own only).
    assert "It generated 80 demo records" in texts(delete) and purge is None
    with as_user(server, db, "admin_b@example.com"):
        missing = texts(render(str(conn.id), None, None, 0))
    assert "Source not found" in missing and "Demo CRM" not in missing
    with as_user(server, db, "manager_a@example.com"):
        managed = texts(render(str(conn.id), None, None, 0))
    assert "Demo CRM" in managed and '"sync-open"' not in managed


def delete_state(conn_id: int, purge: bool = False) -> list[dict]:
    return [
        {"id": "source-id", "property": "data", "value": str(conn_id)},
        {"id": "source-delete-purge", "property": "value", "value": purge},
    ]


def test_schedule_stop_and_delete_are_refused_to_managers(server, db, world, dash_app):
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    manager = signed_client(server, "manager_a@example.com")
    schedule = call(
        manager,
        callback_key(dash_app, "..source-message.children...source-changed.data"),
        inputs=[
            {"id": "source-schedule-save", "property": "n_clicks", "value": 1},
            {"id": "source-schedule-off", "property": "n_clicks", "value": 0},
            {"id": "source-settings-save", "property": "n_clicks", "value": 0},
        ],
        state=settings_state(conn.id, minutes=5),
    )
    assert schedule.status_code == 403
    delete = call(
        manager,
        callback_key(dash_app, "..source-location.href"),
        inputs=[{"id": "source-delete-confirm", "property": "n_clicks", "value": 1}],
        state=delete_state(conn.id),
    )
    assert delete.status_code == 403
    with db.session() as s:
        stored = s.get(Connection, conn.id)
        assert stored is not None and stored.schedule_minutes is None


def test_admin_sets_schedule_and_deletes_keeping_records(server, db, world, dash_app):
    from models.records import Contact
    from tests.helpers import count_rows

    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    run_sync(conn)
    admin = signed_client(server, "admin_a@example.com")
    state = settings_state(conn.id, minutes=15)
    response = call(
        admin,
        callback_key(dash_app, "..source-message.children...source-changed.data"),
        inputs=[
            {"id": "source-schedule-save", "property": "n_clicks", "value": 1},
            {"id": "source-schedule-off", "property": "n_clicks", "value": 0},
            {"id": "source-settings-save", "property": "n_clicks", "value": 0},
        ],
        state=state,
    )
    assert "syncs every 15 minutes" in response.get_data(as_text=True)
    with db.session() as s:
        assert s.get(Connection, conn.id).schedule_minutes == 15

    # Another org's admin cannot delete it: the id is not theirs.
    other = signed_client(server, "admin_b@example.com")
    forged = call(
        other,
        callback_key(dash_app, "..source-location.href"),
        inputs=[{"id": "source-delete-confirm", "property": "n_clicks", "value": 1}],
        state=delete_state(conn.id),
    )
    assert forged.status_code == 200 and "No connection" in forged.get_data(as_text=True)

    deleted = call(
        admin,
        callback_key(dash_app, "..source-location.href"),
        inputs=[{"id": "source-delete-confirm", "property": "n_clicks", "value": 1}],
        state=delete_state(conn.id),
    )
    assert deleted.get_json()["response"]["source-location"]["href"] == "/sources"
    with db.session() as s:
        assert s.get(Connection, conn.id) is None
    assert count_rows(db, Contact, world.org_a) == 40  # synced records are kept
    assert runs_count(db) == 0


def test_deleting_a_demo_connection_can_purge_its_records_only(server, db, world, dash_app):
    """The box takes the connection's demo records along; another demo connection's stay."""
    from models.records import Call, Contact
    from tests.helpers import count_rows

    doomed = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    kept = make_connection(db, world.org_a, "demo", name="Demo 2", settings=FAST)
    run_sync(doomed)
    run_sync(kept)
    assert count_rows(db, Contact, world.org_a) == 80
    admin = signed_client(server, "admin_a@example.com")
    deleted = call(
        admin,
        callback_key(dash_app, "..source-location.href"),
        inputs=[{"id": "source-delete-confirm", "property": "n_clicks", "value": 1}],
        state=delete_state(doomed.id, purge=True),
    )
    assert deleted.get_json()["response"]["source-location"]["href"] == "/sources"
    with db.session() as s:
        assert s.get(Connection, doomed.id) is None
        owners = {c for (c,) in s.execute(select(Contact.connection_id))}
        assert owners == {kept.id}
    assert count_rows(db, Contact, world.org_a) == 40
    assert count_rows(db, Call, world.org_a) == world.calls_a + 40  # the world's calls stay


def test_runs_in_progress_show_one_live_bar_each_on_the_source_page(server, db, world):
    """An all-streams run is drawn once above the table; a stream's run in its row."""
    from callbacks.source_detail import render
    from models.runs import finish_run, request_run
    from models.sync_options import parse_options

    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    with db.session() as s:
        run = request_run(
            s, s.get(Connection, conn.id), stream=None, options=parse_options({}), trigger="user"
        )
        s.commit()
        every = run.id
    with as_user(server, db, "admin_a@example.com"):
        streams = texts(render(str(conn.id), None, None, 0)[2])
    bar = '"type": "sync-runbar"'
    assert streams.count(bar) == 1 and "Syncing all streams" in streams
    assert streams.count('"source-stop"') == 1
    with db.session() as s:
        finish_run(s, every, "cancelled")
        one = request_run(
            s, s.get(Connection, conn.id), stream="calls", options=parse_options({}), trigger="user"
        )
        s.commit()
        one_id = one.id
    with as_user(server, db, "admin_a@example.com"):
        streams = texts(render(str(conn.id), None, None, 0)[2])
    assert "Syncing all streams" not in streams
    assert streams.count(bar) == 1 and f'"type": "sync-runbar", "run": {one_id}' in streams
    assert streams.count('"source-stop"') == 1  # in the calls row; contacts can still sync
    with as_user(server, db, "manager_a@example.com"):
        assert '"source-stop"' not in texts(render(str(conn.id), None, None, 0)[2])


def test_admin_uploads_a_csv_and_loads_it(server, db, world, dash_app):
    """The file lands in this org's upload folder; a path of another org is refused."""
    import base64

    from callbacks.sources import upload_file

    client = signed_client(server, "admin_a@example.com")
    content = "id,started_at,status,direction,from,to\n1,2026-01-05T10:00:00Z,answered,inbound,+1555,+1800\n"
    encoded = "data:text/csv;base64," + base64.b64encode(content.encode()).decode()
    with as_user(server, db, "admin_a@example.com"):
        path, note = upload_file(encoded, "calls.csv")
    assert path.startswith(f"uploads/{world.org_a}/") and "is uploaded" in json.dumps(
        note.to_plotly_json(), default=str
    )
    state = add_state("csv", "January calls", schedule=None, path=path, csv__model="calls")
    saved = save(client, dash_app, state).get_json()["response"]
    assert saved["sources-add-saved"]["data"]["name"] == "January calls"
    with db.session() as s:
        conn = s.scalar(select(Connection).where(Connection.name == "January calls"))
        assert conn.settings == {"path": path, "model": "calls"}
    other = signed_client(server, "admin_b@example.com")
    state[1]["value"] = "Stolen"
    refused = save(other, dash_app, state).get_json()["response"]
    assert "not one of this organisation's uploads" in json.dumps(refused)


# --- a saved token stays with the address it was entered for --------------------------------


def settings_state(cid: int, *, minutes=None, base_url: str = "", name=None, **fields) -> list:
    """The source page's settings state; fields by "connector__field"."""
    values = {k.replace("__", "."): v for k, v in fields.items()}
    return [
        {"id": "source-id", "property": "data", "value": str(cid)},
        {"id": "source-schedule-minutes", "property": "value", "value": minutes},
        {"id": "source-base-url", "property": "value", "value": base_url},
        field_state("source-field", values),
        {"id": "source-changed", "property": "data", "value": 0},
        {"id": "source-name-input", "property": "value", "value": name},
    ]


def save_settings(client, dash_app, cid: int, base_url: str, token: str = "", **fields):
    """Press Save of the connection settings (the only input that changed)."""
    key = callback_key(dash_app, "..source-message.children...source-changed.data")
    return post(
        client,
        key,
        pattern_outputs(key),
        inputs=[
            {"id": "source-schedule-save", "property": "n_clicks", "value": 0},
            {"id": "source-schedule-off", "property": "n_clicks", "value": 0},
            {"id": "source-settings-save", "property": "n_clicks", "value": 1},
        ],
        state=settings_state(cid, base_url=base_url, hubspot__token=token, **fields),
        changed=["source-settings-save.n_clicks"],
    )


def press_test(client, dash_app, cid: int) -> str:
    response = call(
        client,
        callback_key(dash_app, "source-test-result.children"),
        inputs=[{"id": "source-test", "property": "n_clicks", "value": 1}],
        state=[{"id": "source-id", "property": "data", "value": str(cid)}],
    )
    assert response.status_code == 200
    return json.dumps(response.get_json(), ensure_ascii=False)


def test_a_new_host_gets_no_saved_token(server, db, world, dash_app):
    """Changing the base URL to another host and pressing Test used to send the saved token there."""
    from tests.fakes.hubspot import FakeHubSpot

    home, elsewhere = FakeHubSpot(token=SECRET).start(), FakeHubSpot(token=SECRET).start()
    try:
        conn = make_connection(db, world.org_a, "hubspot", base_url=home.url, token=SECRET)
        admin = signed_client(server, "admin_a@example.com")
        assert "Connected to HubSpot" in press_test(admin, dash_app, conn.id)
        assert home.log[-1].headers["authorization"] == f"Bearer {SECRET}"

        saved = json.dumps(
            save_settings(admin, dash_app, conn.id, elsewhere.url).get_json(), ensure_ascii=False
        )
        assert "Credentials cleared because the address changed — enter the token again" in saved
        with db.session() as s:
            assert s.get(Connection, conn.id).credentials_encrypted == ""
        tested = press_test(admin, dash_app, conn.id)
        assert "The Private app access token is missing" in tested and "danger" in tested
        run = run_sync(conn, "contacts")
        assert run.status == "failed"
        assert run.error.startswith("The Private app access token is missing")
        assert all("authorization" not in r.headers for r in elsewhere.log)
        assert elsewhere.log == []

        # A token typed in the same save goes with the new address; the same origin keeps it.
        saved = save_settings(admin, dash_app, conn.id, home.url, token=SECRET).get_data(
            as_text=True
        )
        assert "Credentials cleared" not in saved
        again = save_settings(admin, dash_app, conn.id, home.url + "/").get_data(as_text=True)
        assert "Credentials cleared" not in again
        assert "Connected to HubSpot" in press_test(admin, dash_app, conn.id)
        assert elsewhere.log == []
    finally:
        home.stop()
        elsewhere.stop()


# --- connection tests do not wait behind syncs ------------------------------------------------


def test_a_connection_test_answers_while_two_slow_syncs_fill_the_sync_pool(
    server, db, world, dash_app
):
    """Embedded mode: tests have their own pool (they used to queue behind the two syncs)."""
    import time

    from models.db import session_scope
    from models.runs import request_cancel
    from models.scope import Viewer
    from workers.service import start_sync

    # one sync in each org: two demo connections of one org would write the same records
    admins = [
        Viewer(world.users["admin_a"], "admin_a@example.com", world.org_a, "org_admin"),
        Viewer(world.users["admin_b"], "admin_b@example.com", world.org_b, "org_admin"),
    ]
    slow = {"records": 2000, "delay_ms": 400}
    runs = [
        start_sync(
            admin,
            make_connection(db, admin.org_id, "demo", name="Slow", settings=slow).id,
            options={"batch_size": 20},
        ).id
        for admin in admins
    ]

    def statuses() -> list[str]:
        with db.session() as s:
            return [s.get(SyncRun, run_id).status for run_id in runs]

    try:
        deadline = time.monotonic() + 20
        while statuses() != ["running", "running"]:
            assert time.monotonic() < deadline, statuses()
            time.sleep(0.1)
        client = signed_client(server, "admin_a@example.com")
        state = check_state("demo")
        started = time.monotonic()
        response = call(
            client,
            callback_key(dash_app, "sources-add-test-result.children"),
            inputs=[{"id": "sources-add-test", "property": "n_clicks", "value": 1}],
            state=state,
        )
        elapsed = time.monotonic() - started
        assert "Demo data is ready" in response.get_data(as_text=True)
        assert elapsed < 5, f"the test waited {elapsed:.1f} s"
        assert statuses() == ["running", "running"]  # the syncs were still holding the pool
    finally:
        with session_scope() as s:
            for admin, run_id in zip(admins, runs, strict=True):
                if s.get(SyncRun, run_id).status in ("queued", "running"):
                    request_cancel(s, admin, run_id)
        deadline = time.monotonic() + 30
        while statuses() != ["cancelled", "cancelled"]:
            assert time.monotonic() < deadline, statuses()
            time.sleep(0.1)


# --- Test reaches public addresses only and repeats nothing a server wrote --------------------


def test_the_add_form_refuses_internal_addresses_and_echoes_no_answer(server, db, world, dash_app):
    """Test used to fetch 127.0.0.1:6379 and the like, and showed the answer's first line."""
    from dataclasses import replace

    from settings import get_settings, reset_settings
    from tests.fakes.gsheet import FakeGoogleSheets

    marker = "internal-status-line-8c2e"
    sheets = FakeGoogleSheets().start()
    sheets.add_sheet("s1", [marker, "id", "subject"], [["ok", "t1", "Printer jam"]])
    client = signed_client(server, "admin_a@example.com")
    key = callback_key(dash_app, "sources-add-test-result.children")

    def press(connector: str, base_url: str) -> str:
        state = check_state(connector, base_url, **{f"{connector}__token": SECRET})
        response = call(
            client,
            key,
            inputs=[{"id": "sources-add-test", "property": "n_clicks", "value": 1}],
            state=state,
        )
        return response.get_data(as_text=True)

    saved = get_settings()
    try:
        shown = press("gsheet", sheets.export_link("s1"))  # 127.0.0.1 is allowed in the suite
        assert "Found 1 row in 3 columns. They load as tickets" in shown and marker not in shown
        reset_settings(replace(saved, connector_allow_hosts=()))
        sheets.log.clear()
        for connector, url in [
            ("gsheet", sheets.export_link("s1")),
            ("hubspot", "http://127.0.0.1:6379"),
            ("mynaga", "http://[::1]:5432/api/v1"),
            ("hubspot", "http://2130706433:6379"),
        ]:
            shown = press(connector, url)
            assert "is a loopback address" in shown or "resolves to a loopback address" in shown
            assert "SYNCBOARD_CONNECTOR_ALLOW_HOSTS" in shown and "danger" in shown
            assert marker not in shown and SECRET not in shown
        assert sheets.log == []
    finally:
        reset_settings(saved)
        sheets.stop()
