"""The note a page shows next to its date picker when the URL's dates had to be corrected."""

from __future__ import annotations

from collections.abc import Sequence

from dash import html


def dates_note(problems: Sequence[str]) -> html.Div | None:
    """What was wrong with the dates of the URL (from `models.params.day_range`), or nothing."""
    if not problems:
        return None
    return html.Div(
        [
            html.I(className="bi bi-exclamation-triangle me-1", **{"aria-hidden": "true"}),
            " ".join(problems),
        ],
        className="filter-note",
    )
