"""The overview page's contract with its callbacks: component ids and the URL's filter format.

The filters live in the query string so a view can be bookmarked and shared:
`?range=7|30|90|1` (days, 1 = today) or `?range=custom&from=2026-01-01&to=2026-01-31`
(inclusive UTC days), plus `phone=<number id>`, `agent=<user id>`,
`direction=inbound|outbound` and a heatmap cell `weekday=0..6` (Monday = 0) / `hour=0..23`.
`OverviewFilters.parse` accepts anything (a URL, a forged callback input) and keeps only
well-formed values; access is decided later, on the server, by the viewer's scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from models.params import day_range, first, id_or_none, int_or_none
from pages._dates import from_id, note_id, to_id

URL = "overview-url"
FILTERS = "overview-filters"
RANGE = "overview-range"
DATES = "overview-dates"  # the custom range (pages/_dates.py), shown for range=custom
DATES_WRAP = "overview-dates-wrap"
DATES_FROM = from_id(DATES)
DATES_TO = to_id(DATES)
PHONE = "overview-phone"
AGENT = "overview-agent"
DIRECTION = "overview-direction"
CELL_BADGE = "overview-cell-badge"
CELL_TEXT = "overview-cell-text"
CELL_CLEAR = "overview-cell-clear"
RESET = "overview-reset"
CARDS = "overview-cards"
PERIOD_TEXT = "overview-period"
UPDATED = "overview-updated"
AUTO = "overview-auto"
INTERVAL = "overview-interval"
REFRESH = "overview-refresh"
EMPTY = "overview-empty"
DATES_NOTE = note_id(DATES)  # what was wrong with the URL's or the typed dates
CALL_CHARTS = "overview-call-charts"
DAY_CHART = "overview-chart-days"
DAY_TITLE = "overview-chart-days-title"  # "Calls per day", or "Calls per hour" for one day
DAY_HINT = "overview-chart-days-hint"
HEATMAP = "overview-chart-heatmap"
AGENT_CHART = "overview-chart-agents"
NUMBER_CHART = "overview-chart-numbers"
CASE_STATUS_CHART = "overview-chart-case-status"
CASE_OFFICE_CHART = "overview-chart-case-office"
TICKET_CHART = "overview-chart-tickets"

RANGES = ((1, "Today"), (7, "7 days"), (30, "30 days"), (90, "90 days"))
CUSTOM = "custom"
DEFAULT_DAYS = 30
MAX_DAYS = 366
DIRECTIONS = ("inbound", "outbound")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
REFRESH_MS = 60_000


@dataclass(frozen=True)
class OverviewFilters:
    """What the overview shows: a date range and optional narrowing of calls."""

    range: int | str = DEFAULT_DAYS
    start: date | None = None  # custom ranges only, inclusive
    end: date | None = None
    phone: int | None = None
    agent: int | None = None
    direction: str | None = None
    weekday: int | None = None
    hour: int | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> OverviewFilters:
        """Filters from a query-string dict or a stored dict; malformed values are dropped."""
        return cls.read(raw)[0]

    @classmethod
    def read(cls, raw: Mapping[str, Any] | None) -> tuple[OverviewFilters, tuple[str, ...]]:
        """The filters, and what was wrong with the dates and range asked for (a message for
        the date picker; the URL is then rewritten to what is shown)."""
        raw = raw or {}
        wanted = first(raw.get("range"))
        asked = raw.get("from") is not None or raw.get("to") is not None
        days = day_range(raw.get("from"), raw.get("to"), max_days=MAX_DAYS)
        start, end = days.start, days.end
        problems = list(days.problems) if wanted in (CUSTOM, None) and asked else []
        if (wanted == CUSTOM or (wanted is None and start and end)) and start and end:
            range_: int | str = CUSTOM
        else:
            preset = int_or_none(wanted, low=1, high=MAX_DAYS)
            if wanted is not None and wanted != CUSTOM and preset not in dict(RANGES):
                problems.append(f"“{str(wanted)[:20]}” is not one of the ranges offered.")
            elif wanted == CUSTOM and not problems:
                problems.append("A custom range needs a start and an end date.")
            range_ = preset if preset in dict(RANGES) else DEFAULT_DAYS
            start = end = None
            if problems:
                problems.append(f"Showing the last {range_} days instead.")
        direction = raw.get("direction")
        filters = cls(
            range=range_,
            start=start,
            end=end,
            phone=id_or_none(raw.get("phone")),
            agent=id_or_none(raw.get("agent")),
            direction=direction if direction in DIRECTIONS else None,
            weekday=int_or_none(raw.get("weekday"), low=0, high=6),
            hour=int_or_none(raw.get("hour"), low=0, high=23),
        )
        return filters, tuple(problems)

    @classmethod
    def from_search(cls, search: str | None) -> OverviewFilters:
        """Filters from a URL query string such as `?range=7&phone=3` (anything else: defaults)."""
        return cls.parse(from_search_dict(search))

    def as_dict(self) -> dict[str, Any]:
        """The query-string keys and values (None and defaults left out)."""
        out: dict[str, Any] = {"range": self.range}
        if self.range == CUSTOM:
            out["from"], out["to"] = self.start.isoformat(), self.end.isoformat()
        for key in ("phone", "agent", "direction", "weekday", "hour"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def to_search(self) -> str:
        """The query string for the URL, `?range=30` at least."""
        return "?" + urlencode(self.as_dict())

    def with_(self, **changes: Any) -> OverviewFilters:
        """A copy with some fields changed, validated like any other input."""
        values = asdict(self) | changes
        raw = {k: v for k, v in values.items() if k not in ("start", "end")}
        raw["from"] = values["start"].isoformat() if values["start"] else None
        raw["to"] = values["end"].isoformat() if values["end"] else None
        return OverviewFilters.parse(raw)

    def custom_day(self, day: date) -> OverviewFilters:
        """This view narrowed to one day (a click on a day's bar)."""
        return self.with_(range=CUSTOM, start=day, end=day)

    @property
    def cell(self) -> tuple[int | None, int | None]:
        return self.weekday, self.hour

    def window(self, now: datetime) -> tuple[datetime, datetime, timedelta]:
        """(start, end, shift) in UTC: the half-open range shown and how far back the
        comparison range lies (the same number of days, so "today so far" is compared with
        "yesterday until the same time")."""
        midnight = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
        if self.range == CUSTOM:
            start = datetime.combine(self.start, time(), tzinfo=now.tzinfo)
            end = datetime.combine(self.end + timedelta(days=1), time(), tzinfo=now.tzinfo)
            return start, end, end - start
        days = int(self.range)
        return midnight - timedelta(days=days - 1), now, timedelta(days=days)


def from_search_dict(search: Any) -> dict[str, str]:
    """A query string (`?range=7&phone=3`) as a dict; anything but text is empty."""
    return dict(parse_qsl(search.lstrip("?") if isinstance(search, str) else ""))


def dates_class(custom: bool) -> str:
    """The custom range's classes: hidden unless the range is custom."""
    return "date-range overview-dates" + ("" if custom else " d-none")


def cell_label(weekday: int | None, hour: int | None) -> str:
    """`Monday 10:00–11:00 UTC`, or the half that is set."""
    parts = []
    if weekday is not None:
        parts.append(WEEKDAY_NAMES[weekday])
    if hour is not None:
        parts.append(f"{hour:02d}:00–{(hour + 1) % 24:02d}:00 UTC")
    return " ".join(parts)
