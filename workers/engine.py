"""The sync loop: read pages from a connector, map, validate, upsert a batch per transaction.

After each committed batch: counters and heartbeat are saved, the stream's cursor moves
(when the API returns records in cursor order), and a cancel request is honoured.
A bad record is counted and sampled; it never aborts the run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.base import (
    Connector,
    ConnectorError,
    HttpStats,
    Page,
    ReadRequest,
    RecordError,
    Stream,
    get_connector,
)
from models.db import session_factory
from models.sync import Connection, RunStatus, SyncRun
from models.sync_options import SyncOptions, parse_options
from models.sync_store import (
    DbMappingContext,
    Progress,
    UpsertResult,
    beat,
    cancel_requested,
    claim_run,
    decrypt_credentials,
    fail_run,
    finish_run,
    get_cursor,
    save_progress,
    set_cursor,
    upsert_batch,
)

log = logging.getLogger("syncboard.sync")
HEARTBEAT_EVERY = 5.0


class Cancelled(Exception):
    pass


class _DebugLog:
    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.lines: list[str] = []
        self._started = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.enabled and len(self.lines) < 5000:
            self.lines.append(f"{time.perf_counter() - self._started:8.3f}s {message}")

    def text(self) -> str | None:
        return "\n".join(self.lines) if self.enabled else None


class _Heartbeat(threading.Thread):
    """Beats while a long HTTP wait keeps the loop from reaching a batch boundary."""

    def __init__(self, run_id: int):
        super().__init__(daemon=True, name=f"heartbeat-{run_id}")
        self.run_id = run_id
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(HEARTBEAT_EVERY):
            try:
                with session_factory()() as session:
                    beat(session, self.run_id)
            except Exception:  # noqa: BLE001 - a missed beat is not fatal
                log.warning("heartbeat for run %s failed", self.run_id, exc_info=True)


def _cursor_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    return str(value)


@dataclass
class StreamOutcome:
    result: UpsertResult
    cursor: str | None


def execute_run(run_id: int, *, job_id: str | None = None) -> str:
    """Run one queued sync to its end; returns the final status. Safe to call twice."""
    factory = session_factory()
    with factory() as session:
        if not claim_run(session, run_id, job_id):
            run = session.get(SyncRun, run_id)
            return run.status if run else "missing"
        run = session.get(SyncRun, run_id)
        conn = session.get(Connection, run.connection_id)
        options = parse_options(run.options)
        stream_name = run.stream
    heartbeat = _Heartbeat(run_id)
    heartbeat.start()
    debug = _DebugLog(options.debug)
    stats = HttpStats()
    progress = Progress()
    started = time.perf_counter()
    status = RunStatus.FAILED.value
    error: str | None = None
    try:
        cls = get_connector(conn.connector)
        connector = cls(
            base_url=conn.base_url or None,
            credentials=decrypt_credentials(conn.credentials_encrypted),
            settings=conn.settings,
            stats=stats,
            debug=debug,
        )
        streams = [cls.stream(stream_name)] if stream_name else list(cls.streams)
        debug(
            f"sync {conn.connector}:{conn.name} streams={[s.name for s in streams]} options={options.as_dict()}"
        )
        for stream in streams:
            _sync_stream(
                factory, run_id, conn, connector, stream, options, progress, stats, debug, started
            )
            if options.max_records and progress.processed >= options.max_records:
                break
        status = RunStatus.PARTIAL.value if progress.failed else RunStatus.SUCCESS.value
    except Cancelled:
        status = RunStatus.CANCELLED.value
        error = "Cancelled by request; records committed before the cancel are kept."
    except ConnectorError as exc:
        error = str(exc)
        debug(f"error: {error}")
    except Exception as exc:  # noqa: BLE001 - the run must end with a reason, whatever happened
        log.exception("sync run %s crashed", run_id)
        error = f"Unexpected error: {type(exc).__name__}: {exc}"
    finally:
        heartbeat.stop.set()
    elapsed = time.perf_counter() - started
    figures = stats.as_dict() | {
        "seconds": round(elapsed, 3),
        "records_per_second": round(progress.processed / elapsed, 1) if elapsed > 0 else None,
    }
    with factory() as session:
        finish_run(
            session,
            run_id,
            status,
            progress=progress,
            error=error,
            stats=figures,
            debug_log=debug.text(),
        )
    log.info("run %s %s: %s processed in %.1fs", run_id, status, progress.processed, elapsed)
    return status


def _pages(connector: Connector, request: ReadRequest) -> Iterator[Page]:
    yield from connector.read(request)


def _sync_stream(
    factory,
    run_id: int,
    conn: Connection,
    connector: Connector,
    stream: Stream,
    options: SyncOptions,
    progress: Progress,
    stats: HttpStats,
    debug: _DebugLog,
    started: float,
) -> None:
    with factory() as session:
        stored = None if options.full else get_cursor(session, conn.id, stream.name)
    since = options.since_datetime
    if since is None and stored and stream.cursor_field:
        since = datetime.fromisoformat(stored)
    remaining = (options.max_records - progress.processed) if options.max_records else None
    request = ReadRequest(
        stream=stream,
        since=since,
        max_records=remaining,
        page_size=min(options.batch_size, type(connector).max_page_size),
    )
    debug(f"stream {stream.name}: since={since} cursor={stored}")
    batch: list[tuple[str, dict, Any]] = []
    highest: str | None = None
    base_total = progress.total or 0
    mapping_session = factory()
    try:
        ctx = DbMappingContext(
            mapping_session, conn.org_id, conn.connector, create=not options.dry_run
        )
        for page in _pages(connector, request):
            if page.total is not None:
                progress.total = base_total + page.total
            for raw in page.records:
                if options.max_records and progress.processed >= options.max_records:
                    break
                progress.processed += 1
                try:
                    external_id = connector.external_id(stream, raw)
                    row = connector.map_record(stream, raw, ctx)
                except RecordError as exc:
                    key = raw.get(stream.primary_key) if isinstance(raw, dict) else None
                    ext = exc.external_id or (str(key) if key not in (None, "") else None)
                    progress.add_error(ext, exc.reason, stream.name)
                    debug(f"bad record {ext}: {exc.reason}")
                    continue
                row.setdefault("external_id", external_id)
                if stream.model != "phone_numbers":
                    row.setdefault("raw", raw)
                cursor_value = _cursor_text(row.pop("_cursor", None))
                batch.append((external_id, row, cursor_value))
                if len(batch) >= options.batch_size:
                    highest = _commit(
                        mapping_session,
                        run_id,
                        conn,
                        stream,
                        batch,
                        options,
                        progress,
                        stats,
                        highest,
                        started,
                        debug,
                    )
                    batch = []
            if options.max_records and progress.processed >= options.max_records:
                break
        highest = _commit(
            mapping_session,
            run_id,
            conn,
            stream,
            batch,
            options,
            progress,
            stats,
            highest,
            started,
            debug,
            final=True,
        )
    finally:
        mapping_session.close()


def _commit(
    session,
    run_id: int,
    conn: Connection,
    stream: Stream,
    batch: list[tuple[str, dict, Any]],
    options: SyncOptions,
    progress: Progress,
    stats: HttpStats,
    highest: str | None,
    started: float,
    debug: _DebugLog,
    *,
    final: bool = False,
) -> str | None:
    """One transaction: the batch, the cursor (when safe), the counters; then honour cancel."""
    rows = [row for _ext, row, _cur in batch]
    cursors = [c for _e, _r, c in batch if c is not None]
    if cursors:
        top = max(cursors)
        highest = top if highest is None or top > highest else highest
    try:
        result = upsert_batch(
            session,
            stream.model,
            conn.org_id,
            conn.connector,
            rows,
            force=options.force,
            dry_run=options.dry_run,
        )
    except Exception as exc:
        session.rollback()
        raise ConnectorError(
            f"Could not write a batch of {stream.name}: {type(exc).__name__}: {exc}"
        ) from exc
    progress.created += result.created
    progress.updated += result.updated
    progress.unchanged += result.unchanged + result.stale
    if options.dry_run:
        session.rollback()
    elif (
        stream.cursor_field
        and highest
        and (stream.sorted_by_cursor or (final and not options.max_records))
    ):
        set_cursor(session, conn.id, stream.name, highest, finished=final)
    elif final:
        set_cursor(session, conn.id, stream.name, None, finished=True)
    elapsed = time.perf_counter() - started
    figures = stats.as_dict() | {
        "records_per_second": round(progress.processed / elapsed, 1) if elapsed else None
    }
    save_progress(session, run_id, progress, figures)
    session.commit()
    debug(
        f"batch {len(rows)} {stream.name}: +{result.created} ~{result.updated} ={result.unchanged} stale={result.stale}"
    )
    if cancel_requested(session, run_id):
        raise Cancelled()
    return highest


def run_safely(run_id: int, job_id: str | None = None) -> str:
    """Entry point for both backends: whatever happens, the run row ends with a reason."""
    try:
        return execute_run(run_id, job_id=job_id)
    except Exception as exc:
        log.exception("sync run %s failed outside the loop", run_id)
        with session_factory()() as session:
            fail_run(session, run_id, f"Unexpected error: {type(exc).__name__}: {exc}")
        return RunStatus.FAILED.value


def options_of(run: SyncRun) -> SyncOptions:
    return parse_options(run.options)
