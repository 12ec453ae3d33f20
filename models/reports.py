"""Reports: a validated definition (metrics × grouping × range), its result, and saved definitions.

Aggregates come from `models.kpis` (`call_kpis_by`, `count_by`, `TIME_BUCKETS`), so a report
counts calls exactly as the KPI cards do. Saved definitions belong to one user in one
organisation; every read and write here is keyed on the viewer, never on an id alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.base import utcnow
from models.calls import AGENT_NAME
from models.kpis import TIME_BUCKETS, CallKpis, call_kpis_by, count_by
from models.orgs import PhoneNumber, User
from models.params import ParamError, day_range, first, id_or_none, parse_date
from models.records import Call, Case, Office, Ticket
from models.saved_reports import ReportDefinition
from models.scope import SEE_ORG, Viewer, visible

MAX_NAME = 200
MAX_DAYS = 3 * 366
MAX_DAILY_DAYS = 2 * 366


@dataclass(frozen=True)
class Metric:
    label: str
    family: str  # calls, cases or tickets: which table it counts
    kind: str = "count"  # count, rate or duration


METRICS: dict[str, Metric] = {
    "calls_total": Metric("Total calls", "calls"),
    "calls_answered": Metric("Answered", "calls"),
    "calls_missed": Metric("Missed", "calls"),
    "answer_rate": Metric("Answer rate", "calls", "rate"),
    "aht": Metric("Average handle time", "calls", "duration"),
    "talk_time": Metric("Talk time", "calls", "duration"),
    "cases_opened": Metric("Cases opened", "cases"),
    "cases_resolved": Metric("Cases resolved", "cases"),
    "tickets_opened": Metric("Tickets opened", "tickets"),
}
GROUPINGS: dict[str, str] = {
    "day": "Day",
    "week": "Week",
    "month": "Month",
    "agent": "Agent",
    "number": "Number",
    "office": "Office",
}
TIME_GROUPS = ("day", "week", "month")
# Which groupings each table can answer: calls have no office, cases no agent or number.
FAMILY_GROUPS = {
    "calls": ("day", "week", "month", "agent", "number"),
    "cases": ("day", "week", "month", "office"),
    "tickets": ("day", "week", "month", "agent"),
}
RANGES: dict[str, tuple[str, int | None]] = {
    "7d": ("Last 7 days", 7),
    "30d": ("Last 30 days", 30),
    "90d": ("Last 90 days", 90),
    "365d": ("Last 12 months", 365),
    "custom": ("Custom dates", None),
}
NO_KEY_LABEL = {"agent": "No agent", "number": "No number", "office": "No office"}


class ReportError(ValueError):
    """A report definition that cannot be run or saved, in words for a person."""


class ReportNotFound(LookupError):
    """No saved report with that id belongs to this user in this organisation."""


def _words(choices: Iterable[str]) -> str:
    items = list(choices)
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else "".join(items)


def _as_list(value: Any) -> list[str]:
    """Metrics arrive as a list, repeated query keys, or one comma-separated string."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else [value]
    out: list[str] = []
    for item in items:
        out.extend(part.strip() for part in str(item).split(",") if part.strip())
    return out


