"""Reports callbacks over HTTP: run, validate, save/load/delete, and forged ids or roles."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from models.saved_reports import ReportDefinition
from models.scope import DENIED, SEE_ORG
from tests.callbacks.test_calls import post, signed_in, values

RUN_OUT = [
    "reports-table.columnDefs",
    "reports-chart.figure",
    "reports-chart.style",
    "reports-error.children",
    "reports-error.is_open",
    "reports-export.href",
    "reports-export.disabled",
    "reports-summary.children",
    "reports-dates-wrap.className",
    "reports-table-card.className",
    "reports-url.search",
]
MANAGE_OUT = ["reports-saved.options", "reports-saved.value", "reports-status.children"]
LOAD_CONTROLS = [
    "reports-metrics-calls.value",
    "reports-metrics-cases.value",
    "reports-metrics-tickets.value",
    "reports-group.value",
    "reports-range.value",
    "reports-dates-from.value",
    "reports-dates-to.value",
    "reports-name.value",
]


def controls(calls=(), cases=(), tickets=(), group="day", range_="30d", start=None, end=None):
    return [
        ("reports-metrics-calls", "value", list(calls)),
        ("reports-metrics-cases", "value", list(cases)),
        ("reports-metrics-tickets", "value", list(tickets)),
        ("reports-group", "value", group),
        ("reports-range", "value", range_),
        ("reports-dates-from", "value", start),
        ("reports-dates-to", "value", end),
    ]


ROWS_OUT = ["reports-table.getRowsResponse", "reports-count.children"]


def run(client, **kwargs):
    return post(client, RUN_OUT, controls(**kwargs))


def rows(client, page=0, size=31, sort=None, descending=False, **kwargs) -> tuple[list, int, str]:
    """(rows, total, count text) of one page the report's grid asks for."""
    request = {
        "startRow": page * size,
        "endRow": (page + 1) * size,
        "sortModel": [{"colId": sort, "sort": "desc" if descending else "asc"}] if sort else [],
    }
    response = post(
        client,
        ROWS_OUT,
        [("reports-table", "getRowsRequest", request)],
        controls(**kwargs),
        changed=["reports-table.getRowsRequest"],
    )
    got = values(response, ROWS_OUT)
    answer = got["reports-table.getRowsResponse"]
    return answer["rowData"], answer["rowCount"], got["reports-count.children"]


def manage(client, trigger, name=None, chosen=None, **kwargs):
    inputs = [
        ("reports-page", "id", "reports-page"),
        ("reports-save", "n_clicks", 1 if trigger == "save" else None),
        ("reports-confirm-yes", "n_clicks", 1 if trigger == "delete" else None),
    ]
    state = [
        ("reports-name", "value", name),
        *controls(**kwargs),
        ("reports-saved", "value", chosen),
    ]
    changed = {
        "save": ["reports-save.n_clicks"],
        "delete": ["reports-confirm-yes.n_clicks"],
        "list": [],
    }[trigger]
    return values(post(client, MANAGE_OUT, inputs, state, changed=changed), MANAGE_OUT)


def load(client, report_id, name=None) -> dict:
    """The load callback's response by component id (outputs left unchanged are missing)."""
    outputs = [*LOAD_CONTROLS, _duplicate_status_output()]
    state = [("reports-name", "value", name), *controls()]
    response = post(client, outputs, [("reports-saved", "value", report_id)], state)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]


def _duplicate_status_output() -> str:
    """reports-status.children as Dash registered it with allow_duplicate (an `@hash` suffix)."""
    import dash

    for callback_id in dash.get_app().callback_map:
        if "reports-name.value" in callback_id:
            for part in callback_id.strip(".").split("..."):
                if part.startswith("reports-status.children@"):
                    return part
    raise AssertionError("the load callback is not registered")


