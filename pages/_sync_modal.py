"""The sync console's shared parts: the sync modal, the live-progress watcher and run widgets.

Every page that shows runs includes `sync_console()` once. A run shown anywhere is drawn
by `run_progress()`, whose pattern-matching ids let one watcher callback
(callbacks/sync_modal.py) update every progress bar on the page from one small query,
and keep its 1.5 s interval disabled while nothing is queued or running.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

# --- ids ----------------------------------------------------------------------------------

MODAL = "syncmodal"
TITLE = "syncmodal-title"
TARGET = "syncmodal-target"
FLAGS = "syncmodal-flags"
SINCE = "syncmodal-since"
MAX_RECORDS = "syncmodal-max-records"
BATCH_SIZE = "syncmodal-batch-size"
SINCE_FEEDBACK = "syncmodal-since-feedback"
MAX_RECORDS_FEEDBACK = "syncmodal-max-records-feedback"
BATCH_SIZE_FEEDBACK = "syncmodal-batch-size-feedback"
ERRORS = "syncmodal-errors"
COMMAND = "syncmodal-command"
FEEDBACK = "syncmodal-feedback"
START = "syncmodal-start"
CANCEL = "syncmodal-cancel"

WATCH_INTERVAL = "syncwatch-interval"
WATCH_STATE = "syncwatch-state"
STARTED = "syncwatch-started"
FINISHED = "syncwatch-finished"
TOASTS = "syncwatch-toasts"

#: Pattern-matching id types: {"type": SYNC_OPEN, "connection": id, "stream": name or ""}.
SYNC_OPEN = "sync-open"
RUNWATCH = "sync-runwatch"
RUNBAR = "sync-runbar"
RUNCOUNTS = "sync-runcounts"
RUNSTATUS = "sync-runstatus"

POLL_MS = 1500
ACTIVE = ("queued", "running")
DEFAULT_BATCH = 500
FLAG_CHOICES = (
    ("full", "Full: ignore the saved cursor and read everything"),
    ("force", "Force: rewrite records even when nothing changed"),
    ("dry_run", "Dry run: fetch and validate, write nothing"),
    ("debug", "Debug: keep a verbose log with the run"),
)

# --- words and badges ---------------------------------------------------------------------

STATUS_COLOR = {
    "queued": "info",
    "running": "primary",
    "success": "success",
    "partial": "warning",
    "failed": "danger",
    "cancelled": "warning",
    "never": "secondary",
}
STATUS_LABEL = {"never": "never synced"}
TRIGGER_LABEL = {"user": "user", "schedule": "schedule", "api": "API", "cli": "CLI"}


ICONS_CSS = Path(__file__).resolve().parents[1] / "assets" / "01_bootstrap-icons.min.css"


@lru_cache(maxsize=1)
def _known_icons() -> frozenset[str] | None:
    try:
        css = ICONS_CSS.read_text(encoding="utf-8")
    except OSError:
        return None
    return frozenset(re.findall(r"\.bi-([a-z0-9-]+)::before", css))


def icon_name(name: str | None) -> str:
    """The connector's bootstrap-icons name when the vendored set has it, else "plug"."""
    known = _known_icons()
    if not name or (known is not None and name not in known):
        return "plug"
    return name


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """ "2 hours ago", "just now", "in 5 minutes"; "never" for no time at all."""
    if moment is None:
        return "never"
    now = _aware(now or datetime.now(UTC))
    seconds = (now - _aware(moment)).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 45:
        return "just now" if not future else "in a moment"
    for size, unit in (
        (86400 * 365, "year"),
        (86400 * 30, "month"),
        (86400, "day"),
        (3600, "hour"),
        (60, "minute"),
    ):
        if seconds >= size * 0.95:
            count = max(int(round(seconds / size)), 1)
            words = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {words}" if future else f"{words} ago"
    return "in 1 minute" if future else "1 minute ago"


def when(moment: datetime | None) -> str:
    """An absolute time to the minute (UTC), for tooltips and tables."""
    return _aware(moment).strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def status_badge(status: str | None) -> dbc.Badge:
    """A coloured badge; running pulses (assets/sources.css)."""
    status = status or "never"
    return dbc.Badge(
        STATUS_LABEL.get(status, status),
        color=STATUS_COLOR.get(status, "secondary"),
        className="status-badge" + (" badge-pulse" if status == "running" else ""),
        pill=True,
    )


