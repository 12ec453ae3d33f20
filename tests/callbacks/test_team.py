"""The team page's callbacks posted as the browser posts them: no action on a redraw, links
that stay and are absolute, validation next to the field, a removal that names the person."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from models.invitations import Invitation
from models.orgs import Membership, User
from models.outbox import OutboxMail
from models.scope import build_viewer
from models.team import invite, members
from tests.helpers import dash_post, login

SAVE_OUT = "..team-message.children...team-changed.data...team-edit-status.children.."
SEND_OUT = (
    "..team-invite-result.children...team-invite-email.invalid...team-invite-email-feedback"
    ".children...team-changed.data...team-invite-email.value.."
)
CHECK_OUT = "..team-invite-email.invalid...team-invite-email-feedback.children...team-invite-send.disabled.."
ASK_OUT = (
    "..team-confirm.is_open...team-pending-removal.data...team-confirm-title.children"
    "...team-confirm-body.children...team-confirm-ok.disabled...team-confirm-ok.children.."
)
EDITOR_OUT = (
    "..team-edit.className...team-edit-user.data...team-edit-title.children...team-edit-who.children"
    "...team-edit-role.value...team-edit-role.disabled...team-edit-role-note.children"
    "...team-edit-numbers.options...team-edit-numbers.value...team-edit-remove.disabled"
    "...team-edit-remove-note.children...team-edit-status.children...team-edit-save.disabled.."
)
GRID_OUT = "..team-grid-table.getRowsResponse...team-grid-count.children.."


def props_with_id(tree, component_id):
    """The props of every component with this id anywhere in a callback's JSON answer."""
    found = []
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == component_id:
            found.append(tree["props"])
        for value in tree.values():
            found += props_with_id(value, component_id)
    elif isinstance(tree, list):
        for value in tree:
            found += props_with_id(value, component_id)
    return found


def nothing_done(answer) -> bool:
    """Every output left alone: Dash answers 204, or (Dash 4) an empty response."""
    return answer.status_code == 204 or (
        answer.status_code == 200 and answer.get_json().get("response") == {}
    )


def text_of(tree) -> str:
    return json.dumps(tree)


def signed_in(client, who: str = "admin_a"):
    login(client, f"{who}@example.com")
    client.get("/_dash-layout")
    return client


def save(client, user_id, role, numbers, clicks=1):
    return dash_post(
        client,
        SAVE_OUT,
        [{"id": "team-edit-save", "property": "n_clicks", "value": clicks}],
        state=[
            {"id": "team-edit-user", "property": "data", "value": user_id},
            {"id": "team-edit-role", "property": "value", "value": role},
            {"id": "team-edit-numbers", "property": "value", "value": numbers},
            {"id": "team-changed", "property": "data", "value": 3},
        ],
    )


def grid_block(client, search="", sort=None):
    request = {"startRow": 0, "endRow": 25, "sortModel": sort or []}
    return dash_post(
        client,
        GRID_OUT,
        [{"id": "team-grid-table", "property": "getRowsRequest", "value": request}],
        state=[{"id": "team-grid-search", "property": "value", "value": search}],
    ).get_json()["response"]


def roles_and_numbers(db, world):
    with db.session() as s:
        return {
            m.email: (m.role, m.numbers)
            for m in members(s, build_viewer(s, s.get(User, world.users["admin_a"]), world.org_a))
        }


def send(client, email: str, role: str = "agent", **headers):
    return dash_post(
        client,
        SEND_OUT,
        [{"id": "team-invite-send", "property": "n_clicks", "value": 1}],
        state=[
            {"id": "team-invite-email", "property": "value", "value": email},
            {"id": "team-invite-role", "property": "value", "value": role},
            {"id": "team-changed", "property": "data", "value": 0},
        ],
    )


def link_in(answer) -> str:
    [store] = props_with_id(answer, {"type": "team-link", "key": "new"})
    return store["data"]


