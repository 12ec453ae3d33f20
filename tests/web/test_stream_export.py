"""GET /export/sources/<id>/<stream>.csv over HTTP (runs once web.stream_export.bp is registered)."""

from __future__ import annotations

import csv
import io

import pytest

from tests.helpers import login, make_connection, run_sync

FAST = {"records": 30, "delay_ms": 0}


@pytest.fixture
def export_ready(server):
    if "stream_export" not in server.blueprints:
        pytest.skip("web.stream_export.bp is not registered in app.py yet")


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_export_streams_the_scoped_records_as_csv(server, db, world, export_ready):
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    run_sync(conn)
    client = server.test_client()
    login(client, "manager_a@example.com")
    response = client.get(f"/export/sources/{conn.id}/contacts.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="Demo-CRM-contacts.csv"' in response.headers["Content-Disposition"]
    rows = rows_of(response)
    assert "External ID" in rows[0] and "Raw" not in rows[0] and len(rows) == 31
    searched = rows_of(client.get(f"/export/sources/{conn.id}/contacts.csv?q=demo-contact-2"))
    assert len(searched) == 1 + 11  # demo-contact-2 and -20…-29

    agent = server.test_client()
    login(agent, "agent_a1@example.com")
    assert len(rows_of(agent.get(f"/export/sources/{conn.id}/calls.csv"))) == 1  # header only


def test_export_refuses_strangers_and_other_orgs(server, db, world, export_ready):
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    anonymous = server.test_client()
    assert anonymous.get(f"/export/sources/{conn.id}/contacts.csv").status_code in (302, 401, 403)
    other = server.test_client()
    login(other, "admin_b@example.com")
    assert other.get(f"/export/sources/{conn.id}/contacts.csv").status_code == 404
    mine = server.test_client()
    login(mine, "admin_a@example.com")
    assert mine.get(f"/export/sources/{conn.id}/deals.csv").status_code == 404
