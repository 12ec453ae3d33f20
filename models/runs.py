"""Sync runs and their lifecycle: request, list, claim, heartbeat, progress, finish, fail,
cancel, and reap the ones whose worker died."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.base import utcnow
from models.orgs import User
from models.params import id_or_none
from models.rowcount import affected_rows
from models.scope import MANAGE_SYNCS, Viewer, visible
from models.sync import ACTIVE, Connection, RunStatus, SyncRun
from models.sync_errors import NotFound, SyncConflict
from models.sync_options import SyncOptions

HEARTBEAT_STALE = timedelta(seconds=40)
ERROR_SAMPLES = 20
DEBUG_LOG_LIMIT = 200_000


def active_run(session: Session, connection_id: int, stream: str | None) -> SyncRun | None:
    """A queued or running run that overlaps (same stream, or one of them is 'all streams')."""
    overlap = or_(SyncRun.lock_key == "*", SyncRun.lock_key == (stream or "*"))
    if stream is None:
        overlap = SyncRun.lock_key.is_not(None)
    return session.scalar(
        select(SyncRun)
        .where(SyncRun.connection_id == connection_id, SyncRun.status.in_(ACTIVE), overlap)
        .order_by(SyncRun.id)
    )


def request_run(
    session: Session,
    conn: Connection,
    *,
    stream: str | None,
    options: SyncOptions,
    trigger: str,
    user_id: int | None = None,
) -> SyncRun:
    """A queued run; SyncConflict when one for the same connection and stream is active."""
    running = active_run(session, conn.id, stream)
    if running is not None:
        raise SyncConflict(running.id, _already(conn, running))
    run = SyncRun(
        org_id=conn.org_id,
        connection_id=conn.id,
        stream=stream,
        lock_key=stream or "*",
        trigger=trigger,
        requested_by_id=user_id,
        options=options.as_dict(),
        status=RunStatus.QUEUED.value,
        error_samples=[],
        stats={},
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError as exc:
        running = active_run(session, conn.id, stream)
        raise SyncConflict(running.id if running else None, _already(conn, running)) from exc
    return run


def _already(conn: Connection, run: SyncRun | None) -> str:
    what = f"{conn.name}" + (f" / {run.stream}" if run and run.stream else "")
    state = run.status if run else "running"
    return f"A sync of {what} is already {state} (run {run.id if run else '?'})."


def run_clauses(
    viewer: Viewer,
    *,
    connection_id: int | None = None,
    stream: str | None = None,
    status: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list:
    """The WHERE clauses of a filtered list of the viewer's runs (the page's and the API's)."""
    clauses = [visible(viewer, SyncRun)]
    if connection_id is not None:
        clauses.append(SyncRun.connection_id == connection_id)
    if stream:
        clauses.append(SyncRun.stream == stream)
    if status:
        clauses.append(SyncRun.status == status)
    if start is not None:
        clauses.append(SyncRun.created_at >= start)
    if end is not None:
        clauses.append(SyncRun.created_at < end)
    return clauses


def runs_visible(
    session: Session,
    viewer: Viewer,
    *,
    connection_id: int | None = None,
    stream: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[SyncRun], int]:
    """A page of the viewer's organisation's runs, newest first, and the total count."""
    clauses = run_clauses(viewer, connection_id=connection_id, stream=stream, status=status)
    total = session.scalar(select(func.count(SyncRun.id)).where(*clauses)) or 0
    rows = session.scalars(
        select(SyncRun).where(*clauses).order_by(SyncRun.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


def latest_runs(session: Session, viewer: Viewer, connection_ids: list[int]) -> dict[int, SyncRun]:
    """{connection id: its newest run} for the viewer's connections, in one query."""
    if not connection_ids:
        return {}
    newest = (
        select(func.max(SyncRun.id))
        .where(visible(viewer, SyncRun), SyncRun.connection_id.in_(connection_ids))
        .group_by(SyncRun.connection_id)
    )
    return {
        run.connection_id: run
        for run in session.scalars(select(SyncRun).where(SyncRun.id.in_(newest)))
    }


def get_run(session: Session, viewer: Viewer, run_id: int | str) -> SyncRun:
    rid = id_or_none(run_id)
    if rid is None:
        raise NotFound(f"No sync run {run_id!r}.")
    run = session.scalar(select(SyncRun).where(SyncRun.id == rid, visible(viewer, SyncRun)))
    if run is None:
        raise NotFound(f"No sync run {run_id} in this organisation.")
    return run


def load_run(session: Session, run_id: int) -> SyncRun | None:
    """A run by id, for jobs and the CLI's progress bar (no viewer: they were given the id)."""
    return session.get(SyncRun, run_id)


def set_job_id(session: Session, run_id: int, job_id: str | None) -> SyncRun | None:
    """Record which job runs the run, unless the worker already did (claim_run)."""
    run = session.get(SyncRun, run_id)
    if run is not None and run.job_id is None:
        run.job_id = job_id
    return run


def claim_run(session: Session, run_id: int, job_id: str | None = None) -> bool:
    """queued → running, atomically; False when the run was cancelled or taken already."""
    now = utcnow()
    claimed = affected_rows(
        session,
        update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.status == RunStatus.QUEUED.value)
        .values(status=RunStatus.RUNNING.value, started_at=now, heartbeat_at=now, job_id=job_id),
    )
    session.commit()
    return claimed == 1


def beat(session: Session, run_id: int) -> None:
    session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.status == RunStatus.RUNNING.value)
        .values(heartbeat_at=utcnow())
    )
    session.commit()