def test_drawing_the_grid_and_the_panel_saves_nothing_and_says_nothing(client, db, world):
    """Defect 1: every visit showed "Role changed." / "Numbers saved." for nothing done."""
    signed_in(client)
    before = roles_and_numbers(db, world)
    block = grid_block(client)
    rows = block["team-grid-table"]["getRowsResponse"]["rowData"]
    assert [r["name"] for r in rows] == sorted(r["name"] for r in rows)
    assert block["team-grid-count"]["children"] == "4 members"
    agent = next(r for r in rows if r["email"] == "agent_a2@example.com")
    assert (
        agent["numbers"] == "a2 (+15550000001), a3 (+15550000002)"
        and agent["role"] == "Agent"
        and agent["edit"]
    )
    opened = dash_post(
        client,
        EDITOR_OUT,
        [{"id": "team-grid-table", "property": "selectedRows", "value": [agent]}],
    ).get_json()["response"]
    assert "d-none" not in opened["team-edit"]["className"]
    assert opened["team-edit-title"] == {"children": "agent_a2"}
    assert opened["team-edit-role"] == {"value": "agent", "disabled": False}
    assert opened["team-edit-numbers"]["value"] == [world.numbers["a2"], world.numbers["a3"]]
    unpicked = dash_post(
        client, EDITOR_OUT, [{"id": "team-grid-table", "property": "selectedRows", "value": []}]
    )
    assert nothing_done(unpicked)
    # the Save button drawn (n_clicks 0) saves nothing
    uid = world.users["agent_a2"]
    assert nothing_done(save(client, uid, "agent", [world.numbers["a2"]], clicks=0))
    # a Save (or forged POST) repeating the stored values changes nothing and says no more
    same = save(client, uid, "agent", [world.numbers["a3"], world.numbers["a2"]])
    body = same.get_json()["response"]
    assert "team-message" not in body and "team-changed" not in body
    assert body["team-edit-status"]["children"] == "Nothing to save: no change was made."
    assert roles_and_numbers(db, world) == before


def test_a_real_change_is_saved_and_said_once(client, db, world):
    signed_in(client)
    body = save(client, world.users["agent_a1"], "manager", [world.numbers["a1"]]).get_json()[
        "response"
    ]
    assert "agent_a1: role changed to Manager." in text_of(body["team-message"])
    assert body["team-changed"]["data"] == 4
    assert body["team-edit-status"]["children"] == "Saved. agent_a1: role changed to Manager."
    body = save(client, world.users["agent_a2"], "agent", [world.numbers["a1"]]).get_json()[
        "response"
    ]
    assert "agent_a2: numbers saved." in text_of(body["team-message"])
    after = roles_and_numbers(db, world)
    assert after["agent_a1@example.com"] == ("manager", ())
    assert after["agent_a2@example.com"] == ("agent", (world.numbers["a1"],))
    refused = save(client, world.users["admin_a"], "manager", []).get_data(as_text=True)
    assert "at least one org admin" in refused
    foreign = save(client, world.users["admin_b"], "agent", []).get_data(as_text=True)
    assert "not a member" in foreign
    stolen = save(client, world.users["agent_a2"], "agent", [world.numbers["b1"]])
    assert "do not belong" in stolen.get_data(as_text=True)


def test_the_grid_searches_sorts_and_stays_in_the_organisation(client, db, world):
    signed_in(client)
    rows = grid_block(client, "agent")["team-grid-table"]["getRowsResponse"]
    assert rows["rowCount"] == 2
    newest = grid_block(client, sort=[{"colId": "email", "sort": "desc"}])
    emails = [r["email"] for r in newest["team-grid-table"]["getRowsResponse"]["rowData"]]
    assert emails == sorted(emails, reverse=True) and "admin_b@example.com" not in emails
    forged = grid_block(client, sort=[{"colId": "password_hash; drop", "sort": "desc"}])
    assert forged["team-grid-table"]["getRowsResponse"]["rowCount"] == 4


def test_the_invitation_link_stays_absolute_and_works(client, db, world):
    signed_in(client)
    client.environ_base["HTTP_ORIGIN"] = "http://localhost"
    answer = send(client, "fresh@example.com", "manager")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()["response"]
    assert "team-message" not in body  # nothing else takes the link's place
    link = link_in(body)
    assert re.fullmatch(r"http://localhost/invite/[A-Za-z0-9_-]{43}", link), link
    assert "No mail server is set up" in text_of(body["team-invite-result"])
    assert body["team-invite-email"] == {"invalid": False, "value": ""}
    [field] = props_with_id(body, "team-link-new")
    assert field["value"] == link and field["readonly"] is True
    with db.session() as s:
        mail = s.scalar(select(OutboxMail))
        assert mail.to_address == "fresh@example.com" and link in mail.body
    # the pending list offers the same link again, with Resend and Revoke
    shown = dash_post(
        client,
        "team-invites.children",
        [{"id": "team-changed", "property": "data", "value": 1}],
    ).get_json()["response"]
    with db.session() as s:
        invitation_id = s.scalar(select(Invitation.id))
    [pending] = props_with_id(shown, {"type": "team-link", "key": invitation_id})
    assert pending["data"] == link
    assert props_with_id(shown, {"type": "team-resend", "invitation": invitation_id})
    assert props_with_id(shown, {"type": "team-copy", "key": invitation_id})

    path = link.removeprefix("http://localhost")
    fresh = client.application.test_client()
    page = fresh.get(path)
    assert page.status_code == 200 and "Join Alpha Co" in page.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    joined = fresh.post(
        path, data={"csrf_token": token, "name": "Fresh", "password": "fresh-password"}
    )
    assert joined.status_code == 302
    assert fresh.get("/_dash-layout").status_code == 200
    assert fresh.get(path).status_code == 404


