"""Background work: sync runs, connection checks, schedules; on RQ or an in-process pool."""
