"""Pure builders of the sync history page: the record grid's columns and its rows as text.

The grid (pages/_table.record_grid) shows text only, so a run in progress is a status text
("running · 45 %", or "running · 1,234" records without a known total) that the page's poll
refreshes, and the link
to a run's page is a markdown cell (`link_cell`). Field names are the sort keys the query
accepts (models.run_views.HISTORY_SORTABLE).
"""

from __future__ import annotations

from typing import Any

import dash

from pages._sync_modal import ACTIVE, TRIGGER_LABEL, ago, duration_text, when
from pages._table import Column, link_cell


def _right(width: int) -> dict[str, Any]:
    return {"type": "rightAligned", "width": width, "minWidth": 70}


#: A coloured dot and weight per run status (assets/sources.css), from the raw status field.
STATUS_CELL: dict[str, Any] = {
    "cellClassRules": {
        f"run-status-{status}": f"params.data && params.data.state === '{status}'"
        for status in ("queued", "running", "success", "partial", "failed", "cancelled")
    },
    "tooltipValueGetter": {"function": "params.data && params.data.status_title"},
}

# Run (its link), started, source and status stay on a phone; the counts come as it widens.
# `width` is each column's share on a wide grid; `minWidth` what it keeps on a phone.
HISTORY_COLUMNS: list[Column] = [
    ("run", "Run", {"cellRenderer": "markdown", "width": 70, "minWidth": 52, "maxWidth": 100}),
    (
        "started",
        "Started",
        {
            "width": 120,
            "minWidth": 84,
            "tooltipValueGetter": {"function": "params.data && params.data.at"},
        },
    ),
    ("connection", "Source", {"width": 125, "minWidth": 80}),
    ("stream", "Stream", {"priority": 2, "width": 100, "minWidth": 80}),
    ("trigger", "Trigger", {"priority": 3, "width": 80, "minWidth": 70}),
    ("status", "Status", {"width": 165, "minWidth": 100, **STATUS_CELL}),
    ("duration", "Duration", {"priority": 3, "sortable": False, **_right(90)}),
    ("processed", "Processed", {"priority": 2, **_right(100)}),
    ("created", "Created", {"priority": 3, **_right(90)}),
    ("updated", "Updated", {"priority": 3, **_right(95)}),
    ("failed", "Failed", {"priority": 3, **_right(75)}),
]


def status_text(run: dict[str, Any]) -> str:
    """What the status cell says: the status, and for a running run how far it has got."""
    status = str(run.get("status") or "")
    if status != "running":
        return status
    processed = int(run.get("processed") or 0)
    total = run.get("total")
    if total:
        return f"running · {min(processed / total * 100, 100):.0f} %"
    return f"running · {processed:,}"


def status_title(run: dict[str, Any]) -> str:
    """The status cell's tooltip: the figures in words (the cell may be cut on a phone)."""
    status = str(run.get("status") or "")
    processed = int(run.get("processed") or 0)
    total = run.get("total")
    if status == "running":
        done = f"{processed:,} of {total:,}" if total else f"{processed:,}"
        return f"running: {done} records so far"
    if status == "queued":
        return "queued: waiting for a worker"
    failed = int(run.get("failed") or 0)
    return f"{status}: {processed:,} records" + (f", {failed:,} failed" if failed else "")


def history_rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The grid's rows: display text per column, plus the raw status (`state`) and the
    absolute start time (`at`) that the status colour and the tooltip read."""
    rows = []
    for run in runs:
        href = dash.get_relative_path(f"/syncs/{run['id']}")
        rows.append(
            {
                "id": run["id"],
                "run": link_cell(f"#{run['id']}", href),
                "started": ago(run["created_at"]),
                "at": when(run["created_at"]),
                "connection": run["connection"],
                "stream": run["stream"] or "all",
                "trigger": TRIGGER_LABEL.get(run["trigger"], run["trigger"]),
                "status": status_text(run),
                "state": run["status"],
                "status_title": status_title(run),
                "duration": duration_text(run["duration"]),
                "processed": f"{run['processed']:,}",
                "created": f"{run['created']:,}",
                "updated": f"{run['updated']:,}",
                "failed": f"{run['failed']:,}",
            }
        )
    return rows


def active_on_page(runs: list[dict[str, Any]]) -> list[list[Any]]:
    """[[run id, status]] of the queued and running runs of a page, for the progress poll."""
    return [[run["id"], run["status"]] for run in runs if run["status"] in ACTIVE]