def cancelled_by_text(run: dict[str, Any]) -> str | None:
    """ "Cancelled by Ada" (or "Stop requested by Ada" while it winds down); None when the run
    was not cancelled by someone we can name (before 0008, a deleted user, the scheduler)."""
    who = run.get("cancelled_by")
    if not who:
        return None
    if run.get("status") == "cancelled":
        return f"Cancelled by {who}"
    if run.get("status") in ACTIVE:
        return f"Stop requested by {who}"
    return None


# --- a run in progress --------------------------------------------------------------------


def bar_props(run: dict[str, Any]) -> dict[str, Any]:
    """dbc.Progress props for a run: striped and animated while active, indeterminate without a total."""
    status = run.get("status")
    processed = int(run.get("processed") or 0)
    total = run.get("total")
    active = status in ACTIVE
    if not active:
        return {
            "value": 100,
            "label": "100 %",
            "striped": False,
            "animated": False,
            "color": STATUS_COLOR.get(status or "", "secondary"),
        }
    if status == "queued":
        return {"value": 100, "label": "queued", "striped": True, "animated": True, "color": "info"}
    if not total:
        return {
            "value": 100,
            "label": f"{processed:,} records",
            "striped": True,
            "animated": True,
            "color": "info",
        }
    percent = min(processed / total * 100, 100)
    return {
        "value": round(percent, 1),
        "label": f"{percent:.0f} %",
        "striped": True,
        "animated": True,
        "color": "primary",
    }


def counts_text(run: dict[str, Any]) -> str:
    processed = int(run.get("processed") or 0)
    total = run.get("total")
    done = f"{processed:,} / {total:,}" if total else f"{processed:,}"
    return (
        f"{done} processed · {int(run.get('created') or 0):,} created · "
        f"{int(run.get('updated') or 0):,} updated · {int(run.get('failed') or 0):,} failed"
    )


def run_progress(
    run: dict[str, Any], *, show_counts: bool = True, show_status: bool = True
) -> html.Div:
    """The live widget of one run; the watcher updates it while the run is active."""
    rid = run["id"]
    return html.Div(
        [
            dcc.Store(id={"type": RUNWATCH, "run": rid}, data=run.get("status")),
            html.Div(
                [
                    html.Span(
                        status_badge(run.get("status")),
                        id={"type": RUNSTATUS, "run": rid},
                        className="" if show_status else "d-none",
                    ),
                    html.Span(
                        counts_text(run),
                        id={"type": RUNCOUNTS, "run": rid},
                        className="small text-muted" + ("" if show_counts else " d-none"),
                    ),
                ],
                className="d-flex flex-wrap align-items-center gap-2 mb-1",
            ),
            dbc.Progress(id={"type": RUNBAR, "run": rid}, className="run-bar", **bar_props(run)),
        ],
        className="run-progress",
    )


def run_title(run: dict[str, Any]) -> str:
    name = run.get("connection") or f"connection {run.get('connection_id')}"
    return f"{name} / {run['stream']}" if run.get("stream") else name


def finished_toast(run: dict[str, Any]) -> dbc.Toast:
    """ "Sync of X finished: success, 1,234 records"."""
    status = run.get("status") or "finished"
    return dbc.Toast(
        f"Sync of {run_title(run)} finished: {status}, {int(run.get('processed') or 0):,} records",
        header="Sync finished",
        icon=STATUS_COLOR.get(status, "secondary"),
        id={"type": "sync-toast", "run": run["id"]},
        duration=10000,
        dismissable=True,
        is_open=True,
        className="sync-toast",
    )


def open_button(
    connection_id: int, stream: str | None, label: str = "Sync", **kwargs: Any
) -> dbc.Button:
    """A button that opens the sync modal for a connection (and a stream, or all)."""
    kwargs.setdefault("size", "sm")
    kwargs.setdefault("color", "primary")
    return dbc.Button(
        [html.I(className="bi bi-arrow-repeat me-1"), label],
        id={"type": SYNC_OPEN, "connection": connection_id, "stream": stream or ""},
        n_clicks=0,
        **kwargs,
    )


