"""Component ids of the calls, recordings and SMS pages, shared by the pages and their callbacks."""

from pages._table import count_id, export_id, search_id, table_id

# --- calls -------------------------------------------------------------------------------
CALLS = "calls"
CALLS_ROOT = "calls-page"
CALLS_URL = "calls-url"
CALLS_TABLE = table_id(CALLS)
CALLS_SEARCH = search_id(CALLS)
CALLS_COUNT = count_id(CALLS)
CALLS_EXPORT = export_id(CALLS)
CALLS_DATES = "calls-dates"
CALLS_PHONE = "calls-phone"
CALLS_AGENT = "calls-agent"
CALLS_DIRECTION = "calls-direction"
CALLS_STATUS = "calls-status"
CALLS_RESET = "calls-reset"
CALLS_PAGE_SIZE = 25
CALLS_COLUMNS = [
    ("time", "Time (UTC)"),
    ("number", "Number"),
    ("from", "From"),
    ("to", "To"),
    ("contact", "Contact"),
    ("direction", "Direction"),
    ("status", "Status"),
    ("duration", "Duration"),
    ("agent", "Agent"),
]
STATUS_LABELS = {"answered": "Answered", "missed": "Missed", "voicemail": "Voicemail"}
DIRECTION_LABELS = {"inbound": "Inbound", "outbound": "Outbound"}

# --- recordings --------------------------------------------------------------------------
REC_ROOT = "recordings-page"
REC_SEARCH = "recordings-search"
REC_PHONE = "recordings-phone"
REC_DATES = "recordings-dates"
REC_LIST = "recordings-list"
REC_COUNT = "recordings-count"
REC_PAGER = "recordings-pager"
REC_PAGE_SIZE = 20

# --- SMS ---------------------------------------------------------------------------------
SMS = "sms"
SMS_ROOT = "sms-page"
SMS_TABLE = table_id(SMS)
SMS_SEARCH = search_id(SMS)
SMS_COUNT = count_id(SMS)
SMS_EMPTY = "sms-empty"
SMS_BODY = "sms-body"
SMS_PAGE_SIZE = 25
SMS_COLUMNS = [
    ("time", "Time (UTC)"),
    ("number", "Number"),
    ("direction", "Direction"),
    ("from", "From"),
    ("to", "To"),
    ("body", "Message"),
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
