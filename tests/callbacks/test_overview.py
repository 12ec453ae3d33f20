"""The overview callback over HTTP, as the browser calls it, scoped per viewer."""

from __future__ import annotations

from tests.helpers import dash_post, login

RANGE = [{"id": "overview-range", "property": "value", "value": 30}]


def card_values(response) -> dict[str, str]:
    """{card id: the number a person reads} from a callback response."""
    cards = response.get_json()["response"]["overview-cards"]["children"]
    values = {}
    for card in cards:
        body = card["props"]["children"]["props"]["children"]
        values[card["props"]["id"]] = body[1]["props"]["children"]
    return values


def test_cards_differ_by_role(server, world):
    manager = server.test_client()
    login(manager, "manager_a@example.com")
    manager.get("/_dash-layout")
    values = card_values(dash_post(manager, "overview-cards.children", RANGE))
    assert values == {"kpi-total": "9", "kpi-answer-rate": "66.7%", "kpi-aht": "2m 00s"}

    agent = server.test_client()
    login(agent, "agent_a1@example.com")
    agent.get("/_dash-layout")
    assert card_values(dash_post(agent, "overview-cards.children", RANGE))["kpi-total"] == "4"


def test_forged_range_is_clamped(server, world):
    manager = server.test_client()
    login(manager, "manager_a@example.com")
    manager.get("/_dash-layout")
    forged = [{"id": "overview-range", "property": "value", "value": "'; DROP TABLE calls; --"}]
    assert dash_post(manager, "overview-cards.children", forged).status_code == 200


def test_org_switch_to_a_foreign_org_is_refused(server, world):
    manager = server.test_client()
    login(manager, "manager_a@example.com")
    manager.get("/_dash-layout")
    forged = [{"id": "shell-org", "property": "value", "value": world.org_b}]
    response = dash_post(manager, "shell-redirect.href", forged)
    assert response.status_code == 403
    assert response.get_json() == {"error": "You are not a member of that organisation."}
    values = card_values(dash_post(manager, "overview-cards.children", RANGE))
    assert values["kpi-total"] == "9"


def test_platform_admin_switches_org(server, world):
    admin = server.test_client()
    login(admin, "platform@example.com")
    admin.get("/_dash-layout")
    first = card_values(dash_post(admin, "overview-cards.children", RANGE))["kpi-total"]
    assert first == "9"  # Alpha Co comes first by name
    switched = dash_post(
        admin,
        "shell-redirect.href",
        [{"id": "shell-org", "property": "value", "value": world.org_b}],
    )
    assert switched.status_code == 200
    assert card_values(dash_post(admin, "overview-cards.children", RANGE))["kpi-total"] == "5"
