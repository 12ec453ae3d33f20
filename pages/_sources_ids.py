"""Component ids of the sources, source, stream, sync history and run pages (page-prefixed)."""

# /sources
SOURCES_GRID = "sources-grid"
SOURCES_SEARCH = "sources-search"
SOURCES_REFRESH = "sources-refresh"
SOURCES_MESSAGE = "sources-message"
ADD_OPEN = "sources-add-open"
ADD_MODAL = "sources-add-modal"
ADD_CONNECTOR = "sources-add-connector"
ADD_NAME = "sources-add-name"
ADD_NAME_FEEDBACK = "sources-add-name-feedback"
ADD_BASE_URL = "sources-add-base-url"
ADD_BASE_URL_FEEDBACK = "sources-add-base-url-feedback"
ADD_SCHEDULE_FEEDBACK = "sources-add-schedule-feedback"
ADD_HINT = "sources-add-hint"
ADD_SCHEDULE = "sources-add-schedule"
ADD_DOCS = "sources-add-docs"
ADD_TEST = "sources-add-test"
ADD_TEST_RESULT = "sources-add-test-result"
ADD_SAVE = "sources-add-save"
ADD_CANCEL = "sources-add-cancel"
ADD_ERROR = "sources-add-error"
ADD_SAVED = "sources-add-saved"
# a connector's declared settings, drawn for every connector, one group shown at a time:
ADD_FIELDS = "sources-add-fields"  # pattern: {"type": ADD_FIELDS, "connector": key}
ADD_FIELD = "sources-add-field"  # pattern: {"type": ADD_FIELD, "connector": key, "name": field}
ADD_FIELD_FEEDBACK = "sources-add-field-feedback"  # same keys as ADD_FIELD
ADD_FILE_ROW = "sources-add-file-row"
ADD_FILE = "sources-add-file"
ADD_FILE_PATH = "sources-add-file-path"
ADD_FILE_NOTE = "sources-add-file-note"

# /sources/<id>
SOURCE_ID = "source-id"
SOURCE_HEADER = "source-header"
SOURCE_STREAMS = "source-streams"
SOURCE_ACTIONS = "source-actions"
SOURCE_MESSAGE = "source-message"
SOURCE_CHANGED = "source-changed"
SOURCE_STOP = "source-stop"  # pattern type: {"type": SOURCE_STOP, "run": id}
SOURCE_SCHEDULE = "source-schedule"
SOURCE_SCHEDULE_TEXT = "source-schedule-text"
SOURCE_SCHEDULE_MINUTES = "source-schedule-minutes"
SOURCE_SCHEDULE_SAVE = "source-schedule-save"
SOURCE_SCHEDULE_OFF = "source-schedule-off"
SOURCE_SETTINGS = "source-settings"
SOURCE_NAME = "source-name-input"
SOURCE_NAME_FEEDBACK = "source-name-feedback"
SOURCE_BASE_URL = "source-base-url"
SOURCE_BASE_URL_FEEDBACK = "source-base-url-feedback"
SOURCE_SCHEDULE_FEEDBACK = "source-schedule-feedback"
SOURCE_EDIT = "source-edit"
SOURCE_EDITOR = "source-editor"
SOURCE_FIELDS = "source-fields"  # pattern: {"type": SOURCE_FIELDS, "connector": key}
SOURCE_FIELD = "source-field"  # pattern: {"type": SOURCE_FIELD, "connector": key, "name": field}
SOURCE_FIELD_FEEDBACK = "source-field-feedback"  # same keys as SOURCE_FIELD
SOURCE_SETTINGS_SAVE = "source-settings-save"
SOURCE_TEST = "source-test"
SOURCE_TEST_RESULT = "source-test-result"
#: What a connection test says while it waits (its button disabled; it gives up after 10 s).
TESTING = "Testing…"
SOURCE_DELETE = "source-delete"
SOURCE_DELETE_MODAL = "source-delete-modal"
SOURCE_DELETE_TEXT = "source-delete-text"
SOURCE_DELETE_PURGE = "source-delete-purge"
SOURCE_DELETE_PURGE_ROW = "source-delete-purge-row"
SOURCE_DELETE_CONFIRM = "source-delete-confirm"
SOURCE_DELETE_CANCEL = "source-delete-cancel"
SOURCE_LOCATION = "source-location"

# /sources/<id>/<stream>
STREAM_KEY = "stream-key"
STREAM_HEADER = "stream-header"
STREAM_SUMMARY = "stream-summary"
STREAM_ERRORS = "stream-errors"
STREAM_RECORDS = "stream-records"
STREAM_TABLE_PREFIX = "stream-rec"

# /syncs
SYNCS_CONNECTION = "syncs-connection"
SYNCS_STREAM = "syncs-stream"
SYNCS_STATUS = "syncs-status"
SYNCS_FROM = "syncs-from"
SYNCS_TO = "syncs-to"
#: The history's record grid (pages/_table.py): ids "syncs-table", "syncs-count", …
SYNCS_PREFIX = "syncs"
SYNCS_TABLE = "syncs-table"
SYNCS_COUNT = "syncs-count"
#: The progress-poll seeds ({"type": RUNWATCH} stores) of the runs active on the shown page.
SYNCS_WATCH = "syncs-watch"
#: [[run id, status]] those seeds hold, so an unchanged page leaves them alone.
SYNCS_ACTIVE = "syncs-active"
#: Written by the clientside callback that refreshes the grid's rows in place (assets/syncs.js).
SYNCS_LIVE = "syncs-live"
SYNCS_PAGE_SIZE = 25
STATUSES = ("queued", "running", "success", "partial", "failed", "cancelled")

# /syncs/<id>
RUN_ID = "run-id"
RUN_BODY = "run-body"
RUN_RETRY = "run-retry"
RUN_MESSAGE = "run-message"
RUN_LOCATION = "run-location"