def test_a_manager_builds_a_report(server, world):
    manager = signed_in(server, "manager_a@example.com")
    got = values(run(manager, calls=["calls_total", "answer_rate"], group="number"), RUN_OUT)
    assert got["reports-error.is_open"] is False
    assert [(c["field"], c["headerName"]) for c in got["reports-table.columnDefs"]] == [
        ("group", "Number"),
        ("calls_total", "Total calls"),
        ("answer_rate", "Answer rate"),
    ]
    assert rows(manager, calls=["calls_total", "answer_rate"], group="number") == (
        [
            {"group": "a1 · +15550000000", "calls_total": 4, "answer_rate": "75.0%"},
            {"group": "a2 · +15550000001", "calls_total": 3, "answer_rate": "33.3%"},
            {"group": "a3 · +15550000002", "calls_total": 2, "answer_rate": "100.0%"},
        ],
        3,
        "3 rows",
    )
    by_rate, total, _count = rows(
        manager,
        sort="answer_rate",
        descending=True,
        calls=["calls_total", "answer_rate"],
        group="number",
    )
    assert [r["answer_rate"] for r in by_rate] == ["100.0%", "75.0%", "33.3%"] and total == 3
    forged = rows(manager, sort="'; DROP", size=2, page=1, calls=["calls_total"], group="number")
    assert forged == ([{"group": "a3 · +15550000002", "calls_total": 2}], 3, "3 rows")
    figure = got["reports-chart.figure"]
    assert [t["type"] for t in figure["data"]] == ["bar", "bar"]
    assert figure["data"][1]["y"] == [75.0, 33.3, 100.0]
    export = urlsplit(got["reports-export.href"])
    assert export.path == "/export/report.csv"
    assert parse_qs(export.query) == {
        "metrics": ["calls_total,answer_rate"],
        "group": ["number"],
        "range": ["30d"],
        "bom": ["1"],
    }
    assert got["reports-summary.children"].startswith("Total calls and Answer rate by number, ")
    assert got["reports-url.search"] == "?metrics=calls_total,answer_rate&group=number&range=30d"
    assert got["reports-dates-wrap.className"] == "date-range d-none"
    daily = values(run(manager, calls=["calls_total"], cases=["cases_opened"]), RUN_OUT)
    assert rows(manager, calls=["calls_total"], cases=["cases_opened"])[1:] == (30, "30 rows")
    assert [t["type"] for t in daily["reports-chart.figure"]["data"]] == ["scatter", "scatter"]


def test_invalid_definitions_show_a_clear_message(server, world):
    manager = signed_in(server, "manager_a@example.com")
    cases = [
        ({"calls": ["revenue"]}, "Unknown metric 'revenue'"),
        ({"calls": ["calls_total"], "group": "hour"}, "Unknown grouping 'hour'"),
        ({"calls": ["calls_total"], "group": "office"}, "Total calls cannot be grouped by office"),
        ({}, "Pick at least one metric."),
        (
            {
                "calls": ["calls_total"],
                "range_": "custom",
                "start": "2026-02-01",
                "end": "2026-01-01",
            },
            "The start date is after the end date.",
        ),
        ({"calls": [{"$ne": 1}]}, "Unknown metric"),
    ]
    for kwargs, message in cases:
        response = run(manager, **kwargs)
        got = values(response, RUN_OUT)
        assert got["reports-error.is_open"] is True, kwargs
        assert message in got["reports-error.children"], (kwargs, got["reports-error.children"])
        assert got["reports-export.disabled"] is True
        assert rows(manager, **kwargs)[:2] == ([], 0)
        assert got["reports-table-card.className"] == "d-none"


def test_agents_cannot_run_reports_even_by_posting(server, world):
    agent = signed_in(server, "agent_a1@example.com")
    response = run(agent, calls=["calls_total"])
    assert response.status_code == 403
    assert response.get_json() == {"error": DENIED[SEE_ORG]}


