"""Component ids of the reports page, shared by the page and its callbacks, and its grid's
columns."""

from __future__ import annotations

from models.reports import GROUPINGS, METRICS, ReportSpec
from pages._dates import from_id, to_id
from pages._table import Column, count_id, export_id, table_id

ROOT = "reports-page"
SAVED = "reports-saved"
DELETE = "reports-delete"
# One checklist of metrics per table, in this order.
METRIC_LISTS = {
    "calls": "reports-metrics-calls",
    "cases": "reports-metrics-cases",
    "tickets": "reports-metrics-tickets",
}
GROUP = "reports-group"
RANGE = "reports-range"
DATES = "reports-dates"  # the custom range (pages/_dates.py)
DATES_FROM = from_id(DATES)
DATES_TO = to_id(DATES)
DATES_WRAP = "reports-dates-wrap"
NAME = "reports-name"
SAVE = "reports-save"
STATUS = "reports-status"
ERROR = "reports-error"
SUMMARY = "reports-summary"
CHART = "reports-chart"
# The result table is a record grid (pages/_table.py): its ids come from this prefix.
GRID = "reports"
TABLE = table_id(GRID)
COUNT = count_id(GRID)
EXPORT = export_id(GRID)
TABLE_CARD = "reports-table-card"
PAGE_SIZE = 31  # a month of days on one page
CONFIRM = "reports-confirm"
CONFIRM_TEXT = "reports-confirm-text"
CONFIRM_YES = "reports-confirm-yes"
CONFIRM_NO = "reports-confirm-no"

DEFAULT_METRICS = ["calls_total", "calls_answered", "answer_rate"]
DEFAULT_GROUP = "day"
DEFAULT_RANGE = "30d"
DEFAULT_SPEC = ReportSpec(tuple(DEFAULT_METRICS), DEFAULT_GROUP, DEFAULT_RANGE)
URL = "reports-url"  # the definition in the address bar (`ReportSpec.to_url`)
#: Which metrics a phone keeps: the first two; the rest join from 640 px (pages/_table.py
#: priorities). The chart above shows every one.
KEY_METRICS = 2


def report_columns(spec: ReportSpec | None) -> list[Column]:
    """The grid's columns for a definition: the group, then each metric, numbers to the
    right, long metric names wrapped in the header; on a phone the group and the first
    metrics stay in view."""
    if spec is None:
        return [("group", "Group", {"minWidth": 100})]
    columns: list[Column] = [("group", GROUPINGS[spec.group], {"minWidth": 100, "width": 150})]
    for i, metric in enumerate(spec.metrics):
        options = {
            "type": "rightAligned",
            "minWidth": 100,
            "width": 120,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
            "priority": 1 if i < KEY_METRICS else 2,
        }
        columns.append((metric, METRICS[metric].label, options))
    return columns