def _one(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return str(value or "").strip()


def _date(name: str, value: Any) -> date | None:
    text = _one(value)
    if not text:
        return None
    try:
        return parse_date(f"The {name} date", text)
    except ParamError as exc:
        raise ReportError(str(exc)) from None


@dataclass(frozen=True)
class ReportSpec:
    """A validated report definition."""

    metrics: tuple[str, ...]
    group: str
    range: str
    start: date | None = None  # only for range == "custom"
    end: date | None = None

    def dates(self, today: date) -> tuple[date, date]:
        """The first and last day (inclusive) the report covers."""
        days = RANGES[self.range][1]
        if days is None:
            return self._custom_dates()
        return today - timedelta(days=days - 1), today

    def _custom_dates(self) -> tuple[date, date]:
        # parse_definition checks this; a spec built by hand could still miss a date.
        if self.start is None or self.end is None:
            raise ReportError("Custom dates need both a start and an end date.")
        return self.start, self.end

    def to_dict(self) -> dict[str, Any]:
        """The JSON stored for a saved report; `parse_definition` reads it back."""
        out: dict[str, Any] = {"metrics": list(self.metrics), "group": self.group}
        out["range"] = self.range
        if self.range == "custom":
            start, end = self._custom_dates()
            out["start"] = start.isoformat()
            out["end"] = end.isoformat()
        return out

    def to_params(self) -> dict[str, str]:
        """Query-string parameters for the CSV link."""
        params = {k: v for k, v in self.to_dict().items() if k != "metrics"}
        return {"metrics": ",".join(self.metrics), **params}

    def to_url(self) -> dict[str, str]:
        """The reports page's query string: the CSV link's names, with `from`/`to` for the
        custom days as on every other page (`spec_from_url` reads it back)."""
        params = self.to_params()
        if "start" in params:
            params["from"], params["to"] = params.pop("start"), params.pop("end")
        return params


def spec_from_url(
    params: Mapping[str, Any], default: ReportSpec
) -> tuple[ReportSpec, tuple[str, ...]]:
    """The report a page URL asks for, leniently, so a bookmark or an old link still shows a
    report: `from`/`to` read as on the other pages (a bad day dropped, reversed days swapped)
    and both together mean custom dates; a definition that still cannot run falls back to
    `default`. What had to change comes back in words for the page to show."""
    days = day_range(params.get("from"), params.get("to"), max_days=MAX_DAYS)
    problems = list(days.problems)
    asked = {key: first(params.get(key)) for key in ("metrics", "group", "range")}
    if not any(asked.values()) and days.start is None and days.end is None:
        return default, tuple(problems)
    raw: dict[str, Any] = {
        "metrics": asked["metrics"] or ",".join(default.metrics),
        "group": asked["group"] or default.group,
        "range": asked["range"] or default.range,
    }
    if days.start and days.end:
        raw.update(range="custom", start=days.start.isoformat(), end=days.end.isoformat())
    elif raw["range"] == "custom":
        problems.append("Custom dates need both a start and an end date.")
        raw["range"] = default.range
    try:
        return parse_definition(raw), tuple(problems)
    except ReportError as exc:
        return default, (*problems, f"{exc} Showing the default report instead.")


def parse_definition(raw: Mapping[str, Any] | None) -> ReportSpec:
    """Check a definition from the page, a URL or the database; ReportError says what is wrong."""
    if not isinstance(raw, Mapping):
        raise ReportError("A report definition is a set of metrics, a grouping and a range.")
    metrics = _metrics(raw.get("metrics"))
    group = _group(raw.get("group"), metrics)
    range_ = _one(raw.get("range")) or "30d"
    if range_ not in RANGES:
        raise ReportError(f"Unknown range {range_[:40]!r}. Choose {_words(RANGES)}.")
    start = end = None
    if range_ == "custom":
        start, end = _custom_range(raw, group)
    return ReportSpec(tuple(metrics), group, range_, start, end)


def _metrics(raw: Any) -> list[str]:
    """The known metrics asked for, each once, in the order given; at least one."""
    metrics: list[str] = []
    for name in _as_list(raw):
        if name not in METRICS:
            known = _words(METRICS)
            raise ReportError(f"Unknown metric {name[:40]!r}. Choose from {known}.")
        if name not in metrics:
            metrics.append(name)
    if not metrics:
        raise ReportError("Pick at least one metric.")
    return metrics


def _group(raw: Any, metrics: list[str]) -> str:
    """The grouping asked for (day by default), when every metric can be grouped by it."""
    group = _one(raw) or "day"
    if group not in GROUPINGS:
        raise ReportError(f"Unknown grouping {group[:40]!r}. Choose {_words(GROUPINGS)}.")
    for name in metrics:
        allowed = FAMILY_GROUPS[METRICS[name].family]
        if group not in allowed:
            raise ReportError(
                f"{METRICS[name].label} cannot be grouped by {GROUPINGS[group].lower()}: "
                f"group by {_words(allowed)}, or leave that metric out."
            )
    return group


def _custom_range(raw: Mapping[str, Any], group: str) -> tuple[date, date]:
    """Both custom dates, in order, no longer than a report (or a daily report) may cover."""
    start, end = _date("start", raw.get("start")), _date("end", raw.get("end"))
    if start is None or end is None:
        raise ReportError("Custom dates need both a start and an end date.")
    if start > end:
        raise ReportError("The start date is after the end date.")
    span = (end - start).days + 1
    if span > MAX_DAYS:
        raise ReportError("A report covers at most three years.")
    if group == "day" and span > MAX_DAILY_DAYS:
        raise ReportError("Group by week or month for ranges longer than two years.")
    return start, end


# --- running a report --------------------------------------------------------------------


@dataclass(frozen=True)
class ReportResult:
    """What a report shows: one row per group, raw numbers per metric."""

    spec: ReportSpec
    start: date
    end: date
    rows: list[dict[str, Any]]  # {"key": ..., "group": label, <metric>: value}

    @property
    def header(self) -> list[str]:
        return [GROUPINGS[self.spec.group]] + [METRICS[m].label for m in self.spec.metrics]

    def table(self) -> list[list[Any]]:
        """The cells a person reads, in header order: the page and the CSV show exactly these."""
        return [
            [row["group"]] + [format_value(m, row[m]) for m in self.spec.metrics]
            for row in self.rows
        ]

    def records(self, sort: str | None = None, descending: bool = False) -> list[dict[str, Any]]:
        """The table's cells as the page's grid takes them (`{"group": ..., <metric>: ...}`),
        sorted on the raw values of one column: time groups in time order, named groups by
        name, a metric by its number, empty cells last either way. Another column name (a
        metric no longer chosen, a forged one) keeps the report's own order."""
        rows = list(self.rows)
        timed = self.spec.group in TIME_GROUPS
        if sort == "group" or sort in self.spec.metrics:

            def value(row: dict[str, Any]) -> Any:
                if sort != "group":
                    return row[sort]
                if row["key"] is None:  # "No agent" and the like
                    return None
                return row["key"] if timed else str(row["group"]).lower()

            present = sorted(
                (r for r in rows if value(r) is not None), key=value, reverse=descending
            )
            rows = present + [r for r in rows if value(r) is None]
        return [
            {"group": row["group"], **{m: format_value(m, row[m]) for m in self.spec.metrics}}
            for row in rows
        ]


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_value(metric: str, value: Any) -> Any:
    kind = METRICS[metric].kind
    if kind == "rate":
        return "—" if value is None else f"{value:.1%}"
    if kind == "duration":
        return format_duration(value)
    return int(value or 0)


def _buckets(group: str, start: date, end: date) -> list[str]:
    """Every day/week/month key between start and end, as `TIME_BUCKETS` writes them."""
    if group == "day":
        first, step = start, lambda d: d + timedelta(days=1)
    elif group == "week":
        first, step = start - timedelta(days=start.weekday()), lambda d: d + timedelta(days=7)
    else:
        first = start.replace(day=1)
        step = lambda d: (d.replace(day=28) + timedelta(days=4)).replace(day=1)  # noqa: E731
    keys, current = [], first
    while current <= end:
        keys.append(current.isoformat())
        current = step(current)
    return keys


def _bucket_label(group: str, key: str) -> str:
    if group == "week":
        return f"Week of {key}"
    if group == "month":
        return key[:7]
    return key


def _call_values(kpis: CallKpis | None) -> dict[str, Any]:
    if kpis is None:
        kpis = CallKpis(0, 0, 0, 0, 0, None)
    return {
        "calls_total": kpis.total,
        "calls_answered": kpis.answered,
        "calls_missed": kpis.missed,
        "answer_rate": kpis.answer_rate,
        "aht": kpis.average_handle_time,
        "talk_time": kpis.total_duration,
    }


def _names(session: Session, viewer: Viewer, group: str, ids: set) -> dict[Any, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    if group == "agent":
        stmt = select(User.id, AGENT_NAME).where(User.id.in_(sorted(ids)))
    elif group == "number":
        numbers = session.execute(
            select(PhoneNumber.id, PhoneNumber.label, PhoneNumber.number).where(
                visible(viewer, PhoneNumber), PhoneNumber.id.in_(sorted(ids))
            )
        )
        return {i: f"{label} · {num}" if label else num for i, label, num in numbers}
    else:
        stmt = select(Office.id, Office.name).where(
            visible(viewer, Office), Office.id.in_(sorted(ids))
        )
    return dict(session.execute(stmt).all())


def run_report(
    session: Session, viewer: Viewer, spec: ReportSpec, *, today: date | None = None
) -> ReportResult:
    """The report's rows: time groups cover the whole range (empty periods show zero)."""
    viewer.require_to(SEE_ORG)
    today = today or utcnow().date()
    first, last = spec.dates(today)
    start = datetime.combine(first, time(), UTC)
    end = datetime.combine(last + timedelta(days=1), time(), UTC)
    group = spec.group
    timed = group in TIME_GROUPS

    def key_of(when, category):
        return TIME_BUCKETS[group](when) if timed else category

    families = {METRICS[m].family for m in spec.metrics}
    calls: dict[Any, CallKpis] = {}
    counts: dict[str, dict[Any, int]] = {}
    if "calls" in families:
        category = Call.agent_id if group == "agent" else Call.phone_number_id
        calls = dict(
            call_kpis_by(session, viewer, key_of(Call.started_at, category), start=start, end=end)
        )
    wanted = set(spec.metrics)
    if "cases_opened" in wanted:
        key = key_of(Case.reported_at, Case.office_id)
        counts["cases_opened"] = count_by(
            session, viewer, Case, Case.reported_at, key, start=start, end=end
        )
    if "cases_resolved" in wanted:
        key = key_of(Case.resolved_at, Case.office_id)
        counts["cases_resolved"] = count_by(
            session, viewer, Case, Case.resolved_at, key, start=start, end=end
        )
    if "tickets_opened" in wanted:
        key = key_of(Ticket.created_at, Ticket.assignee_id)
        counts["tickets_opened"] = count_by(
            session, viewer, Ticket, Ticket.created_at, key, start=start, end=end
        )

    if timed:
        keys: list[Any] = _buckets(group, first, last)
        labels = {k: _bucket_label(group, k) for k in keys}
    else:
        found = set(calls)
        for per_key in counts.values():
            found |= set(per_key)
        names = _names(session, viewer, group, found)
        labels = {k: names.get(k, f"#{k}") if k is not None else NO_KEY_LABEL[group] for k in found}
        # Named groups alphabetically, the "no agent/number/office" bucket last.
        keys = sorted(found, key=lambda k: (k is None, labels[k].lower()))

    rows = []
    for k in keys:
        values = _call_values(calls.get(k))
        row = {"key": k, "group": labels[k]}
        for metric in spec.metrics:
            row[metric] = values[metric] if metric in values else counts[metric].get(k, 0)
        rows.append(row)
    return ReportResult(spec, first, last, rows)


# --- saved definitions ---------------------------------------------------------------------


def _report_id(value: Any) -> int:
    report_id = id_or_none(value)
    if report_id is None:
        raise ReportNotFound("That saved report does not exist.")
    return report_id


def _own(session: Session, viewer: Viewer, report_id: Any) -> ReportDefinition:
    """The saved report when it is the viewer's own in the viewer's current organisation."""
    viewer.require_to(SEE_ORG)
    row = session.scalar(
        select(ReportDefinition).where(
            ReportDefinition.id == _report_id(report_id),
            ReportDefinition.user_id == viewer.user_id,
            visible(viewer, ReportDefinition),
        )
    )
    if row is None:
        raise ReportNotFound("That saved report does not exist.")
    return row


def saved_reports(session: Session, viewer: Viewer) -> list[tuple[int, str]]:
    """(id, name) of the viewer's saved reports in this organisation, by name."""
    viewer.require_to(SEE_ORG)
    rows = session.execute(
        select(ReportDefinition.id, ReportDefinition.name)
        .where(
            ReportDefinition.user_id == viewer.user_id,
            visible(viewer, ReportDefinition),
        )
        .order_by(ReportDefinition.name)
    )
    return [(rid, name) for rid, name in rows]


def load_report(session: Session, viewer: Viewer, report_id: Any) -> tuple[str, ReportSpec]:
    """The name and definition of one of the viewer's saved reports."""
    row = _own(session, viewer, report_id)
    return row.name, parse_definition(row.definition)


def save_report(session: Session, viewer: Viewer, name: str, spec: ReportSpec) -> int:
    """Save under `name`, replacing the viewer's report of the same name; returns its id."""
    viewer.require_to(SEE_ORG)
    name = " ".join(str(name or "").split())
    if not name:
        raise ReportError("Give the report a name to save it.")
    if len(name) > MAX_NAME:
        raise ReportError(f"Report names are at most {MAX_NAME} characters.")
    row = session.scalar(
        select(ReportDefinition).where(
            ReportDefinition.user_id == viewer.user_id,
            visible(viewer, ReportDefinition),
            ReportDefinition.name == name,
        )
    )
    if row is None:
        row = ReportDefinition(user_id=viewer.user_id, org_id=viewer.org_id, name=name)
        session.add(row)
    row.definition = spec.to_dict()
    row.updated_at = utcnow()
    session.flush()
    return row.id


def delete_report(session: Session, viewer: Viewer, report_id: Any) -> str:
    """Delete one of the viewer's saved reports; returns its name."""
    row = _own(session, viewer, report_id)
    name = row.name
    session.delete(row)
    session.flush()
    return name
