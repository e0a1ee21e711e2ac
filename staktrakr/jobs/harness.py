"""The one harness every job runs through (scrape, retry, spot, backfill, goldback, publish, merge).

`with JobRun(settings, store, "spot") as run:` gives a job, in this order:

1. its lock (`var/locks/<job>.lock`, never waited for: a second run on the host fails at once);
2. SIGTERM/SIGINT handling: the first signal only sets `run.stop` (the job stops starting new
   work and stores what it has); a second one raises `JobInterrupted` wherever the job is;
3. `store.prepare()`: abandoned cycle journals queued, schema checked, outbox replayed;
4. its journal (store/journal.py), opened before its `poller_runs` row `running` is written:
   a scrape adds each finished target to it, and if the process is killed the next run of
   any job queues what it holds and records the run `interrupted` (no run stays `running`);
5. on EVERY other way out a final run row in the same batch as the job's last rows
   (`run.finish(rows, ...)`): `ok`, `error` (with the one-line reason, also for early
   returns and programming errors) or `interrupted` (a signal; exit 143 / 130). Once that
   batch is stored or queued the journal is deleted;
6. `run.report`: the RunReport every job's result carries and the CLI renders.

A dry run takes no lock and writes no run row. It prepares the store only when the job asks
(`prepare=True`: spot, goldback and backfill read the schema they create), never by default.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from filelock import FileLock, Timeout
from pydantic import BaseModel

from staktrakr.errors import ConfigError, JobFailed, JobInterrupted, StaktrakrError, StatementRejected
from staktrakr.log import shorten
from staktrakr.models import PollerRun, RunStatus, new_run_id
from staktrakr.settings import Settings
from staktrakr.store import PrepareResult, Store, WriteResult
from staktrakr.store.journal import Journal
from staktrakr.timeutil import iso_z, utcnow

log = logging.getLogger(__name__)

# While stopping, the last write may take this long before its rows go to the outbox instead:
# the cron runner's grace between TERM and KILL is 10 s (ops/process.py), fly's kill_timeout 30 s.
STOP_WRITE_TIMEOUT_S = 5.0
EXIT_OK, EXIT_FAILED = 0, 1
HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignal:
    """Set by the first SIGTERM/SIGINT: jobs poll `requested` (or `check()`) between units of work,
    and long waits register `on_request` callbacks (the scrape cancels its in-flight fetches)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str | None:
        return signal.Signals(self.signum).name if self.signum is not None else None

    def request(self, signum: int) -> None:
        with self._lock:
            first = self.signum is None
            self.signum = self.signum or signum
            callbacks = list(self._callbacks) if first else []
        for callback in callbacks:
            callback()

    def on_request(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` (from the signal handler) when a stop is requested; returns an unregister."""
        with self._lock:
            self._callbacks.append(callback)
            already = self.signum is not None
        if already:
            callback()

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove

    def check(self, job: str, what: str = "") -> None:
        """Raise JobInterrupted when a stop was requested (at a point where stopping loses nothing)."""
        if self.signum is not None:
            raise JobInterrupted(f"{job}: interrupted by {self.name}{' ' + what if what else ''}", self.signum)


@dataclass
class RunReport:
    """How one run ended: what the CLI prints last, `--json` carries under "run", exit code included."""

    job: str
    run_id: str
    poller_id: str
    started_at: str
    status: str = "running"                      # ok | error | interrupted | dry_run
    exit_code: int = EXIT_OK
    finished_at: str | None = None
    duration_s: float = 0.0
    total: int | None = None
    captured: int | None = None
    failures: int | None = None
    error: str | None = None
    signal: str | None = None
    stored_rows: int = 0
    queued_rows: int = 0
    replayed_rows: int = 0
    recovered_runs: list[str] = field(default_factory=list)   # runs of killed processes queued from journals
    outbox_problems: list[str] = field(default_factory=list)  # entries quarantined / rejected during replay
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def lock_for(settings: Settings, name: str) -> FileLock:
    settings.lock_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(settings.lock_dir / f"{name}.lock"), timeout=0, thread_local=False, is_singleton=False)


class JobRun:
    """One run of one job (see the module docstring). Use as a context manager."""

    def __init__(self, settings: Settings, store: Store, job: str, *, dry_run: bool = False,
                 started: datetime | None = None, lock_name: str | None = None, lock: bool | None = None,
                 prepare: bool | None = None, run_id_job: str | None = None) -> None:
        self.settings = settings
        self.store = store
        self.job = job
        self.dry_run = dry_run
        self.started = started or utcnow()
        self.run_id = new_run_id(settings.poller_id, run_id_job or job, self.started)
        self.stop = StopSignal()
        self.prepared: PrepareResult | None = None
        self.journal: Journal | None = None
        self.report = RunReport(job=job, run_id=self.run_id, poller_id=settings.poller_id,
                                started_at=iso_z(self.started))
        self._lock = lock_for(settings, lock_name or job) if (lock if lock is not None else not dry_run) else None
        # the row written at start; finish() upserts its final state
        self.running = PollerRun(run_id=self.run_id, poller_id=settings.poller_id, job=job,
                                 started_at=iso_z(self.started), status="running")
        self._prepare_store = prepare if prepare is not None else not dry_run
        self._finished = False
        self._previous_handlers: dict[int, Any] = {}
        self._clock = time.monotonic()

    # entering -------------------------------------------------------------------------------

    def __enter__(self) -> JobRun:
        if self._lock is not None:
            try:
                self._lock.acquire()
            except Timeout:
                raise JobFailed(f"another {self.job} is running on this host (lock {self._lock.lock_file})") from None
        try:
            self._install_handlers()
            if self._prepare_store:
                self._prepare()
        except BaseException:
            self._leave()
            raise
        return self

    def _prepare(self) -> None:
        self.prepared = prepared = self.store.prepare()
        self.report.replayed_rows = prepared.replay.replayed_rows
        self.report.recovered_runs = [run.run_id for run in prepared.recovered]
        self.report.outbox_problems = list(prepared.replay.problems)
        if self.dry_run:
            return
        try:
            header = {"run": self.running.model_dump(mode="json")}
            self.journal = Journal(self.settings.journal_dir, self.run_id, header)
            self.store.start_run(self.running)
        except OSError as exc:
            raise JobFailed(f"{self.job}: cannot start the run: {exc.filename or self.store.outbox.path} not "
                            f"writable ({exc.strerror or exc}); check STAKTRAKR_VAR_DIR") from None

    def _install_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals are only delivered to the main thread; a job run elsewhere is not stopped by them
        for signum in HANDLED_SIGNALS:
            self._previous_handlers[signum] = signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.stop.requested:
            # a second signal: stop now (the journal and the outbox keep what was fetched)
            raise JobInterrupted(f"{self.job}: interrupted by a second {signal.Signals(signum).name}", signum)
        log.warning("%s: %s received: no new work is started; storing what the run has",
                    self.job, signal.Signals(signum).name)
        self.stop.request(signum)

    # finishing -------------------------------------------------------------------------------

    @property
    def write_timeout_s(self) -> float | None:
        """Shorter database waits once a stop is requested (the rows go to the outbox instead)."""
        return STOP_WRITE_TIMEOUT_S if self.stop.requested else None

    def finish(self, rows: Sequence[BaseModel] = (), *, total: int | None = None, captured: int | None = None,
               failures: int | None = None, error: str | None = None, status: RunStatus | None = None,
               note: str | None = None, keep_journal: bool = False) -> WriteResult:
        """Store the job's last rows and its final run row in ONE batch (database or outbox).
        The status is `interrupted` after a signal, else `status` or `ok`/`error` by `error`.
        `keep_journal`: the rows the journal holds are not in this batch (the job ended by an
        exception), so the journal stays for the next run to recover."""
        final = status or ("interrupted" if self.stop.requested else ("error" if error else "ok"))
        if final == "interrupted" and not error and self.stop.requested:
            error = f"interrupted by {self.stop.name}"
        self._set(final, total=total, captured=captured, failures=failures, error=error, note=note)
        if self.dry_run:
            self._finished = True
            return WriteResult(0, 0)
        try:
            written = self.store.write([*rows, self._final_row()], timeout_s=self.write_timeout_s)
        except StatementRejected:
            self._close_journal(discard=True)  # the rows are in the rejected file: a replay would only repeat that
            raise
        self._close_journal(discard=not keep_journal)  # stored or queued: the journal has done its work
        self._finished = True
        self.report.stored_rows += max(written.stored_rows - 1, 0)
        self.report.queued_rows += max(written.queued_rows - 1, 0)
        if written.queued:
            self.report.notes.append(f"database unavailable ({written.error}); rows kept in the outbox "
                                     f"{self.store.outbox.path}, the next run replays them")
        return written

    def _set(self, status: str, *, total: int | None = None, captured: int | None = None,
             failures: int | None = None, error: str | None = None, note: str | None = None) -> None:
        report = self.report
        report.status = status
        report.total = total if total is not None else report.total
        report.captured = captured if captured is not None else report.captured
        report.failures = failures if failures is not None else report.failures
        report.error = shorten(error, 500) if error else None
        report.signal = self.stop.name
        report.finished_at = iso_z(utcnow())
        report.duration_s = round(time.monotonic() - self._clock, 3)
        if note:
            report.notes.append(note)

    def _final_row(self) -> PollerRun:
        report = self.report
        return self.running.model_copy(update={
            "status": report.status, "finished_at": report.finished_at, "total": report.total,
            "captured": report.captured, "failures": report.failures, "error": report.error,
        })

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> Literal[False]:
        try:
            if not self._finished:
                self._finish_on_exit(exc)
        finally:
            self._leave()
        self._settle_exit_code(exc)
        return False

    def _finish_on_exit(self, exc: BaseException | None) -> None:
        if exc is None:
            self.finish()
            return
        if isinstance(exc, JobInterrupted):
            self.stop.request(exc.signum)
            status, error = "interrupted", str(exc)
        elif isinstance(exc, KeyboardInterrupt):
            self.stop.request(signal.SIGINT)
            status, error = "interrupted", f"{self.job}: interrupted by SIGINT"
        elif isinstance(exc, StaktrakrError):
            status, error = "error", str(exc)
        elif isinstance(exc, Exception):
            status, error = "error", f"internal error: {type(exc).__name__}: {exc}"
        else:
            status, error = "error", f"ended by {type(exc).__name__}"
        unsaved = self.journal is not None and self.journal.entries > 0  # e.g. a scrape's targets
        try:
            self.finish(status=status, error=error, keep_journal=unsaved)  # type: ignore[arg-type]
        except (StatementRejected, OSError) as write_error:
            log.error("%s: could not record the run's end: %s", self.job, shorten(write_error))

    def _settle_exit_code(self, exc: BaseException | None) -> None:
        report = self.report
        if report.status == "interrupted":
            signum = self.stop.signum or signal.SIGTERM
            report.exit_code = 128 + int(signum)
        elif isinstance(exc, ConfigError):
            report.exit_code = 2
        elif report.status == "error" or exc is not None:
            report.exit_code = EXIT_FAILED
        elif report.outbox_problems:
            report.exit_code = EXIT_FAILED  # the job worked, but outbox entries need the operator
        if self.dry_run and report.status == "ok":
            report.status = "dry_run"

    def _close_journal(self, *, discard: bool) -> None:
        if self.journal is not None and not self.journal.closed:
            self.journal.close(discard=discard)

    def _leave(self) -> None:
        self._close_journal(discard=False)  # not settled (the final write failed): the next run recovers it
        for signum, handler in self._previous_handlers.items():
            try:
                signal.signal(signum, handler)
            except (ValueError, TypeError):
                pass
        self._previous_handlers = {}
        if self._lock is not None and self._lock.is_locked:
            self._lock.release()

    # helpers for jobs ------------------------------------------------------------------------

    def interrupted(self) -> JobInterrupted:
        """The error a caller raises (or the CLI maps) when the run ended by a signal."""
        return JobInterrupted(f"{self.job}: interrupted by {self.stop.name or 'a signal'}; "
                              f"{self.report.error or 'what it had is stored'}", self.stop.signum or signal.SIGTERM)


def conclude(report: RunReport) -> None:
    """Raise what the run's end means for the process: JobInterrupted (143/130) or JobFailed (1)
    with the one-line reason; nothing for ok. The CLI calls it after rendering the result."""
    if report.status == "interrupted":
        done = (f"{report.captured}/{report.total} captured" if report.total is not None else "partial work")
        where = f"{report.stored_rows} rows stored" if not report.queued_rows else f"{report.queued_rows} rows queued"
        stopped_by = signal.Signals[report.signal] if report.signal else signal.SIGTERM
        raise JobInterrupted(f"{report.job}: interrupted by {report.signal or 'a signal'}: {done}, {where} "
                             f"(run {report.run_id})", stopped_by)
    if report.outbox_problems:
        raise JobFailed(f"{len(report.outbox_problems)} outbox entries moved aside, see `staktrakr db status`: "
                        f"{report.outbox_problems[0]}")