# --- the modal and the watcher ------------------------------------------------------------


def _field(label: str, control, feedback_id: str, control_id: str, help_text: str = "") -> html.Div:
    """A labelled control with its error beside it (FormFeedback shows under an invalid input)."""
    return html.Div(
        [
            dbc.Label(label, html_for=control_id, className="form-label mb-1"),
            control,
            dbc.FormFeedback(id=feedback_id, type="invalid"),
            dbc.FormText(help_text, className="sync-help") if help_text else None,
        ],
        className="mb-3",
    )


def _count_input(cid: str, placeholder: str, value: Any = None) -> dbc.Input:
    """A count typed as text, so the server sees exactly what was typed (-5, 0, 2.5, "abc").

    A number input hands a value outside its min/max to Dash as None: the form would then
    say nothing and silently run without it.
    """
    return dbc.Input(
        id=cid,
        type="text",
        inputMode="numeric",
        autoComplete="off",
        maxLength=12,
        placeholder=placeholder,
        value=value,
        debounce=False,
    )


def sync_modal() -> dbc.Modal:
    since = html.Div(
        [
            dbc.Label("Since", html_for=SINCE, className="form-label mb-1"),
            # A native date input: labelled, keyboard- and screen-reader-friendly.
            dbc.Input(id=SINCE, type="date", min="2000-01-01", debounce=False),
            html.Div(id=SINCE_FEEDBACK, className="field-error small", role="alert"),
            dbc.FormText("Records changed since this date", className="sync-help"),
        ],
        className="mb-3",
    )
    body = dbc.ModalBody(
        [
            html.Fieldset(
                [
                    html.Legend("Options", className="visually-hidden"),
                    dbc.Checklist(
                        id=FLAGS,
                        options=[{"label": label, "value": key} for key, label in FLAG_CHOICES],
                        value=[],
                        switch=True,
                        className="mb-3",
                    ),
                ]
            ),
            dbc.Row(
                [
                    dbc.Col(since, md=4),
                    dbc.Col(
                        _field(
                            "Max records",
                            _count_input(MAX_RECORDS, "All"),
                            MAX_RECORDS_FEEDBACK,
                            MAX_RECORDS,
                            "Stop after this many",
                        ),
                        md=4,
                    ),
                    dbc.Col(
                        _field(
                            "Batch size",
                            _count_input(BATCH_SIZE, str(DEFAULT_BATCH), DEFAULT_BATCH),
                            BATCH_SIZE_FEEDBACK,
                            BATCH_SIZE,
                            "Records per transaction (1–10,000)",
                        ),
                        md=4,
                    ),
                ]
            ),
            html.Div(id=ERRORS, className="field-error small mb-2", role="alert"),
            html.Div(
                "Equivalent command", className="small text-muted", id="syncmodal-command-label"
            ),
            html.Pre(
                id=COMMAND,
                className="sync-command mb-2",
                **{"aria-labelledby": "syncmodal-command-label"},
            ),
            html.Div(id=FEEDBACK),
        ]
    )
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Sync", id=TITLE)),
            body,
            dbc.ModalFooter(
                [
                    dbc.Button("Cancel", id=CANCEL, color="secondary", outline=True, n_clicks=0),
                    dbc.Button(
                        [html.I(className="bi bi-play-fill me-1"), "Start"],
                        id=START,
                        color="primary",
                        n_clicks=0,
                        disabled=True,
                    ),
                ]
            ),
            dcc.Store(id=TARGET, data=None),
        ],
        id=MODAL,
        is_open=False,
        size="lg",
        labelledby=TITLE,
        class_name="sync-modal",
    )


def sync_console() -> html.Div:
    """The modal, the watcher (interval disabled until a run is active) and the toast area."""
    return html.Div(
        [
            sync_modal(),
            dcc.Interval(id=WATCH_INTERVAL, interval=POLL_MS, disabled=True, n_intervals=0),
            dcc.Store(id=WATCH_STATE, data=None),
            dcc.Store(id=STARTED, data=None),
            dcc.Store(id=FINISHED, data=None),
            html.Div(id=TOASTS, className="sync-toasts", children=[]),
        ]
    )
