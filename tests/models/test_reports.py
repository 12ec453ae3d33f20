"""Reports: definitions are validated, aggregates match the KPI helpers, saved reports stay private."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from models.base import utcnow
from models.kpis import call_kpis
from models.orgs import User
from models.records import Call, Case, Office, Ticket
from models.reports import (
    ReportError,
    ReportNotFound,
    delete_report,
    load_report,
    parse_definition,
    run_report,
    save_report,
    saved_reports,
)
from models.scope import AccessDenied, build_viewer
from tests.models.test_calls import add_records


def viewer_for(db, world, key, org=None):
    with db.session() as s:
        return build_viewer(s, s.get(User, world.users[key]), org)


def report(db, viewer, **definition):
    with db.session() as s:
        return run_report(s, viewer, parse_definition(definition), today=utcnow().date())


def test_definitions_are_validated_with_clear_messages():
    spec = parse_definition({"metrics": "calls_total, answer_rate", "group": "week"})
    assert spec.metrics == ("calls_total", "answer_rate") and spec.range == "30d"
    assert parse_definition(spec.to_dict()) == spec
    assert parse_definition({"metrics": ["aht", "aht"], "group": "agent"}).metrics == ("aht",)
    custom = parse_definition(
        {"metrics": ["cases_opened"], "group": "office", "range": "custom"}
        | {"start": "2026-01-01", "end": "2026-01-31"}
    )
    assert custom.dates(date(2026, 6, 1)) == (date(2026, 1, 1), date(2026, 1, 31))
    assert custom.to_params() == {
        "metrics": "cases_opened",
        "group": "office",
        "range": "custom",
        "start": "2026-01-01",
        "end": "2026-01-31",
    }
    bad = [
        ({"metrics": ["revenue"]}, "Unknown metric 'revenue'"),
        ({"metrics": ["calls_total"], "group": "hour"}, "Unknown grouping 'hour'"),
        ({"metrics": []}, "Pick at least one metric."),
        (
            {"metrics": ["calls_total"], "group": "office"},
            "Total calls cannot be grouped by office",
        ),
        ({"metrics": ["cases_opened"], "group": "number"}, "Cases opened cannot be grouped"),
        ({"metrics": ["calls_total"], "range": "forever"}, "Unknown range 'forever'"),
        ({"metrics": ["calls_total"], "range": "custom"}, "need both a start and an end"),
        (
            {"metrics": ["calls_total"], "range": "custom", "start": "2026-02-01"}
            | {"end": "2026-01-01"},
            "start date is after the end date",
        ),
        (
            {"metrics": ["calls_total"], "range": "custom", "start": "2020-01-01"}
            | {"end": "2026-01-01"},
            "at most three years",
        ),
        ({"metrics": ["calls_total"], "range": "custom", "start": "soon", "end": "x"}, "YYYY"),
        (None, "A report definition is"),
        ("calls_total", "A report definition is"),
    ]
    for raw, message in bad:
        with pytest.raises(ReportError, match=message.replace("(", r"\(")):
            parse_definition(raw)


def test_daily_totals_match_the_kpi_cards(db, world):
    manager = viewer_for(db, world, "manager_a")
    result = report(db, manager, metrics=["calls_total", "answer_rate", "aht"], group="day")
    assert len(result.rows) == 30
    assert result.rows[-1]["group"] == utcnow().date().isoformat()
    assert sum(r["calls_total"] for r in result.rows) == 9
    with db.session() as s:
        start = datetime.combine(result.start, datetime.min.time(), UTC)
        assert call_kpis(s, manager, start=start).total == 9
    busy = [r for r in result.rows if r["calls_total"]]
    assert all(r["aht"] == 120 for r in busy)
    empty = [r for r in result.rows if not r["calls_total"]]
    assert empty and all(r["answer_rate"] is None for r in empty)
    beta = report(db, viewer_for(db, world, "admin_b"), metrics=["calls_total"], group="month")
    assert sum(r["calls_total"] for r in beta.rows) == 5


def test_group_by_number_and_agent(db, world):
    add_records(db, world)
    manager = viewer_for(db, world, "manager_a")
    by_number = report(db, manager, metrics=["calls_total", "calls_answered"], group="number")
    assert [(r["group"], r["calls_total"], r["calls_answered"]) for r in by_number.rows] == [
        ("a1 · +15550000000", 4, 3),
        ("a2 · +15550000001", 3, 1),
        ("a3 · +15550000002", 2, 2),
    ]
    by_agent = report(db, manager, metrics=["calls_missed", "talk_time"], group="agent")
    rows = {r["group"]: r for r in by_agent.rows}
    assert rows["agent_a1"]["calls_missed"] == 1
    assert rows["agent_a1"]["talk_time"] == 305 + 2 * 120
    assert rows["agent_a2"]["talk_time"] == 3 * 120
    assert by_agent.table()[0] == ["agent_a1", 1, "9:05"]


def test_week_and_month_buckets_on_each_backend(db, world):
    days = [date(2026, 1, 5), date(2026, 1, 11), date(2026, 1, 12), date(2026, 2, 28)]
    with db.session() as s:
        for n, day in enumerate(days):
            s.add(
                Call(
                    org_id=world.org_a,
                    phone_number_id=world.numbers["a1"],
                    direction="inbound",
                    status="answered",
                    started_at=datetime(day.year, day.month, day.day, 23, 30, tzinfo=UTC),
                    duration_seconds=60,
                    external_id=f"w{n}",
                )
            )
        s.commit()
    manager = viewer_for(db, world, "manager_a")
    window = {"range": "custom", "start": "2026-01-07", "end": "2026-03-02"}
    weeks = report(db, manager, metrics=["calls_total"], group="week", **window)
    counts = {r["key"]: r["calls_total"] for r in weeks.rows}
    assert weeks.rows[0]["group"] == "Week of 2026-01-05"
    assert counts["2026-01-05"] == 1  # the 5th is before the range; the 11th (Sunday) counts
    assert counts["2026-01-12"] == 1 and counts["2026-02-23"] == 1
    assert len(weeks.rows) == 9 and sum(counts.values()) == 3
    months = report(db, manager, metrics=["calls_total", "talk_time"], group="month", **window)
    assert [(r["group"], r["calls_total"]) for r in months.rows] == [
        ("2026-01", 2),
        ("2026-02", 1),
        ("2026-03", 0),
    ]
    assert months.table()[2] == ["2026-03", 0, "0:00"]


def test_cases_and_tickets(db, world):
    now = utcnow()
    with db.session() as s:
        north = Office(org_id=world.org_a, name="North")
        south = Office(org_id=world.org_a, name="South")
        elsewhere = Office(org_id=world.org_b, name="Beta office")
        s.add_all([north, south, elsewhere])
        s.flush()
        for n, (org, office, resolved) in enumerate(
            [
                (world.org_a, north.id, True),
                (world.org_a, north.id, False),
                (world.org_a, south.id, True),
                (world.org_a, None, False),
                (world.org_b, elsewhere.id, True),
            ]
        ):
            s.add(
                Case(
                    org_id=org,
                    title=f"case {n}",
                    office_id=office,
                    reported_at=now - timedelta(days=2),
                    resolved_at=now - timedelta(days=1) if resolved else None,
                    external_id=f"case{n}",
                )
            )
        for n, assignee in enumerate(
            [world.users["agent_a1"], world.users["agent_a1"], None, world.users["agent_a2"]]
        ):
            s.add(
                Ticket(org_id=world.org_a, subject="t", assignee_id=assignee, external_id=f"t{n}")
            )
        s.commit()
    manager = viewer_for(db, world, "manager_a")
    offices = report(db, manager, metrics=["cases_opened", "cases_resolved"], group="office")
    assert [(r["group"], r["cases_opened"], r["cases_resolved"]) for r in offices.rows] == [
        ("North", 2, 1),
        ("South", 1, 1),
        ("No office", 1, 0),
    ]
    tickets = report(db, manager, metrics=["tickets_opened", "calls_total"], group="agent")
    rows = {r["group"]: (r["tickets_opened"], r["calls_total"]) for r in tickets.rows}
    assert rows == {"agent_a1": (2, 0), "agent_a2": (1, 0), "No agent": (1, 9)}
    daily = report(db, manager, metrics=["cases_opened", "cases_resolved"], group="day")
    assert sum(r["cases_opened"] for r in daily.rows) == 4
    assert sum(r["cases_resolved"] for r in daily.rows) == 2


def test_agents_cannot_run_or_save_reports(db, world):
    agent = viewer_for(db, world, "agent_a1")
    spec = parse_definition({"metrics": ["calls_total"]})
    with db.session() as s:
        with pytest.raises(AccessDenied):
            run_report(s, agent, spec)
        with pytest.raises(AccessDenied):
            save_report(s, agent, "mine", spec)
        with pytest.raises(AccessDenied):
            saved_reports(s, agent)


def test_saved_reports_are_private_to_their_user_and_org(db, world):
    manager = viewer_for(db, world, "manager_a")
    spec = parse_definition({"metrics": ["calls_total", "aht"], "group": "week", "range": "90d"})
    with db.session() as s:
        report_id = save_report(s, manager, "  Weekly   handle time ", spec)
        s.commit()
    with db.session() as s:
        assert saved_reports(s, manager) == [(report_id, "Weekly handle time")]
        assert load_report(s, manager, report_id) == ("Weekly handle time", spec)
        assert load_report(s, manager, str(report_id))[1] == spec
        # saving under the same name replaces the definition
        other = parse_definition({"metrics": ["calls_missed"], "group": "number"})
        assert save_report(s, manager, "Weekly handle time", other) == report_id
        s.commit()
        assert load_report(s, manager, report_id)[1] == other
        with pytest.raises(ReportError, match="Give the report a name"):
            save_report(s, manager, "   ", spec)
        with pytest.raises(ReportError, match="at most 200"):
            save_report(s, manager, "x" * 201, spec)

    # another user of the same org, a user of another org, and a platform admin forging the id
    for key in ("admin_a", "admin_b", "platform"):
        intruder = viewer_for(db, world, key)
        with db.session() as s:
            assert saved_reports(s, intruder) == []
            for forged in (report_id, str(report_id), f"{report_id} OR 1=1", None, -1):
                with pytest.raises(ReportNotFound):
                    load_report(s, intruder, forged)
            with pytest.raises(ReportNotFound):
                delete_report(s, intruder, report_id)
            s.commit()

    # the same user in another organisation does not see it either
    with db.session() as s:
        from models.orgs import Organization
        from models.users import add_membership

        add_membership(
            s, s.get(User, world.users["manager_a"]), s.get(Organization, world.org_b), "manager"
        )
        s.commit()
    in_beta = viewer_for(db, world, "manager_a", org=world.org_b)
    assert in_beta.org_id == world.org_b
    with db.session() as s:
        assert saved_reports(s, in_beta) == []
        with pytest.raises(ReportNotFound):
            load_report(s, in_beta, report_id)

    with db.session() as s:
        assert delete_report(s, manager, report_id) == "Weekly handle time"
        s.commit()
        assert saved_reports(s, manager) == []


def test_the_grid_sorts_on_raw_values_with_empty_cells_last():
    """The reports grid sorts on the numbers, not on their text ("100.0%" < "33.3%" as text,
    "10:05" < "9:59"), and keeps "No agent" and empty rates last in either direction."""
    from models.reports import ReportResult, ReportSpec

    spec = ReportSpec(("answer_rate", "aht"), "agent", "30d")
    rows = [
        {"key": 1, "group": "bea", "answer_rate": 1.0, "aht": 605.0},
        {"key": None, "group": "No agent", "answer_rate": 0.2, "aht": 30.0},
        {"key": 2, "group": "Ann", "answer_rate": 0.333, "aht": 599.0},
        {"key": 3, "group": "Cy", "answer_rate": None, "aht": None},
    ]
    result = ReportResult(spec, date(2026, 1, 1), date(2026, 1, 30), rows)

    def groups(sort, descending=False):
        return [r["group"] for r in result.records(sort, descending)]

    assert groups(None) == ["bea", "No agent", "Ann", "Cy"]  # the report's own order
    assert groups("answer_rate") == ["No agent", "Ann", "bea", "Cy"]
    assert groups("answer_rate", True) == ["bea", "Ann", "No agent", "Cy"]
    assert groups("aht", True) == ["bea", "Ann", "No agent", "Cy"]
    assert groups("group") == ["Ann", "bea", "Cy", "No agent"]
    assert groups("group", True) == ["Cy", "bea", "Ann", "No agent"]
    assert groups("calls_total") == groups("'; DROP") == groups(None)  # not a column of it
    assert result.records("aht")[0] == {"group": "No agent", "answer_rate": "20.0%", "aht": "0:30"}
    timed = ReportResult(
        ReportSpec(("calls_total",), "week", "30d"),
        date(2026, 1, 1),
        date(2026, 1, 30),
        [
            {"key": "2026-01-05", "group": "Week of 2026-01-05", "calls_total": 3},
            {"key": "2025-12-29", "group": "Week of 2025-12-29", "calls_total": 5},
        ],
    )
    assert [r["group"] for r in timed.records("group")] == [
        "Week of 2025-12-29",
        "Week of 2026-01-05",
    ]


def test_a_page_url_reads_back_into_the_same_report():
    from models.reports import ReportSpec, spec_from_url

    default = ReportSpec(("calls_total",), "day", "30d")
    spec = parse_definition(
        {
            "metrics": ["aht", "calls_total"],
            "group": "week",
            "range": "custom",
            "start": "2026-01-01",
            "end": "2026-03-31",
        }
    )
    assert spec.to_url() == {
        "metrics": "aht,calls_total",
        "group": "week",
        "range": "custom",
        "from": "2026-01-01",
        "to": "2026-03-31",
    }
    assert spec_from_url(spec.to_url(), default) == (spec, ())
    assert spec_from_url({}, default) == (default, ())
    # from/to alone mean custom days; a bad day is dropped and said
    only_days, problems = spec_from_url({"from": "2026-02-01", "to": "2026-02-10"}, default)
    assert (only_days.range, only_days.start, only_days.metrics) == (
        "custom",
        date(2026, 2, 1),
        ("calls_total",),
    )
    assert problems == ()
    half, problems = spec_from_url(
        {"range": "custom", "from": "2026-13-01", "to": "2026-02-10"}, default
    )
    assert half.range == "30d"
    assert "not “2026-13-01”" in problems[0] and "both a start and an end" in problems[1]
    broken, problems = spec_from_url({"metrics": "revenue"}, default)
    assert broken == default and "Unknown metric 'revenue'" in problems[0]
