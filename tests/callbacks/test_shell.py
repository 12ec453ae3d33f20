"""The frame's callbacks: switching organisation keeps the page, and only to one's own."""

from __future__ import annotations

import pytest

from tests.helpers import dash_post, login

REDIRECT = "shell-redirect.href"


def switch(client, org_id, pathname: str = "/", search: str = ""):
    return dash_post(
        client,
        REDIRECT,
        [{"id": "shell-org", "property": "value", "value": org_id}],
        state=[
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
    )


def org_in_session(client) -> int | None:
    with client.session_transaction() as session:
        return session.get("org_id")


@pytest.mark.parametrize(
    ("pathname", "search", "lands"),
    [
        ("/calls", "?direction=inbound", "/calls?direction=inbound"),
        ("/", "?range=7d&number=3", "/?range=7d&number=3"),
        ("/team", "", "/team"),
        ("/syncs/", "?status=failed", "/syncs?status=failed"),
        ("/sources/3", "?tab=settings", "/sources"),
        ("/sources/3/contacts", "", "/sources"),
        ("/syncs/12", "", "/syncs"),
        ("/admin", "?x=1", "/"),
    ],
)
def test_switching_organisation_keeps_the_page_and_its_query(
    client, world, pathname, search, lands
):
    login(client, "platform@example.com")
    answer = switch(client, world.org_b, pathname, search)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["response"]["shell-redirect"]["href"] == lands
    assert org_in_session(client) == world.org_b


def test_a_forged_organisation_is_refused(client, world):
    login(client, "admin_a@example.com")
    before = org_in_session(client)
    answer = switch(client, world.org_b, "/calls", "?direction=inbound")
    assert answer.status_code == 403
    assert "not a member" in answer.get_json()["error"]
    assert org_in_session(client) == before


def test_the_same_organisation_changes_nothing_and_nonsense_is_refused(client, world):
    login(client, "platform@example.com")
    switch(client, world.org_b, "/calls")
    for value in (world.org_b, str(world.org_b), None):
        answer = switch(client, value, "/calls")
        assert answer.status_code in (200, 204), value
        if answer.status_code == 200:  # every output no_update
            assert answer.get_json()["response"] == {}, value
    for value in ("x", [1], {"a": 1}, 1.5, 2**64):
        assert switch(client, value, "/calls").status_code == 403, value
    assert org_in_session(client) == world.org_b


def test_the_tab_title_names_the_page_and_the_organisation(server, world, db):
    import dash
    from flask import g
    from flask_login import login_user

    from models.orgs import User
    from web.auth import signed_in_user

    with db.session() as s:
        user = signed_in_user(s.get(User, world.users["manager_a"]))
    titles = {}
    with server.test_request_context("/calls"):
        login_user(user)
        g.pop("_viewer", None)
        for page in dash.page_registry.values():
            title = page["title"]
            titles[page["path"]] = title(source_id="1") if callable(title) else title
    assert titles["/calls"] == "Calls · Alpha Co · syncboard"
    assert titles["/"] == "Overview · Alpha Co · syncboard"
    assert titles["/404"] == "Not found · Alpha Co · syncboard"
    assert all(t.endswith(" · Alpha Co · syncboard") for t in titles.values()), titles