def test_the_link_origin_is_the_browsers_never_a_malformed_host(client, db, world):
    signed_in(client)
    client.environ_base["HTTP_ORIGIN"] = "https://syncboard.city.example"
    assert link_in(send(client, "one@example.com").get_json()["response"]).startswith(
        "https://syncboard.city.example/invite/"
    )
    del client.environ_base["HTTP_ORIGIN"]  # no browser: the request's own host
    assert link_in(send(client, "two@example.com").get_json()["response"]).startswith(
        "http://localhost/invite/"
    )
    client.environ_base["HTTP_ORIGIN"] = "null"  # a sandboxed frame: the host again
    assert link_in(send(client, "three@example.com").get_json()["response"]).startswith(
        "http://localhost/invite/"
    )


def test_a_malformed_host_never_makes_the_link(server):
    from web.invite import invite_url, public_origin

    with server.test_request_context("/", headers={"Host": "evil.example/<x>", "Origin": "null"}):
        assert public_origin() == "" and invite_url("T").startswith("/invite/T")
    with server.test_request_context("/", headers={"Host": "app.example:8443"}):
        assert invite_url("T") == "http://app.example:8443/invite/T"
    with server.test_request_context(
        "/", headers={"Host": "127.0.0.1:8050", "Origin": "https://analytics.example"}
    ):  # behind a proxy that does not forward Host, the browser's address wins
        assert invite_url("T") == "https://analytics.example/invite/T"


def test_resend_makes_a_new_link_and_shows_it_without_smtp(client, db, world):
    signed_in(client)
    link = link_in(send(client, "late@example.com").get_json()["response"])
    with db.session() as s:
        invitation_id = s.scalar(select(Invitation.id))
    answer = dash_post(
        client,
        "..team-invite-result.children...team-changed.data..",
        [
            [
                {
                    "id": {"type": "team-resend", "invitation": invitation_id},
                    "property": "n_clicks",
                    "value": 1,
                }
            ]
        ],
        state=[{"id": "team-changed", "property": "data", "value": 2}],
    )
    body = answer.get_json()["response"]
    again = link_in(body)
    assert again != link and "previous link no longer works" in text_of(body)
    assert "send them this link yourself" in text_of(body)
    assert client.get(link.removeprefix("http://localhost")).status_code == 404
    assert client.get(again.removeprefix("http://localhost")).status_code == 200
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 2
    # drawing the Resend buttons (n_clicks 0) resends nothing
    drawn = dash_post(
        client,
        "..team-invite-result.children...team-changed.data..",
        [
            [
                {
                    "id": {"type": "team-resend", "invitation": invitation_id},
                    "property": "n_clicks",
                    "value": 0,
                }
            ]
        ],
        state=[{"id": "team-changed", "property": "data", "value": 3}],
    )
    assert nothing_done(drawn)


def test_the_email_field_says_what_is_wrong_before_sending(client, db, world):
    signed_in(client)
    with db.session() as s:
        admin = build_viewer(s, s.get(User, world.users["admin_a"]), world.org_a)
        invite(s, admin, "waiting@example.com", "agent")
        s.commit()

    def check(value):
        answer = dash_post(
            client,
            CHECK_OUT,
            [
                {"id": "team-invite-email", "property": "value", "value": value},
                {"id": "team-changed", "property": "data", "value": 0},
            ],
        ).get_json()["response"]
        return (
            answer["team-invite-email"]["invalid"],
            answer["team-invite-email-feedback"]["children"],
            answer["team-invite-send"]["disabled"],
        )

    assert check("") == (False, "", True)
    invalid, said, disabled = check("jane@")
    assert invalid and disabled and "not an email address" in said
    assert check("manager_a@example.com") == (
        True,
        "manager_a@example.com is already a member.",
        True,
    )
    invalid, said, disabled = check("Waiting@Example.com")
    assert invalid and disabled and "invited already" in said
    assert check("new.person@example.com") == (False, "", False)
    # the server says the same when Send is forced anyway, next to the field
    body = send(client, "manager_a@example.com").get_json()["response"]
    assert body["team-invite-email"] == {"invalid": True}
    assert "already a member" in body["team-invite-email-feedback"]["children"]


