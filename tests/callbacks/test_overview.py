"""The overview's callbacks over HTTP, as the browser calls them, scoped per viewer.

Forged inputs (a number that is not the agent's, garbage in the filter store and in chart
clicks, an org switch) must never widen what a viewer sees.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import dash_post, login
from tests.models.test_kpis import add_analytics

WEEK = {"range": "custom", "from": "2026-03-01", "to": "2026-03-07"}
REFRESH_OUT = [
    "overview-cards.children",
    "overview-period.children",
    "overview-updated.children",
    "overview-empty.children",
    "overview-call-charts.className",
    "overview-chart-days.figure",
    "overview-chart-days-title.children",
    "overview-chart-days-hint.children",
    "overview-chart-heatmap.figure",
    "overview-chart-agents.figure",
    "overview-chart-numbers.figure",
    "overview-chart-case-status.figure",
    "overview-chart-case-office.figure",
    "overview-chart-tickets.figure",
    *(
        f"overview-chart-{chart}-table.children"
        for chart in (
            "days",
            "heatmap",
            "agents",
            "numbers",
            "case-status",
            "case-office",
            "tickets",
        )
    ),
]
APPLY_OUT = [
    "overview-url.search",
    "overview-filters.data",
    "overview-range.value",
    "overview-dates-from.value",
    "overview-dates-to.value",
    "overview-dates-wrap.className",
    "overview-phone.value",
    "overview-agent.value",
    "overview-direction.value",
    "overview-cell-badge.className",
    "overview-cell-text.children",
    "overview-dates-note.children",
    "overview-dates-from.invalid",
    "overview-dates-to.invalid",
]
APPLY_IN = [
    ("overview-range", "value"),
    ("overview-dates-from", "value"),
    ("overview-dates-to", "value"),
    ("overview-phone", "value"),
    ("overview-agent", "value"),
    ("overview-direction", "value"),
    ("overview-chart-days", "clickData"),
    ("overview-chart-agents", "clickData"),
    ("overview-chart-numbers", "clickData"),
    ("overview-chart-heatmap", "clickData"),
    ("overview-cell-clear", "n_clicks"),
    ("overview-reset", "n_clicks"),
    ("overview-url", "search"),
]


#: The page being looked at when the organisation is switched (the switch keeps it).
SHELL_ROUTE = [
    {"id": "_pages_location", "property": "pathname", "value": "/"},
    {"id": "_pages_location", "property": "search", "value": "?range=30"},
]


def post(client, outputs: list[str], inputs: list[dict], state=None, changed=None):
    """A multi-output Dash callback request, exactly as the renderer sends it."""
    return dash_post(
        client, ".." + "...".join(outputs) + "..", inputs, state=state, changed=changed
    )


def signed_in(server, email: str):
    client = server.test_client()
    login(client, email)
    client.get("/_dash-layout")
    return client


def refresh(client, filters: Any) -> dict:
    """The cards-and-charts callback for these stored filters; its JSON response."""
    response = post(
        client,
        REFRESH_OUT,
        [
            {"id": "overview-filters", "property": "data", "value": filters},
            {"id": "overview-interval", "property": "n_intervals", "value": None},
            {"id": "overview-refresh", "property": "n_clicks", "value": None},
        ],
        changed=["overview-filters.data"],
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]


def apply(client, stored: dict, changed: str, **values) -> dict:
    """The filters callback after one control change or chart click; {output: value}."""
    inputs = [
        {"id": cid, "property": prop, "value": values.get(f"{cid}.{prop}")}
        for cid, prop in APPLY_IN
    ]
    response = post(
        client,
        APPLY_OUT,
        inputs,
        state=[{"id": "overview-filters", "property": "data", "value": stored}],
        changed=[changed],
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    out = response.get_json()["response"]
    return {f"{cid}.{prop}": value for cid, props in out.items() for prop, value in props.items()}


def cards(response: dict) -> dict[str, tuple[str, str, str]]:
    """{card id: (value, delta text, delta tone)} as a person reads them."""
    out = {}
    for card in response["overview-cards"]["children"]:
        body = card["props"]["children"]["props"]["children"]
        delta = body[2]["props"]["children"][0]["props"]
        tone = delta["className"].split()[-1]
        out[card["props"]["id"]] = (body[1]["props"]["children"], delta["children"], tone)
    return out


def values(response: dict) -> dict[str, str]:
    return {cid: value for cid, (value, _, _) in cards(response).items()}


def figure(response: dict, chart: str) -> dict:
    return response[f"overview-chart-{chart}"]["figure"]


def bar_labels(fig: dict) -> set:
    """Every category a bar chart draws (horizontal bars: their y labels)."""
    return {label for trace in fig.get("data", []) for label in trace.get("y", [])}


def is_empty(fig: dict) -> bool:
    return not fig.get("data") and bool(fig["layout"].get("annotations"))


@pytest.fixture
def week(db, world):
    add_analytics(db, world)
    return world


def test_cards_differ_by_role(server, world):
    manager = signed_in(server, "manager_a@example.com")
    got = values(refresh(manager, {"range": 30}))
    assert (got["kpi-total"], got["kpi-answer-rate"], got["kpi-aht"]) == ("9", "66.7%", "2m 00s")
    agent = signed_in(server, "agent_a1@example.com")
    assert values(refresh(agent, {"range": 30}))["kpi-total"] == "4"


def test_ten_cards_with_their_changes(server, week):
    manager = signed_in(server, "manager_a@example.com")
    response = refresh(manager, WEEK)
    assert cards(response) == {
        "kpi-total": ("6", "▲ 200.0%", "neutral"),
        "kpi-answered": ("4", "▲ 300.0%", "good"),
        "kpi-missed": ("1", "No change", "neutral"),
        "kpi-answer-rate": ("66.7%", "▲ 16.7 pp", "good"),
        "kpi-aht": ("2m 45s", "▲ 230.0%", "neutral"),
        "kpi-talk-time": ("11m 30s", "▲ 1280.0%", "neutral"),
        "kpi-open-cases": ("2", "▼ 33.3%", "good"),
        "kpi-resolved-cases": ("2", "▲ 100.0%", "good"),
        "kpi-open-tickets": ("2", "No change", "neutral"),
        "kpi-sla-breaches": ("2", "▲ 100.0%", "bad"),
    }
    assert response["overview-period"]["children"] == (
        "1 Mar 2026 – 7 Mar 2026 (UTC) · compared with 22 Feb 2026 – 28 Feb 2026"
    )
    assert response["overview-updated"]["children"].startswith("Last updated ")
    assert response["overview-empty"]["children"] is None
    assert "d-none" not in response["overview-call-charts"]["className"]
    days = figure(response, "days")
    assert [t["name"] for t in days["data"]] == ["Answered", "Missed", "Voicemail"]
    assert days["data"][0]["y"] == [1, 1, 1, 0, 0, 0, 1]
    assert days["data"][0]["customdata"][0] == "2026-03-01"
    assert bar_labels(figure(response, "agents")) == {"agent_a1", "agent_a2"}


def test_a_single_day_is_charted_by_hour(server, week):
    manager = signed_in(server, "manager_a@example.com")
    response = refresh(manager, {"range": "custom", "from": "2026-03-02", "to": "2026-03-02"})
    assert values(response)["kpi-total"] == "3"  # c1, c2, c4
    assert response["overview-chart-days-title"]["children"] == "Calls per hour"
    assert response["overview-chart-days-hint"]["children"] == "click an hour to filter"
    hours = figure(response, "days")
    assert len(hours["data"][0]["x"]) == 24 and hours["data"][0]["customdata"][9] == 9
    assert [t["y"][9] for t in hours["data"]] == [1, 1, 1]
    week_view = refresh(manager, WEEK)
    assert week_view["overview-chart-days-title"]["children"] == "Calls per day"

    day = {"range": "custom", "from": "2026-03-02", "to": "2026-03-02"}
    click = {"points": [{"x": "2026-03-02T09:00", "y": 1, "customdata": 9}]}
    out = apply(
        manager, day, "overview-chart-days.clickData", **{"overview-chart-days.clickData": click}
    )
    assert out["overview-url.search"] == "?range=custom&from=2026-03-02&to=2026-03-02&hour=9"
    assert out["overview-cell-text.children"] == "09:00–10:00 UTC"


def test_filters_change_the_cards(server, week):
    manager = signed_in(server, "manager_a@example.com")
    n, u = week.numbers, week.users
    assert values(refresh(manager, {**WEEK, "phone": n["a2"]}))["kpi-total"] == "2"
    assert values(refresh(manager, {**WEEK, "agent": u["agent_a2"]}))["kpi-total"] == "2"
    assert values(refresh(manager, {**WEEK, "direction": "outbound"}))["kpi-total"] == "1"
    cell = refresh(manager, {**WEEK, "weekday": 0, "hour": 9})
    assert values(cell)["kpi-total"] == "3"
    # The picked cell is outlined; the heatmap still shows the whole week.
    assert figure(cell, "heatmap")["layout"]["shapes"][0]["x0"] == 8.5
    assert sum(map(sum, figure(cell, "heatmap")["data"][0]["z"])) == 6


def test_an_agent_sees_only_their_numbers_everywhere(server, week):
    agent = signed_in(server, "agent_a1@example.com")
    response = refresh(agent, WEEK)
    assert values(response)["kpi-total"] == "3"
    assert bar_labels(figure(response, "numbers")) == {"a1 · +15550000000"}
    assert bar_labels(figure(response, "agents")) == {"agent_a1"}
    assert sum(map(sum, figure(response, "heatmap")["data"][0]["z"])) == 3
    # Cases and tickets are the organisation's (models/scope.py).
    assert values(response)["kpi-open-cases"] == "2"

    choices = post(
        agent,
        ["overview-phone.options", "overview-agent.options"],
        [{"id": "overview-url", "property": "id", "value": "overview-url"}],
    ).get_json()["response"]
    assert choices["overview-phone"]["options"] == [
        {"label": "a1 · +15550000000", "value": week.numbers["a1"]}
    ]
    assert choices["overview-agent"]["options"] == [
        {"label": "agent_a1", "value": week.users["agent_a1"]}
    ]


def test_a_forged_number_shows_nothing_not_someone_elses_calls(server, week):
    agent = signed_in(server, "agent_a1@example.com")
    for number in (week.numbers["a2"], week.numbers["b1"]):
        response = refresh(agent, {**WEEK, "phone": number})
        got = values(response)
        assert (got["kpi-total"], got["kpi-answered"], got["kpi-talk-time"]) == ("0", "0", "0m 00s")
        assert all(is_empty(figure(response, c)) for c in ("days", "heatmap", "agents", "numbers"))
        assert response["overview-empty"]["children"]["props"]["className"] == "empty-state"
        assert "d-none" in response["overview-call-charts"]["className"]


@pytest.mark.parametrize(
    "forged",
    [
        "'; DROP TABLE calls; --",
        {"range": "'; DROP TABLE calls; --", "phone": "1 OR 1=1", "agent": [1, 2]},
        {"range": "custom", "from": "not-a-date", "to": "2026-99-99", "weekday": 99},
        {"range": 30, "phone": True, "direction": "sideways", "hour": -1},
        None,
    ],
)
def test_forged_filter_store_is_ignored(server, world, forged):
    manager = signed_in(server, "manager_a@example.com")
    assert values(refresh(manager, forged))["kpi-total"] == "9"  # the last 30 days, unfiltered


def test_an_empty_organisation_gets_a_message_not_empty_axes(server, db, world):
    admin = signed_in(server, "admin_b@example.com")
    from models.records import Call

    with db.session() as s:
        s.query(Call).filter(Call.org_id == world.org_b).delete()
        s.commit()
    response = refresh(admin, {"range": 30})
    assert values(response)["kpi-total"] == "0"
    assert cards(response)["kpi-total"][1:] == ("No earlier data", "neutral")
    empty = response["overview-empty"]["children"]
    assert empty["props"]["className"] == "empty-state"
    assert "No calls yet" in str(empty)
    for chart in ("days", "heatmap", "agents", "numbers", "case-status", "case-office", "tickets"):
        fig = figure(response, chart)
        assert is_empty(fig), chart
        assert fig["layout"]["xaxis"]["visible"] is False


def test_controls_and_clicks_update_the_url(server, world):
    manager = signed_in(server, "manager_a@example.com")
    stored = {"range": 30}
    out = apply(manager, stored, "overview-range.value", **{"overview-range.value": 7})
    assert out["overview-url.search"] == "?range=7"
    assert out["overview-filters.data"] == {"range": 7}
    assert "d-none" in out["overview-dates-wrap.className"]

    out = apply(
        manager,
        stored,
        "overview-range.value",
        **{
            "overview-range.value": "custom",
            "overview-dates-from.value": "2026-03-01",
            "overview-dates-to.value": "2026-03-07",
        },
    )
    assert out["overview-url.search"] == "?range=custom&from=2026-03-01&to=2026-03-07"
    assert out["overview-dates-wrap.className"] == "date-range overview-dates"

    day = {"points": [{"x": "2026-03-02", "y": 3, "customdata": "2026-03-02"}]}
    out = apply(
        manager, stored, "overview-chart-days.clickData", **{"overview-chart-days.clickData": day}
    )
    assert out["overview-url.search"] == "?range=custom&from=2026-03-02&to=2026-03-02"
    assert (out["overview-dates-from.value"], out["overview-range.value"]) == (
        "2026-03-02",
        "custom",
    )

    bar = {"points": [{"x": 0.9, "y": "agent_a1", "customdata": world.users["agent_a1"]}]}
    out = apply(
        manager,
        stored,
        "overview-chart-agents.clickData",
        **{"overview-chart-agents.clickData": bar},
    )
    assert out["overview-url.search"] == f"?range=30&agent={world.users['agent_a1']}"
    assert out["overview-agent.value"] == world.users["agent_a1"]

    bar = {"points": [{"x": 4, "y": "a2", "customdata": world.numbers["a2"]}]}
    out = apply(
        manager,
        stored,
        "overview-chart-numbers.clickData",
        **{"overview-chart-numbers.clickData": bar},
    )
    assert out["overview-phone.value"] == world.numbers["a2"]

    cell = {"points": [{"x": 10, "y": "Tue", "z": 5}]}
    out = apply(
        manager,
        stored,
        "overview-chart-heatmap.clickData",
        **{"overview-chart-heatmap.clickData": cell},
    )
    assert out["overview-url.search"] == "?range=30&weekday=1&hour=10"
    assert "d-none" not in out["overview-cell-badge.className"]
    assert out["overview-cell-text.children"] == "Tuesday 10:00–11:00 UTC"

    with_cell = {"range": 30, "weekday": 1, "hour": 10, "phone": 2}
    out = apply(
        manager, with_cell, "overview-cell-clear.n_clicks", **{"overview-cell-clear.n_clicks": 1}
    )
    assert out["overview-url.search"] == "?range=30&phone=2"
    assert "d-none" in out["overview-cell-badge.className"]
    out = apply(manager, with_cell, "overview-reset.n_clicks", **{"overview-reset.n_clicks": 1})
    assert out["overview-url.search"] == "?range=30"


def test_back_and_forward_restore_filters_from_the_url(server, world):
    """The browser's back button changes only the address bar: the query string is parsed."""
    manager = signed_in(server, "manager_a@example.com")
    search = "?range=custom&from=2026-03-01&to=2026-03-07&weekday=0&hour=9&agent=3"
    out = apply(manager, {"range": 7}, "overview-url.search", **{"overview-url.search": search})
    assert out["overview-filters.data"] == {**WEEK, "agent": 3, "weekday": 0, "hour": 9}
    assert "overview-url.search" not in out  # left alone: no new history entry
    assert (out["overview-range.value"], out["overview-agent.value"]) == ("custom", 3)
    assert out["overview-dates-to.value"] == "2026-03-07"
    assert out["overview-cell-text.children"] == "Monday 09:00–10:00 UTC"
    forged = "?range=1;DROP&phone=-4&direction=<script>&weekday=7"
    out = apply(manager, {"range": 7}, "overview-url.search", **{"overview-url.search": forged})
    assert out["overview-filters.data"] == {"range": 30}


