"""The sync loop: read pages from a connector, map, validate, upsert a batch per transaction.

After each committed batch: counters and heartbeat are saved, the stream's cursor moves
(when the API returns records in cursor order), and a cancel request is honoured.
A bad record is counted and sampled; it never aborts the run.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
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
from models.connections import load_connection
from models.credentials import decrypt_credentials
from models.cursors import get_cursor, set_cursor
from models.db import get_engine, session_factory
from models.maintenance import analyze_after_bulk_load
from models.mapping_context import DbMappingContext
from models.runs import (
    Progress,
    beat,
    cancel_requested,
    claim_run,
    fail_run,
    finish_run,
    load_run,
    save_progress,
)
from models.sync import Connection, RunStatus, SyncRun
from models.sync_options import SyncOptions, parse_options
from models.upserts import refresh_statistics, upsert_batch

log = logging.getLogger("syncboard.sync")
HEARTBEAT_EVERY = 5.0
#: Counted per stream too (stats["streams"]), so a stream's page shows its own share of a
#: run of all streams rather than the run's totals.
STREAM_COUNTERS = ("processed", "created", "updated", "unchanged", "failed")


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


def execute_run(run_id: int, *, job_id: str | None = None) -> str:
    """Run one queued sync to its end; returns the final status. Safe to call twice."""
    factory = session_factory()
    with factory() as session:
        if not claim_run(session, run_id, job_id):
            run = load_run(session, run_id)
            return run.status if run else "missing"
        run = load_run(session, run_id)
        conn = load_connection(session, run.connection_id) if run else None
        if run is None or conn is None:  # deleted, with its connection, since it was claimed
            return "missing"
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
    shared: _Run | None = None
    try:
        cls = get_connector(conn.connector)
        connector = cls(
            base_url=conn.base_url or None,
            credentials=decrypt_credentials(conn.credentials_encrypted),
            settings=conn.settings,
            stats=stats,
            debug=debug,
        )
        connector.require_credentials()
        streams = [cls.stream(stream_name)] if stream_name else list(cls.streams)
        debug(
            f"sync {conn.connector}:{conn.name} streams={[s.name for s in streams]} options={options.as_dict()}"
        )
        shared = _Run(factory, run_id, conn, connector, options, progress, stats, debug, started)
        for stream in streams:
            _StreamSync(shared, stream).execute()
            if shared.exhausted:
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
    if shared is not None:
        figures["streams"] = shared.streams
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
    if shared is not None and not options.dry_run:
        # a first sync can fill a table at once; index-only scans need the visibility map
        tables = sorted({stream.model for stream in streams})
        analyze_after_bulk_load(get_engine(), tables, progress.created + progress.updated)
    log.info("run %s %s: %s processed in %.1fs", run_id, status, progress.processed, elapsed)
    return status


class _Prefetch:
    """Reads pages in a thread so the next HTTP request overlaps the current batch's writes."""

    _DONE = object()

    def __init__(self, connector: Connector, request: ReadRequest, depth: int = 2):
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=self._read, args=(connector, request), daemon=True, name="page-reader"
        )
        self.thread.start()

    def _put(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _read(self, connector: Connector, request: ReadRequest) -> None:
        try:
            for page in connector.read(request):
                if not self._put(page):
                    return
            self._put(self._DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self._put(exc)

    def __iter__(self) -> Iterator[Page]:
        while True:
            item = self.queue.get()
            if item is self._DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


@dataclass
class _Run:
    """What every stream of one run shares."""

    factory: Any
    run_id: int
    conn: Connection
    connector: Connector
    options: SyncOptions
    progress: Progress
    stats: HttpStats
    debug: _DebugLog
    started: float
    streams: dict[str, dict[str, int | None]] = field(default_factory=dict)

    @property
    def exhausted(self) -> bool:
        limit = self.options.max_records
        return limit is not None and limit > 0 and self.progress.processed >= limit


class _StreamSync:
    """One stream of a run: read, map, and commit a batch at a time."""

    def __init__(self, run: _Run, stream: Stream):
        self.run = run
        self.stream = stream
        self.highest: str | None = None
        self.analyzed = False
        self.total: int | None = None
        self.base = {name: getattr(run.progress, name) for name in STREAM_COUNTERS}

    def _tally(self) -> None:
        """This stream's share of the run's counters so far."""
        progress = self.run.progress
        own = {name: getattr(progress, name) - self.base[name] for name in STREAM_COUNTERS}
        self.run.streams[self.stream.name] = {"total": self.total, **own}

    def execute(self) -> None:
        run, stream, options = self.run, self.stream, self.run.options
        with run.factory() as session:
            stored = None if options.full else get_cursor(session, run.conn.id, stream.name)
        since = options.since_datetime
        if since is None and stored and stream.cursor_field:
            since = datetime.fromisoformat(stored)
        remaining = (options.max_records - run.progress.processed) if options.max_records else None
        request = ReadRequest(
            stream=stream,
            since=since,
            max_records=remaining,
            page_size=min(options.batch_size, type(run.connector).max_page_size),
        )
        run.debug(f"stream {stream.name}: since={since} cursor={stored}")
        base_total = run.progress.total or 0
        batch: list[tuple[dict, str | None]] = []
        session = run.factory()
        pages = _Prefetch(run.connector, request)
        try:
            ctx = DbMappingContext(
                session, run.conn.org_id, run.conn.connector, create=not options.dry_run
            )
            for page in pages:
                if page.total is not None:
                    run.progress.total = base_total + page.total
                    self.total = page.total
                for raw in page.records:
                    if run.exhausted:
                        break
                    mapped = self._map(raw, ctx)
                    if mapped is not None:
                        batch.append(mapped)
                    if len(batch) >= options.batch_size:
                        self._commit(session, batch)
                        batch = []
                if run.exhausted:
                    break
            self._commit(session, batch, final=True)
        finally:
            pages.close()
            session.close()

    def _map(self, raw: Any, ctx: DbMappingContext) -> tuple[dict, str | None] | None:
        run, stream = self.run, self.stream
        run.progress.processed += 1
        try:
            external_id = run.connector.external_id(stream, raw)
            row = run.connector.map_record(stream, raw, ctx)
        except RecordError as exc:
            key = raw.get(stream.primary_key) if isinstance(raw, dict) else None
            ext = exc.external_id or (str(key) if key not in (None, "") else None)
            run.progress.add_error(ext, exc.reason, stream.name)
            run.debug(f"bad record {ext}: {exc.reason}")
            return None
        row.setdefault("external_id", external_id)
        if stream.model != "phone_numbers":
            row.setdefault("raw", raw)
        return row, _cursor_text(row.pop("_cursor", None))

    def _commit(
        self, session, batch: list[tuple[dict, str | None]], *, final: bool = False
    ) -> None:
        """One transaction: the batch, the cursor (when safe), the counters; then honour cancel."""
        run, stream, options, progress = self.run, self.stream, self.run.options, self.run.progress
        rows = [row for row, _cursor in batch]
        cursors = [c for _row, c in batch if c is not None]
        if cursors and (self.highest is None or max(cursors) > self.highest):
            self.highest = max(cursors)
        try:
            result = upsert_batch(
                session,
                stream.model,
                run.conn.org_id,
                run.conn.connector,
                rows,
                connection_id=run.conn.id,
                force=options.force,
                dry_run=options.dry_run,
            )
            if (
                not options.dry_run
                and not self.analyzed
                and result.created >= max(len(rows) // 2, 1)
            ):
                refresh_statistics(session, stream.model)
                self.analyzed = True
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
            and self.highest
            and (stream.sorted_by_cursor or (final and not options.max_records))
        ):
            set_cursor(session, run.conn.id, stream.name, self.highest, finished=final)
        elif final:
            set_cursor(session, run.conn.id, stream.name, None, finished=True)
        self._tally()
        elapsed = time.perf_counter() - run.started
        figures = run.stats.as_dict() | {
            "records_per_second": round(progress.processed / elapsed, 1) if elapsed else None,
            "streams": run.streams,
        }
        save_progress(session, run.run_id, progress, figures)
        session.commit()
        run.debug(
            f"batch {len(rows)} {stream.name}: +{result.created} ~{result.updated} "
            f"={result.unchanged} stale={result.stale}"
        )
        if cancel_requested(session, run.run_id):
            raise Cancelled()


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
