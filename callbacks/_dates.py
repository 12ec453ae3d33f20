"""The callback every date range (pages/_dates.py) shares: typed dates checked beside the inputs."""

from __future__ import annotations

from dash import Input, Output, callback

from pages._dates import date_feedback, from_id, note_id, to_id


def date_feedback_on(prefix: str) -> None:
    """When From or To changes, the note under them says what is wrong with the days typed
    (out of range, end before start) and marks the input at fault; dates that are fine clear
    it, including the note a bad URL left on the first load."""

    @callback(
        Output(note_id(prefix), "children"),
        Output(from_id(prefix), "invalid"),
        Output(to_id(prefix), "invalid"),
        Input(from_id(prefix), "value"),
        Input(to_id(prefix), "value"),
        prevent_initial_call=True,
    )
    def check_dates(start, end):
        return date_feedback(start, end)
