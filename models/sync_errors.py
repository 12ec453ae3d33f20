"""The errors sync queries raise, shared by connections, runs and the views over them."""

from __future__ import annotations


class NotFound(LookupError):
    """No such thing for this viewer (also said when it exists in another org)."""


class SyncConflict(RuntimeError):
    """A run for this connection and stream is already queued or running."""

    def __init__(self, run_id: int | None, message: str):
        super().__init__(message)
        self.run_id = run_id
