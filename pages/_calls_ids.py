"""Component ids of the calls, recordings and SMS pages, shared by the pages and their callbacks."""

from pages._dates import from_id, note_id, to_id
from pages._table import Column, count_id, export_id, search_id, table_id

# --- calls -------------------------------------------------------------------------------
CALLS = "calls"
CALLS_ROOT = "calls-page"
CALLS_URL = "calls-url"
CALLS_TABLE = table_id(CALLS)
CALLS_SEARCH = search_id(CALLS)
CALLS_COUNT = count_id(CALLS)
CALLS_EXPORT = export_id(CALLS)
CALLS_DATES = "calls-dates"  # the date range (pages/_dates.py): its From, To and note
CALLS_DATES_FROM = from_id(CALLS_DATES)
CALLS_DATES_TO = to_id(CALLS_DATES)
CALLS_DATES_NOTE = note_id(CALLS_DATES)
CALLS_PHONE = "calls-phone"
CALLS_AGENT = "calls-agent"
CALLS_DIRECTION = "calls-direction"
CALLS_STATUS = "calls-status"
CALLS_RESET = "calls-reset"
CALLS_EMPTY = "calls-empty"
CALLS_PAGE_SIZE = 25
#: Status cells read as coloured pills (assets/records.css), one class per status.
STATUS_CELL = {
    "cellClassRules": {
        f"status-{key}": f"params.value === '{label}'"
        for key, label in {
            "answered": "Answered",
            "missed": "Missed",
            "voicemail": "Voicemail",
        }.items()
    }
}
# Widths fit the content with the records pages' 10 px cell padding (assets/records.css):
# `minWidth` keeps time and status whole at every width, `width` is each column's share
# when the grid sizes the columns to fit. A phone keeps time and status; from 640 px the
# number, direction and duration join; from 960 px (a 1440 px screen) everything.
CALLS_COLUMNS: list[Column] = [
    ("time", "Time (UTC)", {"minWidth": 155, "width": 155}),
    ("number", "Number", {"priority": 2, "minWidth": 90, "width": 132}),
    ("from", "From", {"priority": 3, "minWidth": 90, "width": 136}),
    ("to", "To", {"priority": 3, "minWidth": 90, "width": 136}),
    ("contact", "Contact", {"priority": 3, "minWidth": 80, "width": 130}),
    ("direction", "Direction", {"priority": 2, "minWidth": 95, "width": 95}),
    ("status", "Status", {"minWidth": 120, "width": 120, **STATUS_CELL}),
    ("duration", "Duration", {"priority": 2, "type": "rightAligned", "minWidth": 95, "width": 95}),
    ("agent", "Agent", {"priority": 3, "minWidth": 80, "width": 125}),
]
STATUS_LABELS = {"answered": "Answered", "missed": "Missed", "voicemail": "Voicemail"}
DIRECTION_LABELS = {"inbound": "Inbound", "outbound": "Outbound"}

# --- recordings --------------------------------------------------------------------------
REC_ROOT = "recordings-page"
REC_SEARCH = "recordings-search"
REC_PHONE = "recordings-phone"
REC_RESET = "recordings-reset"
REC_DATES = "recordings-dates"
REC_DATES_FROM = from_id(REC_DATES)
REC_DATES_TO = to_id(REC_DATES)
REC_LIST = "recordings-list"
REC_COUNT = "recordings-count"
REC_PAGER = "recordings-pager"
REC_PAGE_SIZE = 20

# --- SMS ---------------------------------------------------------------------------------
SMS = "sms"
SMS_ROOT = "sms-page"
SMS_URL = "sms-url"
SMS_DATES = "sms-dates"
SMS_DATES_FROM = from_id(SMS_DATES)
SMS_DATES_TO = to_id(SMS_DATES)
SMS_RESET = "sms-reset"
SMS_TABLE = table_id(SMS)
SMS_SEARCH = search_id(SMS)
SMS_COUNT = count_id(SMS)
SMS_EMPTY = "sms-empty"
SMS_BODY = "sms-body"
SMS_PAGE_SIZE = 25
# A phone keeps time and message; the number and direction from 640 px, from/to from 960.
SMS_COLUMNS: list[Column] = [
    ("time", "Time (UTC)", {"minWidth": 155, "width": 155}),
    ("number", "Number", {"priority": 2, "minWidth": 110}),
    ("direction", "Direction", {"priority": 2, "minWidth": 95, "width": 95}),
    ("from", "From", {"priority": 3, "minWidth": 135}),
    ("to", "To", {"priority": 3, "minWidth": 135}),
    ("body", "Message", {"minWidth": 150, "flex": 2, "sortable": False}),
]


def component(tree, component_id: str):
    """The component with `component_id` inside a layout tree (to set initial values from the
    URL on what `record_table` builds)."""
    if getattr(tree, "id", None) == component_id:
        return tree
    children = getattr(tree, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            found = component(child, component_id)
            if found is not None:
                return found
    return None