def test_removal_confirmation_names_the_person_and_organisation(client, db, world):
    signed_in(client)
    with db.session() as s:
        user = s.get(User, world.users["agent_a1"])
        user.name = "Jane Doe"
        s.commit()

    def ask(user_id, clicks=1):
        return dash_post(
            client,
            ASK_OUT,
            [
                {"id": "team-edit-remove", "property": "n_clicks", "value": clicks},
                {"id": "team-confirm-cancel", "property": "n_clicks", "value": None},
            ],
            state=[{"id": "team-edit-user", "property": "data", "value": user_id}],
            changed=["team-edit-remove.n_clicks"],
        )

    assert nothing_done(ask(world.users["agent_a1"], 0))  # a redraw opens nothing
    body = ask(world.users["agent_a1"]).get_json()["response"]
    assert body["team-confirm"]["is_open"] is True
    assert body["team-confirm-title"]["children"] == "Remove Jane Doe?"
    assert "Remove Jane Doe (agent_a1@example.com) from Alpha Co?" in text_of(body)
    assert body["team-confirm-ok"] == {"disabled": False, "children": "Remove Jane Doe"}
    assert body["team-pending-removal"]["data"] == world.users["agent_a1"]

    mine = ask(world.users["admin_a"]).get_json()["response"]
    assert "You cannot remove yourself." in text_of(mine)
    assert mine["team-confirm-ok"]["disabled"] is True
    forged = dash_post(  # the Remove button forced for oneself: the server refuses
        client,
        "..team-message.children...team-changed.data...team-confirm.is_open"
        "...team-pending-removal.data...team-edit-status.children...team-edit-save.disabled"
        "...team-edit-remove.disabled..",
        [{"id": "team-confirm-ok", "property": "n_clicks", "value": 1}],
        state=[
            {"id": "team-pending-removal", "property": "data", "value": world.users["admin_a"]},
            {"id": "team-changed", "property": "data", "value": 0},
        ],
    )
    assert "You cannot remove yourself." in forged.get_data(as_text=True)
    done = dash_post(
        client,
        "..team-message.children...team-changed.data...team-confirm.is_open"
        "...team-pending-removal.data...team-edit-status.children...team-edit-save.disabled"
        "...team-edit-remove.disabled..",
        [{"id": "team-confirm-ok", "property": "n_clicks", "value": 1}],
        state=[
            {"id": "team-pending-removal", "property": "data", "value": world.users["agent_a1"]},
            {"id": "team-changed", "property": "data", "value": 0},
        ],
    )
    assert "Jane Doe was removed from Alpha Co." in done.get_data(as_text=True)
    with db.session() as s:
        assert (
            s.scalar(select(Membership).where(Membership.user_id == world.users["agent_a1"]))
            is None
        )


def test_manager_cannot_forge_team_changes_nor_read_links(client, db, world):
    signed_in(client, "manager_a")
    forged = save(client, world.users["agent_a1"], "org_admin", [])
    assert forged.status_code == 200
    assert "Only org admins" in forged.get_data(as_text=True)
    opened = dash_post(
        client,
        EDITOR_OUT,
        [
            {
                "id": "team-grid-table",
                "property": "selectedRows",
                "value": [{"id": str(world.users["agent_a1"])}],
            }
        ],
    ).get_json()["response"]
    assert "team-edit" not in opened and "Only org admins" in text_of(opened)
    assert roles_and_numbers(db, world)["agent_a1@example.com"][0] == "agent"
    rows = grid_block(client)["team-grid-table"]["getRowsResponse"]["rowData"]
    assert len(rows) == 4 and all("edit" not in r for r in rows)  # read-only: no Edit column
    with db.session() as s:
        admin = build_viewer(s, s.get(User, world.users["admin_a"]), world.org_a)
        invite(s, admin, "someone@example.com", "agent")
        s.commit()
    shown = dash_post(
        client, "team-invites.children", [{"id": "team-changed", "property": "data", "value": 1}]
    ).get_data(as_text=True)
    assert "someone@example.com" in shown and "/invite/" not in shown
    assert '"type":"team-resend"' not in shown.replace(" ", "")
    assert "Only org admins" in send(client, "x@example.com").get_data(as_text=True)


def test_a_configured_public_url_wins_over_headers(server):
    from dataclasses import replace

    from settings import get_settings, reset_settings
    from web.invite import invite_url

    before = get_settings()
    reset_settings(replace(before, public_url="https://analytics.example.com"))
    try:
        with server.test_request_context(
            "/", headers={"Host": "evil.example", "Origin": "https://evil.example"}
        ):
            assert invite_url("T") == "https://analytics.example.com/invite/T"
    finally:
        reset_settings(before)