def cancel_requested(session: Session, run_id: int) -> bool:
    return bool(session.scalar(select(SyncRun.cancel_requested).where(SyncRun.id == run_id)))


def request_cancel(session: Session, viewer: Viewer, run_id: int | str) -> SyncRun:
    """Queued runs end now; running runs stop at their next batch boundary. The viewer is
    recorded as the one who cancelled (the run and source pages name them)."""
    viewer.require_to(MANAGE_SYNCS)
    run = get_run(session, viewer, run_id)
    if run.status == RunStatus.QUEUED.value:
        run.status = RunStatus.CANCELLED.value
        run.finished_at = utcnow()
        run.cancel_requested = True
        run.cancelled_by_id = _user_id(session, viewer)
        run.error = "Cancelled before it started."
    elif run.status == RunStatus.RUNNING.value:
        if not run.cancel_requested:  # a second Stop does not take the first one's name
            run.cancelled_by_id = _user_id(session, viewer)
        run.cancel_requested = True
    else:
        raise SyncConflict(run.id, f"Run {run.id} has already finished ({run.status}).")
    session.flush()
    return run


def _user_id(session: Session, viewer: Viewer) -> int | None:
    """The viewer's user id when it names a stored user (a service viewer may not): the
    foreign key would refuse anything else, and the cancel must not fail over who asked."""
    return viewer.user_id if session.get(User, viewer.user_id) is not None else None


@dataclass
class Progress:
    """Counters of a run in progress, written after every committed batch."""

    total: int | None = None
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    samples: list[dict] = field(default_factory=list)

    def add_error(self, external_id: str | None, reason: str, stream: str | None = None) -> None:
        self.failed += 1
        if len(self.samples) < ERROR_SAMPLES:
            self.samples.append({"record": external_id, "stream": stream, "reason": reason[:500]})


def _counters(progress: Progress) -> dict[str, Any]:
    """The run columns a Progress fills, for the heartbeat and the final write alike."""
    return {
        "total": progress.total,
        "processed": progress.processed,
        "created": progress.created,
        "updated": progress.updated,
        "unchanged": progress.unchanged,
        "failed": progress.failed,
        "error_samples": list(progress.samples),
    }


def save_progress(
    session: Session, run_id: int, progress: Progress, stats: dict | None = None
) -> None:
    values: dict[str, Any] = {**_counters(progress), "heartbeat_at": utcnow()}
    if stats is not None:
        values["stats"] = stats
    session.execute(update(SyncRun).where(SyncRun.id == run_id).values(**values))


def finish_run(
    session: Session,
    run_id: int,
    status: str,
    *,
    progress: Progress | None = None,
    error: str | None = None,
    stats: dict | None = None,
    debug_log: str | None = None,
) -> None:
    values: dict[str, Any] = dict(status=status, finished_at=utcnow(), error=error)
    if progress is not None:
        values.update(_counters(progress))
    if stats is not None:
        values["stats"] = stats
    if debug_log is not None:
        values["debug_log"] = debug_log[-DEBUG_LOG_LIMIT:]
    session.execute(update(SyncRun).where(SyncRun.id == run_id).values(**values))
    session.commit()


def fail_run(session: Session, run_id: int, error: str) -> None:
    """Mark a run failed unless it already finished (a job's last word after a crash)."""
    session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.status.in_(ACTIVE))
        .values(status=RunStatus.FAILED.value, finished_at=utcnow(), error=error)
    )
    session.commit()


def reap_stale_runs(session: Session, *, stale_after: timedelta = HEARTBEAT_STALE) -> list[int]:
    """Fail running runs whose worker stopped beating (killed, crashed, machine lost)."""
    cutoff = utcnow() - stale_after
    stale = list(
        session.scalars(
            select(SyncRun.id).where(
                SyncRun.status == RunStatus.RUNNING.value,
                or_(SyncRun.heartbeat_at.is_(None), SyncRun.heartbeat_at < cutoff),
            )
        )
    )
    for run_id in stale:
        fail_run(
            session,
            run_id,
            "The worker running this sync stopped responding (it was killed or crashed). "
            "Everything committed before that is kept; run the sync again to finish.",
        )
    return stale


def fail_orphaned_runs(session: Session, reason: str) -> list[int]:
    """Fail every active run (the embedded runner lost its threads when the app restarted)."""
    ids = list(session.scalars(select(SyncRun.id).where(SyncRun.status.in_(ACTIVE))))
    for run_id in ids:
        fail_run(session, run_id, reason)
    return ids
