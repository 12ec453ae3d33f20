"""The REST API over the real app: tokens, scoping by org and role, JSON errors."""

from __future__ import annotations

import time

import pytest

from models.orgs import User
from models.users import create_token
from tests.helpers import make_connection


@pytest.fixture
def tokens(db, world):
    with db.session() as s:
        out = {key: create_token(s, s.get(User, uid)).token for key, uid in world.users.items()}
        s.commit()
    return out


def call(client, method, path, token=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return getattr(client, method)("/api/v1" + path, headers=headers, **kwargs)


def wait_done(client, token, run_id):
    for _ in range(200):
        body = call(client, "get", f"/syncs/{run_id}", token).get_json()
        if body["status"] not in ("queued", "running"):
            return body
        time.sleep(0.05)
    raise AssertionError(body)


def test_token_is_required_and_checked(client, db, world):
    assert call(client, "get", "/sources").status_code == 401
    bad = call(client, "get", "/sources", "sb_not-a-token")
    assert bad.status_code == 401 and "not valid" in bad.get_json()["error"]


def test_tokens_die_with_deactivation_and_can_be_revoked(client, db, world):
    from models.tokens import ApiToken
    from models.users import deactivate_user, revoke_token

    with db.session() as s:
        manager = s.get(User, world.users["manager_a"])
        one, two = create_token(s, manager, "one"), create_token(s, manager, "two")
        agent = create_token(s, s.get(User, world.users["agent_a1"]), "agent")
        s.commit()
    assert call(client, "get", "/sources", one.token).status_code == 200
    with db.session() as s:
        assert not revoke_token(s, world.users["agent_a1"], one.record.id)  # not theirs
        assert revoke_token(s, world.users["manager_a"], one.record.id)
        assert not revoke_token(s, world.users["manager_a"], one.record.id)  # already
        s.commit()
    assert call(client, "get", "/sources", one.token).status_code == 401
    assert call(client, "get", "/sources", two.token).status_code == 200
    with db.session() as s:
        deactivate_user(s, s.get(User, world.users["manager_a"]))
        s.commit()
    assert call(client, "get", "/sources", two.token).status_code == 401
    with db.session() as s:
        s.get(User, world.users["manager_a"]).is_active = True
        s.commit()
        assert s.get(ApiToken, two.record.id).revoked
    assert call(client, "get", "/sources", two.token).status_code == 401
    assert call(client, "get", "/sources", agent.token).status_code == 200


def test_admin_starts_a_sync_and_follows_it(client, db, world, tokens):
    conn = make_connection(
        db, world.org_a, "demo", settings={"records": 60, "delay_ms": 0}, name="Demo"
    )
    started = call(
        client,
        "post",
        "/syncs",
        tokens["admin_a"],
        json={"connection": conn.id, "stream": "contacts", "options": {"batch_size": 20}},
    )
    assert started.status_code == 202, started.get_json()
    body = started.get_json()
    assert body["status"] in ("queued", "running", "success") and body["trigger"] == "api"
    done = wait_done(client, tokens["admin_a"], body["id"])
    assert (done["status"], done["created"], done["progress"]) == ("success", 60, 1.0)
    listed = call(
        client, "get", f"/syncs?connection={conn.id}&status=success", tokens["manager_a"]
    ).get_json()
    assert listed["total"] == 1 and listed["syncs"][0]["id"] == body["id"]
    sources = call(client, "get", "/sources", tokens["agent_a1"]).get_json()["sources"]
    assert sources[0]["name"] == "Demo"
    assert {s["name"]: s["records"] for s in sources[0]["streams"]} == {"contacts": 60, "calls": 0}


def test_roles_and_orgs_are_enforced(client, db, world, tokens):
    conn = make_connection(db, world.org_a, "demo", settings={"records": 5})
    denied = call(client, "post", "/syncs", tokens["manager_a"], json={"connection": conn.id})
    assert denied.status_code == 403
    foreign = call(client, "post", "/syncs", tokens["admin_b"], json={"connection": conn.id})
    assert foreign.status_code == 404
    assert call(client, "get", "/sources?org=alpha", tokens["admin_b"]).status_code == 403
    assert call(client, "get", "/sources?org=beta", tokens["platform"]).status_code == 200


def test_errors_are_json(client, db, world, tokens):
    conn = make_connection(db, world.org_a, "demo", settings={"records": 5})
    admin = tokens["admin_a"]
    assert call(client, "post", "/syncs", admin, data="nope").status_code == 400
    bad = call(
        client,
        "post",
        "/syncs",
        admin,
        json={"connection": conn.id, "options": {"max_records": -1}},
    )
    assert bad.status_code == 422 and "max_records" in bad.get_json()["error"]
    unknown = call(
        client, "post", "/syncs", admin, json={"connection": conn.id, "options": {"turbo": True}}
    )
    assert unknown.status_code == 422
    assert call(client, "get", "/syncs/999999", admin).status_code == 404
    missing = call(client, "get", "/nothing", admin)
    assert missing.status_code == 404 and missing.get_json()["error"].startswith("No API endpoint")
    assert call(client, "get", "/syncs?limit=abc", admin).status_code == 400


def test_conflict_and_cancel(client, db, world, tokens):
    conn = make_connection(db, world.org_a, "demo", settings={"records": 400, "delay_ms": 100})
    admin = tokens["admin_a"]
    first = call(
        client,
        "post",
        "/syncs",
        admin,
        json={"connection": conn.id, "options": {"batch_size": 100}},
    ).get_json()
    second = call(
        client, "post", "/syncs", admin, json={"connection": conn.id, "stream": "contacts"}
    )
    assert second.status_code == 409 and "already" in second.get_json()["error"]
    assert (
        call(client, "post", f"/syncs/{first['id']}/cancel", tokens["manager_a"]).status_code == 403
    )
    cancelled = call(client, "post", f"/syncs/{first['id']}/cancel", admin)
    assert cancelled.status_code == 202
    done = wait_done(client, admin, first["id"])
    assert done["status"] == "cancelled"
    assert call(client, "post", f"/syncs/{first['id']}/cancel", admin).status_code == 409


def test_openapi_describes_the_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/sources", "/syncs", "/syncs/{id}", "/syncs/{id}/cancel"} <= set(spec["paths"])


def test_kpis_are_scoped_by_token(client, db, world, tokens):
    manager = call(client, "get", "/kpis", tokens["manager_a"]).get_json()
    assert (
        manager["total_calls"],
        manager["answered"],
        manager["missed"],
        manager["voicemail"],
    ) == (9, 6, 2, 1)
    assert manager["answer_rate"] == round(6 / 9, 4) and manager["average_handle_time"] == 120.0
    agent = call(client, "get", "/kpis", tokens["agent_a1"]).get_json()
    assert agent["total_calls"] == 4
    forged = call(
        client, "get", f"/kpis?phone={world.numbers['a2']}", tokens["agent_a1"]
    ).get_json()
    assert forged["total_calls"] == 0
    other = call(client, "get", "/kpis?org=beta", tokens["platform"]).get_json()
    assert other["total_calls"] == 5
    assert call(client, "get", "/kpis?from=2030-13-01", tokens["manager_a"]).status_code == 400


def test_calls_as_json_and_csv(client, db, world, tokens):
    page = call(client, "get", "/calls?limit=3", tokens["manager_a"]).get_json()
    assert page["total"] == 9 and len(page["calls"]) == 3
    agent = call(client, "get", "/calls?limit=50", tokens["agent_a2"]).get_json()
    assert agent["total"] == 5
    csv = call(client, "get", "/calls?format=csv&status=answered", tokens["manager_a"])
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).strip().splitlines()
    assert len(lines) == 1 + 6