@pytest.mark.parametrize(
    "click",
    [
        {"points": [{"customdata": "'; DROP TABLE calls; --", "x": "nope"}]},
        {"points": []},
        {"points": "everything"},
        "not even a dict",
    ],
)
def test_forged_clicks_change_nothing(server, world, click):
    manager = signed_in(server, "manager_a@example.com")
    stored = {"range": 7, "phone": 2}
    for chart in ("days", "agents", "numbers", "heatmap"):
        key = f"overview-chart-{chart}.clickData"
        out = apply(manager, stored, key, **{key: click})
        assert out["overview-url.search"] == "?range=7&phone=2", chart


def test_url_round_trip(server, week):
    """Loading the page with a query string restores the filters; the callback that parses
    it is Dash's router, which calls the page layout with the query's values."""
    manager = signed_in(server, "manager_a@example.com")
    search = (
        f"?range=custom&from=2026-03-01&to=2026-03-07&phone={week.numbers['a2']}&direction=inbound"
    )
    response = post(
        manager,
        ["_pages_content.children", "_pages_store.data"],
        [
            {"id": "_pages_location", "property": "pathname", "value": "/"},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
    )
    page = response.get_json()["response"]["_pages_content"]["children"]
    props = {}

    def walk(node):
        if isinstance(node, dict):
            if "props" in node and "id" in node["props"]:
                props[node["props"]["id"]] = node["props"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(page)
    assert props["overview-url"]["search"] == search
    stored = props["overview-filters"]["data"]
    assert stored == {**WEEK, "phone": week.numbers["a2"], "direction": "inbound"}
    assert props["overview-range"]["value"] == "custom"
    assert props["overview-dates-from"]["value"] == "2026-03-01"
    assert props["overview-phone"]["value"] == week.numbers["a2"]
    assert props["overview-direction"]["value"] == "inbound"
    assert "d-none" not in props["overview-dates-wrap"]["className"]
    # ... and those filters give the cards of that view.
    assert values(refresh(manager, stored))["kpi-total"] == "2"  # c4 and c5


def test_org_switch_to_a_foreign_org_is_refused(server, world):
    manager = signed_in(server, "manager_a@example.com")
    forged = [{"id": "shell-org", "property": "value", "value": world.org_b}]
    response = dash_post(manager, "shell-redirect.href", forged, state=SHELL_ROUTE)
    assert response.status_code == 403
    assert response.get_json() == {"error": "You are not a member of that organisation."}
    assert values(refresh(manager, {"range": 30}))["kpi-total"] == "9"


def test_platform_admin_switches_org(server, world):
    admin = signed_in(server, "platform@example.com")
    assert values(refresh(admin, {"range": 30}))["kpi-total"] == "9"  # Alpha Co first by name
    switched = dash_post(
        admin,
        "shell-redirect.href",
        [{"id": "shell-org", "property": "value", "value": world.org_b}],
        state=SHELL_ROUTE,
    )
    assert switched.status_code == 200
    assert values(refresh(admin, {"range": 30}))["kpi-total"] == "5"


def test_signed_out_callers_get_nothing(server, world):
    client = server.test_client()
    client.get("/login")
    response = post(
        client,
        REFRESH_OUT,
        [
            {"id": "overview-filters", "property": "data", "value": {"range": 30}},
            {"id": "overview-interval", "property": "n_intervals", "value": None},
            {"id": "overview-refresh", "property": "n_clicks", "value": None},
        ],
    )
    assert response.status_code in (401, 403)


# --- pure builders: figures, deltas, words -------------------------------------------------


def test_every_chart_has_a_message_instead_of_empty_axes():
    from datetime import datetime

    import pandas as pd

    from pages import _figures as figs

    empty = {
        figs.calls_per_day_figure: pd.DataFrame(columns=["day", "answered", "missed", "voicemail"]),
        figs.heatmap_figure: pd.DataFrame(columns=["weekday", "hour", "calls"]),
        figs.agent_rate_figure: pd.DataFrame(columns=["agent_id", "agent", "calls", "answered"]),
        figs.top_numbers_figure: pd.DataFrame(
            columns=["phone_number_id", "number", "label", "calls", "answered"]
        ),
        figs.case_status_figure: pd.DataFrame(columns=["status", "office", "cluster", "cases"]),
        figs.case_office_figure: pd.DataFrame(columns=["status", "office", "cluster", "cases"]),
        figs.ticket_status_figure: pd.DataFrame(columns=["status", "tickets"]),
    }
    for build, frame in empty.items():
        fig = build(frame)
        assert fig["data"] == [], build.__name__
        assert fig["layout"]["xaxis"]["visible"] is False
        assert fig["layout"]["annotations"][0]["text"].startswith("No ")
    days = pd.DataFrame({"day": ["2026-03-01"], "answered": [0], "missed": [0], "voicemail": [0]})
    assert figs.calls_per_day_figure(days)["data"] == []
    hours = pd.DataFrame(
        {"hour": [datetime(2026, 3, 1, 9)], "answered": [0], "missed": [0], "voicemail": [0]}
    )
    fig = figs.calls_per_hour_figure(hours)
    assert fig["data"] == [] and fig["layout"]["annotations"][0]["text"] == "No calls on this day"


def test_figures_are_valid_plotly():
    """The dicts pass plotly's own validation (the app sends them without it, for speed)."""
    from datetime import date

    import pandas as pd
    import plotly.graph_objects as go

    from pages import _figures as figs

    days = pd.DataFrame(
        {"day": [date(2026, 3, 1)], "answered": [3], "missed": [1], "voicemail": [0]}
    )
    heat = pd.DataFrame({"weekday": [0], "hour": [9], "calls": [5]})
    agents = pd.DataFrame({"agent_id": [7], "agent": ["Ann"], "calls": [10], "answered": [5]})
    numbers = pd.DataFrame(
        {
            "phone_number_id": [4],
            "number": ["+1555"],
            "label": ["Sales"],
            "calls": [9],
            "answered": [6],
        }
    )
    cases = pd.DataFrame({"status": ["new"], "office": ["North"], "cluster": ["N"], "cases": [4]})
    tickets = pd.DataFrame({"status": ["open"], "tickets": [2]})
    for fig in (
        figs.calls_per_day_figure(days),
        figs.heatmap_figure(heat, (0, 9)),
        figs.agent_rate_figure(agents),
        figs.top_numbers_figure(numbers),
        figs.case_status_figure(cases),
        figs.case_office_figure(cases),
        figs.ticket_status_figure(tickets),
        figs.empty_figure("No calls"),
    ):
        go.Figure(fig)  # raises on any unknown or malformed property


def test_chart_builders_carry_what_a_click_needs():
    from datetime import date, datetime

    import pandas as pd

    from pages import _figures as figs

    days = pd.DataFrame(
        {
            "day": [date(2026, 3, 1), date(2026, 3, 2)],
            "answered": [3, 0],
            "missed": [1, 2],
            "voicemail": [0, 1],
        }
    )
    fig = figs.calls_per_hour_figure(
        pd.DataFrame(
            {
                "hour": [datetime(2026, 3, 1, 9), datetime(2026, 3, 1, 10)],
                "answered": [2, 0],
                "missed": [0, 1],
                "voicemail": [0, 0],
            }
        )
    )
    assert fig["data"][0]["x"] == ["2026-03-01T09:00", "2026-03-01T10:00"]
    assert fig["data"][1]["customdata"] == [9, 10] and fig["data"][1]["y"] == [0, 1]
    fig = figs.calls_per_day_figure(days)
    assert [t["name"] for t in fig["data"]] == ["Answered", "Missed", "Voicemail"]
    assert fig["data"][1]["customdata"] == ["2026-03-01", "2026-03-02"]
    assert fig["data"][1]["y"] == [1, 2] and fig["layout"]["barmode"] == "stack"

    heat = pd.DataFrame({"weekday": [0, 6], "hour": [9, 23], "calls": [5, 2]})
    fig = figs.heatmap_figure(heat, selected=(0, 9))
    z = fig["data"][0]["z"]
    assert len(z) == 7 and len(z[0]) == 24 and z[0][9] == 5 and z[6][23] == 2
    assert fig["data"][0]["y"] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    shape = fig["layout"]["shapes"][0]
    assert (shape["x0"], shape["x1"], shape["y0"], shape["y1"]) == (8.5, 9.5, -0.5, 0.5)
    whole_day = figs.heatmap_figure(heat, selected=(6, None))["layout"]["shapes"][0]
    assert (whole_day["x0"], whole_day["x1"], whole_day["y0"]) == (-0.5, 23.5, 5.5)
    assert figs.heatmap_figure(heat)["layout"]["shapes"] == []

    agents = pd.DataFrame(
        {
            "agent_id": [7, 8, 9],
            "agent": ["Ann", "Bo", "Cy"],
            "calls": [10, 4, 4],
            "answered": [5, 4, 1],
        }
    )
    fig = figs.agent_rate_figure(agents)
    assert fig["data"][0]["y"] == ["Bo", "Ann", "Cy"]  # best answer rate first
    assert fig["layout"]["yaxis"]["range"] == [5.5, -0.5]  # room for 6 bars: thin bars
    assert fig["data"][0]["customdata"] == [8, 7, 9]
    assert fig["data"][0]["text"] == ["100%", "50%", "25%"]

    numbers = pd.DataFrame(
        {
            "phone_number_id": [4, 2],
            "number": ["+1555", "+1666"],
            "label": ["Sales", ""],
            "calls": [9, 3],
            "answered": [6, 3],
        }
    )
    fig = figs.top_numbers_figure(numbers)
    assert fig["data"][0]["y"] == ["Sales · +1555", "+1666"]
    assert fig["data"][0]["customdata"] == [4, 2]
    assert (fig["data"][0]["x"], fig["data"][1]["x"]) == ([6, 3], [3, 0])

    cases = pd.DataFrame(
        {
            "status": ["closed", "new", "weird", "new"],
            "office": ["North", "North", "South", "South"],
            "cluster": ["N", "N", "S", "S"],
            "cases": [4, 1, 2, 3],
        }
    )
    fig = figs.case_status_figure(cases)
    assert fig["data"][0]["y"] == ["New", "Closed", "Weird"]  # workflow order, unknown last
    assert fig["data"][0]["x"] == [4, 4, 2]
    fig = figs.case_office_figure(cases)
    assert [t["name"] for t in fig["data"]] == ["N", "S"]
    assert fig["layout"]["yaxis"]["categoryarray"] == ["North", "South"]
    tickets = pd.DataFrame({"status": ["closed", "open"], "tickets": [3, 1]})
    assert figs.ticket_status_figure(tickets)["data"][0]["y"] == ["Open", "Closed"]


@pytest.mark.parametrize(
    ("value", "previous", "kind", "better", "expected"),
    [
        (5, None, "count", "up", ("No earlier data", "neutral")),
        (5, 5, "count", "up", ("No change", "neutral")),
        (3, 0, "count", "down", ("▲ from 0", "bad")),
        (6, 4, "count", "up", ("▲ 50.0%", "good")),
        (3, 4, "count", "up", ("▼ 25.0%", "bad")),
        (3, 4, "count", "down", ("▼ 25.0%", "good")),
        (3, 4, "count", None, ("▼ 25.0%", "neutral")),
        (0.8, 0.75, "rate", "up", ("▲ 5.0 pp", "good")),
        (None, 0.5, "rate", "up", ("No earlier data", "neutral")),
        (90.0, 60.0, "duration", None, ("▲ 50.0%", "neutral")),
    ],
)
def test_card_deltas(value, previous, kind, better, expected):
    from callbacks.overview import Kpi, delta

    assert delta(Kpi("k", "K", "x", value, previous, kind, better)) == expected


def test_period_in_words():
    from datetime import UTC, datetime, timedelta

    from callbacks.overview import period_text
    from models.kpis import Period
    from pages._overview_ids import OverviewFilters

    now = datetime(2026, 3, 15, 14, 5, tzinfo=UTC)
    today = OverviewFilters(range=1)
    assert period_text(today, Period.of(*today.window(now))) == (
        "Today, 15 Mar 2026, until 14:05 UTC · compared with yesterday until the same time"
    )
    month = OverviewFilters(range=30)
    assert period_text(month, Period.of(*month.window(now))) == (
        "14 Feb 2026 – 15 Mar 2026 (UTC) · compared with 15 Jan 2026 – 13 Feb 2026"
    )
    one_day = OverviewFilters.parse({"range": "custom", "from": "2026-03-02", "to": "2026-03-02"})
    period = Period.of(*one_day.window(now))
    assert period.prev_start == period.start - timedelta(days=1)
    assert period_text(one_day, period) == "2 Mar 2026 (UTC) · compared with 1 Mar 2026"


def _page_props(client, search: str) -> dict[str, dict]:
    """{component id: props} of the overview as Dash's router draws it for this query string."""
    response = post(
        client,
        ["_pages_content.children", "_pages_store.data"],
        [
            {"id": "_pages_location", "property": "pathname", "value": "/"},
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


def test_a_range_without_calls_says_so_when_the_org_has_calls(server, world):
    """A 2020 range in an organisation with calls: not "No calls yet" (defect 6)."""
    manager = signed_in(server, "manager_a@example.com")
    response = refresh(manager, {"range": "custom", "from": "2020-01-01", "to": "2020-12-31"})
    empty = str(response["overview-empty"]["children"])
    assert "No calls between 1 Jan 2020 and 31 Dec 2020" in empty
    assert "No calls yet" not in empty
    assert "Show the last 90 days" in empty and "?range=90" in empty
    # With filters, the way out is clearing them.
    response = refresh(manager, {"range": 7, "direction": "outbound"})
    empty = str(response["overview-empty"]["children"])
    assert "No calls match these filters" in empty and "Clear the filters" in empty


def test_an_agent_without_numbers_is_told_an_org_admin_assigns_them(server, db, world):
    from models.orgs import PhoneAssignment

    with db.session() as s:
        s.query(PhoneAssignment).filter(PhoneAssignment.user_id == world.users["agent_a1"]).delete()
        s.commit()
    agent = signed_in(server, "agent_a1@example.com")
    empty = str(refresh(agent, {"range": 30})["overview-empty"]["children"])
    assert "No phone numbers assigned to you yet" in empty
    assert "org admin" in empty and "manager" not in empty


@pytest.mark.parametrize(
    ("search", "shown", "says"),
    [
        ("?range=custom&from=2026-13-45&to=2026-01-31", "?range=30", "not “2026-13-45”"),
        ("?from=2026-13-45", "?range=30", "Showing the last 30 days"),
        (
            "?range=custom&from=2026-03-07&to=2026-03-01",
            "?range=custom&from=2026-03-01&to=2026-03-07",
            "swapped",
        ),
        ("?range=custom&from=1990-01-01&to=2026-03-01", "?range=30", "between 2000-01-01"),
        ("?range=12", "?range=30", "not one of the ranges"),
    ],
)
def test_bad_dates_in_the_url_are_explained_and_the_url_shows_what_is_used(
    server, world, search, shown, says
):
    manager = signed_in(server, "manager_a@example.com")
    props = _page_props(manager, search)
    assert props["overview-url"]["search"] == shown  # assets/url.js puts it in the address bar
    assert says in str(props["overview-dates-note"]["children"])
    # A good URL has no note; a control change clears it.
    assert _page_props(manager, "?range=7")["overview-dates-note"]["children"] is None
    out = apply(manager, {"range": 30}, "overview-range.value", **{"overview-range.value": 7})
    assert out["overview-dates-note.children"] is None


def test_every_chart_comes_with_its_table(server, week):
    manager = signed_in(server, "manager_a@example.com")
    response = refresh(manager, WEEK)
    table = str(response["overview-chart-days-table"]["children"])
    assert "2026-03-01" in table and "Answered" in table
    numbers = str(response["overview-chart-numbers-table"]["children"])
    assert "a2" in numbers
    empty = refresh(manager, {"range": "custom", "from": "2020-01-01", "to": "2020-01-02"})
    assert "No calls in this period" in str(empty["overview-chart-heatmap-table"]["children"])