def test_save_load_and_delete_are_private(server, db, world):
    manager = signed_in(server, "manager_a@example.com")
    assert manage(manager, "list")["reports-saved.options"] == []
    saved = manage(manager, "save", name="Numbers", calls=["calls_missed"], group="number")
    (option,) = saved["reports-saved.options"]
    report_id = option["value"]
    assert option["label"] == "Numbers" and saved["reports-saved.value"] == report_id
    assert "Saved “Numbers”." in str(saved["reports-status.children"])
    refused = manage(manager, "save", name="", calls=["calls_missed"])
    assert "Give the report a name" in str(refused["reports-status.children"])
    bad = manage(manager, "save", name="Broken", calls=["nope"])
    assert "Unknown metric 'nope'" in str(bad["reports-status.children"])

    got = load(manager, report_id)
    assert got["reports-metrics-calls"]["value"] == ["calls_missed"]
    assert got["reports-group"]["value"] == "number"
    assert got["reports-name"]["value"] == "Numbers"

    # another manager-level user of the same org, and a platform admin, forge the id
    for email in ("admin_a@example.com", "platform@example.com", "admin_b@example.com"):
        intruder = signed_in(server, email)
        for forged in (report_id, str(report_id), f"{report_id}"):
            got = load(intruder, forged)
            assert set(got) == {"reports-status"}, got  # no control receives the definition
            assert "That saved report does not exist." in str(got["reports-status"])
        assert manage(intruder, "list")["reports-saved.options"] == []
        gone = manage(intruder, "delete", chosen=report_id)
        assert "does not exist" in str(gone["reports-status.children"])
        confirm = post(
            intruder,
            ["reports-confirm.is_open", "reports-confirm-text.children"],
            [
                ("reports-delete", "n_clicks", 1),
                ("reports-confirm-no", "n_clicks", None),
                ("reports-confirm-yes", "n_clicks", None),
            ],
            [("reports-saved", "value", report_id)],
            changed=["reports-delete.n_clicks"],
        )
        assert values(confirm, ["reports-confirm.is_open"]) == {"reports-confirm.is_open": False}
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ReportDefinition)) == 1

    # the owner is asked first, then deletes
    confirm = post(
        manager,
        ["reports-confirm.is_open", "reports-confirm-text.children"],
        [
            ("reports-delete", "n_clicks", 1),
            ("reports-confirm-no", "n_clicks", None),
            ("reports-confirm-yes", "n_clicks", None),
        ],
        [("reports-saved", "value", report_id)],
        changed=["reports-delete.n_clicks"],
    )
    asked = values(confirm, ["reports-confirm.is_open", "reports-confirm-text.children"])
    assert asked["reports-confirm.is_open"] is True
    assert "Delete the saved report “Numbers”?" in asked["reports-confirm-text.children"]
    deleted = manage(manager, "delete", chosen=report_id)
    assert deleted["reports-saved.options"] == [] and deleted["reports-saved.value"] is None
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ReportDefinition)) == 0


def test_the_url_holds_the_report_and_bad_dates_are_explained(server, world):
    from tests.callbacks.test_calls import _page_props

    manager = signed_in(server, "manager_a@example.com")
    props = _page_props(
        manager, "/reports", "?metrics=calls_missed&group=number&from=2026-03-07&to=2026-03-01"
    )
    assert props["reports-metrics-calls"]["value"] == ["calls_missed"]
    assert props["reports-group"]["value"] == "number"
    assert props["reports-range"]["value"] == "custom"
    assert (props["reports-dates-from"]["value"], props["reports-dates-to"]["value"]) == (
        "2026-03-01",
        "2026-03-07",
    )
    assert "mt-2" in props["reports-dates-wrap"]["className"]
    assert "swapped" in str(props["reports-status"]["children"])
    search = "?metrics=calls_missed&group=number&range=custom&from=2026-03-01&to=2026-03-07"
    assert props["reports-url"]["search"] == search
    # the run says the same, for the address bar (assets/url.js)
    got = values(
        run(
            manager,
            calls=["calls_missed"],
            group="number",
            range_="custom",
            start="2026-03-01",
            end="2026-03-07",
        ),
        RUN_OUT,
    )
    assert got["reports-url.search"] == search
    # nothing in those days: a chart that says so (this used to fail with a server error)
    assert "Nothing to count in this range" in str(got["reports-chart.figure"])
    assert got["reports-chart.style"] == {"height": "320px"}
    # a definition that cannot run shows the default report and says why
    props = _page_props(manager, "/reports", "?metrics=calls_total&group=office")
    assert props["reports-metrics-calls"]["value"] == [
        "calls_total",
        "calls_answered",
        "answer_rate",
    ]
    assert "cannot be grouped by office" in str(props["reports-status"]["children"])
    assert props["reports-url"]["search"] == (
        "?metrics=calls_total,calls_answered,answer_rate&group=day&range=30d"
    )
    plain = _page_props(manager, "/reports", "")
    assert plain["reports-status"]["children"] is None