def test_sources_count_what_the_viewer_sees(client, db, world, tokens):
    """An agent's call count is of their numbers' calls, as on the sources page (was the org's)."""
    from sqlalchemy import update

    from models.records import Call

    conn = make_connection(db, world.org_a, "demo", name="Phones")
    with db.session() as s:
        s.execute(update(Call).where(Call.org_id == world.org_a).values(connection_id=conn.id))
        s.commit()

    def calls_of(key):
        body = call(client, "get", "/sources", tokens[key]).get_json()
        (source,) = body["sources"]
        return {s["name"]: s["records"] for s in source["streams"]}["calls"]

    assert calls_of("admin_a") == world.calls_a == 9
    assert calls_of("manager_a") == 9
    assert calls_of("agent_a1") == 4
    assert calls_of("agent_a2") == 5
    assert call(client, "get", "/sources", tokens["admin_b"]).get_json()["sources"] == []


@pytest.mark.parametrize("key", ["admin_a", "manager_a", "agent_a1", "agent_a2"])
def test_no_route_answers_with_org_bs_data(client, db, world, tokens, key):
    """Every route, as each role of org A, asked about org B's connection and run."""
    from sqlalchemy import update

    from models.records import Call
    from models.runs import finish_run, request_run
    from models.sync_options import parse_options

    theirs = make_connection(db, world.org_b, "demo", name="Beta MARK-B")
    with db.session() as s:
        s.execute(update(Call).where(Call.org_id == world.org_b).values(from_number="MARK-B"))
        run = request_run(s, theirs, stream=None, options=parse_options({}), trigger="cli")
        finish_run(s, run.id, "failed", error="MARK-B failed")
        s.commit()
        run_id = run.id
    token = tokens[key]
    asks = [
        ("get", "/sources", {}),
        ("get", f"/syncs?connection={theirs.id}", {}),
        ("get", "/syncs", {}),
        ("get", f"/syncs/{run_id}", {}),
        ("post", f"/syncs/{run_id}/cancel", {}),
        ("post", "/syncs", {"json": {"connection": theirs.id}}),
        ("get", "/kpis", {}),
        ("get", "/calls", {}),
        ("get", "/calls?format=csv", {}),
        ("get", f"/calls?org={world.org_b}", {}),
        ("get", "/sources?org=beta", {}),
    ]
    for method, path, extra in asks:
        response = call(client, method, path, token, **extra)
        body = response.get_data(as_text=True)
        assert "MARK-B" not in body and "Beta" not in body, (path, response.status_code, body[:300])
        assert response.status_code in (200, 202, 403, 404), (path, response.status_code)
