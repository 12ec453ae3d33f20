"""Callbacks of the shared sync modal and of the live-progress watcher.

The watcher is the only thing that polls: its interval is enabled only while a run shown
on the page (or just started from the modal) is queued or running, and each tick is one
primary-key query over the watched ids, scoped to the viewer's organisation.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, no_update

from connectors.base import ConnectorError
from connectors.catalog import connector_facts
from models.db import session_scope
from models.params import id_or_none, int_or_none
from models.run_views import sync_target, watch_runs
from models.scope import MANAGE_SYNCS
from models.sync_errors import NotFound, SyncConflict
from models.sync_options import OptionsError, option_errors, parse_options
from pages._sync_modal import (
    ACTIVE,
    BATCH_SIZE,
    BATCH_SIZE_FEEDBACK,
    CANCEL,
    COMMAND,
    DEFAULT_BATCH,
    ERRORS,
    FINISHED,
    FLAGS,
    MAX_RECORDS,
    MAX_RECORDS_FEEDBACK,
    MODAL,
    RUNBAR,
    RUNCOUNTS,
    RUNSTATUS,
    RUNWATCH,
    SINCE,
    SINCE_FEEDBACK,
    START,
    STARTED,
    SYNC_OPEN,
    TARGET,
    TITLE,
    TOASTS,
    WATCH_INTERVAL,
    WATCH_STATE,
    bar_props,
    counts_text,
    finished_toast,
    status_badge,
)
from web.viewer import current_viewer
from workers.queue import QueueUnavailable
from workers.service import start_sync

MAX_TOASTS = 4
BAR_KEYS = ("value", "label", "striped", "animated", "color")


def raw_options(flags, since, max_records, batch_size) -> dict[str, Any]:
    """The modal's fields as the raw options parse_options validates.

    Counts arrive as typed text: it goes to the parser as it is, so "-5" or "0" is an error
    to show, never an option silently dropped. Only an empty box means "not given".
    """
    flags = {str(f) for f in (flags or [])} if isinstance(flags, list) else set()
    max_records = max_records.strip() if isinstance(max_records, str) else max_records
    batch_size = batch_size.strip() if isinstance(batch_size, str) else batch_size
    return {
        "full": "full" in flags,
        "force": "force" in flags,
        "dry_run": "dry_run" in flags,
        "debug": "debug" in flags,
        "since": since or None,
        "max_records": max_records if max_records not in ("", None) else None,
        "batch_size": batch_size if batch_size not in ("", None) else None,
    }


def modal_title(target: dict[str, Any]) -> str:
    what = f"{target['name']} / {target['stream']}" if target.get("stream") else target["name"]
    return f"Sync {what}" + ("" if target.get("stream") else " (all streams)")


#: What the modal's fields hold on every opening: the last opening's choices never carry over.
FRESH = ([], "", None, str(DEFAULT_BATCH))
KEEP = (no_update,) * len(FRESH)


@callback(
    Output(MODAL, "is_open"),
    Output(TARGET, "data"),
    Output(TITLE, "children"),
    Output("syncmodal-feedback", "children"),
    Output(FLAGS, "value"),
    Output(SINCE, "value"),
    Output(MAX_RECORDS, "value"),
    Output(BATCH_SIZE, "value"),
    Input({"type": SYNC_OPEN, "connection": ALL, "stream": ALL}, "n_clicks"),
    Input(CANCEL, "n_clicks"),
    Input(STARTED, "data"),
    prevent_initial_call=True,
)
def open_modal(_clicks, _cancel, _started):
    """Open for the clicked connection/stream (validated on the server), close on cancel/start.

    Each opening starts from the defaults, so a Dry run or Full left on last time is never
    sent by accident.
    """
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or trigger.get("type") != SYNC_OPEN:
        return (False, no_update, no_update, no_update, *KEEP)
    if not ctx.triggered or not ctx.triggered[0].get("value"):
        return (no_update,) * 4 + KEEP  # a button just appeared
    viewer = current_viewer()
    viewer.require_to(MANAGE_SYNCS)
    with session_scope() as db:
        try:
            target = sync_target(
                db,
                viewer,
                trigger.get("connection"),
                trigger.get("stream"),
                catalogue=connector_facts(),
            )
        except NotFound as exc:
            return (False, None, "Sync", _alert(str(exc)), *KEEP)
    return (True, target, modal_title(target), None, *FRESH)


@callback(
    Output(COMMAND, "children"),
    Output(ERRORS, "children"),
    Output(START, "disabled"),
    Output(MAX_RECORDS, "invalid"),
    Output(MAX_RECORDS_FEEDBACK, "children"),
    Output(BATCH_SIZE, "invalid"),
    Output(BATCH_SIZE_FEEDBACK, "children"),
    Output(SINCE_FEEDBACK, "children"),
    Input(FLAGS, "value"),
    Input(SINCE, "value"),
    Input(MAX_RECORDS, "value"),
    Input(BATCH_SIZE, "value"),
    Input(TARGET, "data"),
)
def validate(flags, since, max_records, batch_size, target):
    """Validate as the worker will and show the equivalent command line, or each error
    beside its field with Start disabled (no command is shown for options that cannot run).

    Returns (command, form error, start disabled, max invalid, max message, batch invalid,
    batch message, since message).
    """
    if not isinstance(target, dict) or not target.get("connection"):
        return "", "", True, False, "", False, "", ""
    raw = raw_options(flags, since, max_records, batch_size)
    errors = option_errors(raw)
    marks = (
        "max_records" in errors,
        errors.get("max_records", ""),
        "batch_size" in errors,
        errors.get("batch_size", ""),
        errors.get("since", ""),
    )
    if errors:
        return "", errors.get("", ""), True, *marks
    options = parse_options(raw)
    command = options.command(
        str(target.get("org") or ""), str(target.get("name") or ""), target.get("stream")
    )
    return command, "", False, *marks


def _alert(message: str, color: str = "danger", **kwargs) -> dbc.Alert:
    return dbc.Alert(message, color=color, className="py-2 mb-0", **kwargs)


@callback(
    Output(STARTED, "data"),
    Output("syncmodal-feedback", "children", allow_duplicate=True),
    Input(START, "n_clicks"),
    State(FLAGS, "value"),
    State(SINCE, "value"),
    State(MAX_RECORDS, "value"),
    State(BATCH_SIZE, "value"),
    State(TARGET, "data"),
    prevent_initial_call=True,
)
def start(clicks, flags, since, max_records, batch_size, target):
    """Queue the run through workers.service (which refuses non-admins and foreign connections)."""
    viewer = current_viewer()
    viewer.require_to(MANAGE_SYNCS)
    if not clicks or not isinstance(target, dict):
        return no_update, no_update
    stream = target.get("stream") or None
    if stream is not None and not isinstance(stream, str):
        return no_update, _alert("That stream is not valid.")
    errors = option_errors(raw_options(flags, since, max_records, batch_size))
    if errors:
        # what a forged request (or a stale form) sends is checked again here
        text = "Nothing was started: " + " ".join(errors.values())
        return no_update, _alert(text, id="syncmodal-invalid")
    try:
        run = start_sync(
            viewer,
            target.get("connection"),
            stream,
            raw_options(flags, since, max_records, batch_size),
            trigger="user",
        )
    except SyncConflict as exc:
        return no_update, _alert(str(exc), "warning", id="syncmodal-conflict")
    except (OptionsError, NotFound, ConnectorError) as exc:
        return no_update, _alert(str(exc))
    except QueueUnavailable as exc:
        return no_update, _alert(str(exc), id="syncmodal-queue-down")
    return {"run": run.id, "clicks": clicks}, None


# --- the watcher ----------------------------------------------------------------------------


def _id_list(value: Any) -> list[int]:
    """The run ids in a stored list; a forged store may hold anything."""
    return [i for i in map(id_or_none, value) if i is not None] if isinstance(value, list) else []


def _watch_ids(
    state: dict, seeds: list, seed_ids: list, started: Any
) -> tuple[list[int], list[int]]:
    """(runs to poll, runs the page still draws as active although they were seen ending).

    The second list is how a stale page is caught: the page's render and the first poll
    run side by side, so a run that ends within a tenth of a second can be toasted by the
    poll while the render, a moment older, draws it running. Such widgets are read again
    (not toasted again) and make the page redraw.
    """
    done = set(state["done"])
    ids = set(state["active"])
    stale = set()
    for status, wid in zip(seeds or [], seed_ids or [], strict=False):
        run = wid.get("run") if isinstance(wid, dict) else None
        if status in ACTIVE and isinstance(run, int) and not isinstance(run, bool):
            (stale if run in done else ids).add(run)
    if isinstance(started, dict) and isinstance(started.get("run"), int):
        ids.add(started["run"])
    return sorted(ids - done), sorted(stale)


@callback(
    Output(WATCH_INTERVAL, "disabled"),
    Output(WATCH_STATE, "data"),
    Output(TOASTS, "children"),
    Output(FINISHED, "data"),
    Output({"type": RUNBAR, "run": ALL}, "value"),
    Output({"type": RUNBAR, "run": ALL}, "label"),
    Output({"type": RUNBAR, "run": ALL}, "striped"),
    Output({"type": RUNBAR, "run": ALL}, "animated"),
    Output({"type": RUNBAR, "run": ALL}, "color"),
    Output({"type": RUNCOUNTS, "run": ALL}, "children"),
    Output({"type": RUNSTATUS, "run": ALL}, "children"),
    Input({"type": RUNWATCH, "run": ALL}, "data"),
    Input(STARTED, "data"),
    Input(WATCH_INTERVAL, "n_intervals"),
    State({"type": RUNWATCH, "run": ALL}, "id"),
    State(WATCH_STATE, "data"),
    State(TOASTS, "children"),
)
def watch(seeds, started, _ticks, seed_ids, state, toasts):
    """Poll the active runs shown on the page; toast the ones that finished; stop when idle.

    FINISHED (which makes the page redraw) is set whenever a run shown as active is over:
    when the poll first sees it end, and again when a redraw that raced that poll still
    draws it active. It carries a fresh sequence number each time, so it always changes.
    """
    viewer = current_viewer()
    state = state if isinstance(state, dict) else {}
    seq = int_or_none(state.get("seq")) or 0
    state = {"active": _id_list(state.get("active")), "done": _id_list(state.get("done"))[-200:]}
    ids, stale = _watch_ids(state, seeds, seed_ids, started)
    runs: dict[int, dict] = {}
    if ids or stale:
        with session_scope() as db:
            runs = {run["id"]: run for run in watch_runs(db, viewer, [*ids, *stale])}
    active = [rid for rid, run in runs.items() if run["status"] in ACTIVE]
    ended = [runs[rid] for rid in ids if rid in runs and runs[rid]["status"] not in ACTIVE]
    redraw = [rid for rid in stale if rid in runs and runs[rid]["status"] not in ACTIVE]
    new_toasts: list = []
    if ended:
        new_toasts = [finished_toast(run) for run in ended]
        state["done"] += [run["id"] for run in ended]
    state["active"] = sorted(active)
    earlier = [t for t in (toasts or []) if t] if isinstance(toasts, list) else []
    toast_out = [*earlier, *new_toasts][-MAX_TOASTS:] if new_toasts else no_update
    finished_out: Any = no_update
    if ended or redraw:
        seq += 1
        finished_out = {"ids": sorted({run["id"] for run in ended} | set(redraw)), "seq": seq}
    state["seq"] = seq

    def each(position: int, make) -> list:
        """One value per widget on the page (no_update for runs not watched)."""
        widgets = [o["id"]["run"] for o in ctx.outputs_list[position]]
        return [make(runs[rid]) if rid in runs else no_update for rid in widgets]

    bars = [each(4 + n, lambda run, key=key: bar_props(run)[key]) for n, key in enumerate(BAR_KEYS)]
    return (
        not active,
        state,
        toast_out,
        finished_out,
        *bars,
        each(9, counts_text),
        each(10, lambda run: status_badge(run["status"])),
    )
