"""Component ids of the reports page, shared by the page and its callbacks."""

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
DATES = "reports-dates"
DATES_WRAP = "reports-dates-wrap"
NAME = "reports-name"
SAVE = "reports-save"
STATUS = "reports-status"
ERROR = "reports-error"
SUMMARY = "reports-summary"
EXPORT = "reports-export"
CHART = "reports-chart"
TABLE = "reports-table"
TABLE_CARD = "reports-table-card"
CONFIRM = "reports-confirm"
CONFIRM_TEXT = "reports-confirm-text"
CONFIRM_YES = "reports-confirm-yes"
CONFIRM_NO = "reports-confirm-no"

DEFAULT_METRICS = ["calls_total", "calls_answered", "answer_rate"]
DEFAULT_GROUP = "day"
DEFAULT_RANGE = "30d"
