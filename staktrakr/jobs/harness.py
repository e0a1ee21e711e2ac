"""The one harness every job runs through (scrape, retry, spot, backfill, goldback, publish, merge).

`with JobRun(settings, store, "spot") as run:` gives a job, in this order:

1. its lock (`var/locks/<job>.lock`, never waited for: a second run on the host fails at once,
   and so does a run whose var dir cannot hold the lock; both still write an `error` run row);
2. SIGTERM/SIGINT handling: the first signal sets `run.stop` (jobs/stop.py: the job stops
   starting new work and stores what it has; work inside `stop.interruptible()` ends at once)
   and gives every database call STOP_WRITE_TIMEOUT_S more at most, the waiting one included;
   a second signal raises `JobInterrupted` wherever the job is;
3. `store.prepare()`: abandoned cycle journals queued, schema checked, outbox replayed;
4. its journal (store/journal.py), opened before its `poller_runs` row `running` is written:
   a scrape adds each finished target to it, and if the process is killed the next run of
   any job queues what it holds and records the run `interrupted` (no run stays `running`).
   A journal that cannot be created or written is a warning, not the end of the run;
5. on EVERY other way out a final run row in the same batch as the job's last rows
   (`run.finish(rows, ...)`): `ok`, `error` (with the one-line reason, also for early
   returns and programming errors) or `interrupted` (a signal; exit 143 / 130). A job that
   ends by an exception still stores what its journal holds in that batch. Once that batch
   is stored or queued the journal is deleted;
6. `run.report`: the RunReport every job's result carries and the CLI renders.

A dry run takes no lock and writes no run row. It prepares the store only when the job asks
(`prepare=True`: spot, goldback and backfill read the schema they create), never by default.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from filelock import FileLock, Timeout
from pydantic import BaseModel

from staktrakr.errors import ConfigError, JobFailed, JobInterrupted, StaktrakrError, StatementRejected, StoreError
from staktrakr.jobs.stop import StopSignal
from staktrakr.log import shorten
from staktrakr.models import PollerRun, RunStatus, new_run_id
from staktrakr.settings import Settings
from staktrakr.store import PrepareResult, Store, WriteResult
from staktrakr.store.journal import Journal
from staktrakr.store.session import rows_of_ops
from staktrakr.timeutil import iso_z, utcnow

__all__ = ["JobRun", "RunReport", "StopSignal", "conclude", "lock_for", "record_refused_run"]

log = logging.getLogger(__name__)

# Once a stop is requested, database calls (the one waiting included, and the last write) may
# take this long in all before their rows go to the outbox instead: the cron runner's grace
# between TERM and KILL is 10 s (ops/process.py), fly's kill_timeout 30 s.
STOP_WRITE_TIMEOUT_S = 5.0
# A run refused at the start (lock held, var dir unusable) records its row within this.
REFUSED_WRITE_TIMEOUT_S = 5.0
EXIT_OK, EXIT_FAILED = 0, 1
HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


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
    warnings: list[str] = field(default_factory=list)         # e.g. a journal the disk refused (stderr)
    summary: str | None = None                                # what the job did, for jobs that store no rows

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
        self._lock_name = (lock_name or job) if (lock if lock is not None else not dry_run) else None
        self._lock: FileLock | None = None
        # the row written at start; finish() upserts its final state
        self.running = PollerRun(run_id=self.run_id, poller_id=settings.poller_id, job=job,
                                 started_at=iso_z(self.started), status="running")
        self._prepare_store = prepare if prepare is not None else not dry_run
        self._finished = False
        self._previous_handlers: dict[int, Any] = {}
        self._clock = time.monotonic()

    # entering -------------------------------------------------------------------------------

    def __enter__(self) -> JobRun:
        if self._lock_name is not None:
            where = self.settings.lock_dir / f"{self._lock_name}.lock"
            try:
                self._lock = lock_for(self.settings, self._lock_name)
                self._lock.acquire()
            except Timeout:
                self._lock = None
                self._refused(f"another {self.job} is running on this host (lock {where})")
            except OSError as exc:
                self._lock = None
                self._refused(f"cannot take the lock {where}: {exc.strerror or exc}; check STAKTRAKR_VAR_DIR")
        try:
            self._install_handlers()
            if self._prepare_store:
                self._prepare()
        except BaseException as exc:
            if isinstance(exc, Exception):
                self._record_refused(f"{self.job}: could not start: {shorten(exc)}")
            self._leave()
            raise
        return self

    def _refused(self, reason: str) -> None:
        """The run cannot start: record it (a row `error`, when the database answers) and fail."""
        self._record_refused(f"{self.job}: {reason}")
        raise JobFailed(f"{self.job}: {reason}") from None

    def _record_refused(self, error: str) -> None:
        if self.dry_run:
            return
        row = self.running.model_copy(update={"status": "error", "finished_at": iso_z(utcnow()),
                                               "error": shorten(error, 500)})
        # the store was not prepared yet: the table may not exist; both calls share one deadline
        self.store.db.wait_until(time.monotonic() + REFUSED_WRITE_TIMEOUT_S, "recording a run refused at its start")
        try:
            self.store.ensure_schema()
            self.store.write([row], timeout_s=REFUSED_WRITE_TIMEOUT_S)
        except (StoreError, OSError) as exc:
            log.warning("%s: the run's row could not be recorded: %s", self.job, shorten(exc))
            return
        finally:
            self.store.db.wait_until(None)
        self._close_journal(discard=True)  # its row is final: nothing for a recovery to do

    def _prepare(self) -> None:
        self.prepared = prepared = self.store.prepare()
        self.report.replayed_rows = prepared.replay.replayed_rows
        self.report.recovered_runs = [run.run_id for run in prepared.recovered if run.queued]
        self.report.outbox_problems = list(prepared.replay.problems)
        if self.dry_run:
            return
        try:
            header = {"run": self.running.model_dump(mode="json")}
            self.journal = Journal(self.settings.journal_dir, self.run_id, header)
        except OSError as exc:  # the run goes on: its rows reach the database in its final batch
            warning = (f"journal {exc.filename or self.settings.journal_dir}: cannot create it "
                       f"({exc.strerror or exc}); this run's rows are kept in memory for its final write only")
            log.warning("%s: %s", self.job, warning)
            self.report.warnings.append(warning)
        written = self.store.start_run(self.running)
        if written.queued:
            log.info("%s: run %s recorded in the outbox", self.job, self.run_id)

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
        self.store.db.wait_until(time.monotonic() + STOP_WRITE_TIMEOUT_S,
                                 f"{STOP_WRITE_TIMEOUT_S:g} s after {signal.Signals(signum).name}: the job is stopping")
        self.stop.request(signum)
        interruption = self.stop.interruption()
        if interruption is not None:
            raise interruption

    # finishing -------------------------------------------------------------------------------

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
        if self.journal is not None and self.journal.failure and self.journal.failure not in self.report.warnings:
            self.report.warnings.append(self.journal.failure)
        try:
            written = self.store.write([*rows, self._final_row()])  # bounded by the stop deadline when stopping
        except StatementRejected:
            self._close_journal(discard=True)  # the good rows are stored, the refused ones in the rejected file
            raise
        self._close_journal(discard=not keep_journal)  # stored or queued: the journal has done its work
        self._finished = True
        self.report.stored_rows += written.data_stored_rows
        self.report.queued_rows += written.data_queued_rows
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
        if (self.report.status == "interrupted" and isinstance(exc, (StaktrakrError, OSError))
                and not isinstance(exc, JobInterrupted)):
            # failed because it was stopping (git killed, a database call cut at the deadline): the
            # process ends as stopped (143/130), with the reason
            raise JobInterrupted(self.report.error or str(exc), self.stop.signum or signal.SIGTERM) from None
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
        elif isinstance(exc, OSError):
            status, error = "error", f"cannot use {exc.filename or 'a file'}: {exc.strerror or exc}"
        elif isinstance(exc, Exception):
            status, error = "error", f"internal error: {type(exc).__name__}: {exc}"
        else:
            status, error = "error", f"ended by {type(exc).__name__}"
        if self.stop.requested and status == "error":  # failed while stopping (a call cut at the deadline)
            status, error = "interrupted", f"{self.job}: interrupted by {self.stop.name}: {error}"
        rows, counts, keep = self._journaled_rows()
        try:
            self.finish(rows, status=status, error=error, keep_journal=keep, **counts)  # type: ignore[arg-type]
        except (StoreError, OSError) as write_error:
            log.error("%s: could not record the run's end: %s", self.job, shorten(write_error))

    def _journaled_rows(self) -> tuple[list[BaseModel], dict[str, int | None], bool]:
        """What the journal holds (a scrape's finished targets), scored, for the final batch of a run
        that ended by an exception: (rows, run counts, keep the journal instead)."""
        journal = self.journal
        if journal is None or journal.closed or not journal.entries:
            return [], {}, False
        settled = journal.settled()
        try:
            rows = rows_of_ops(settled.ops)
        except Exception as exc:  # rows the journal cannot turn back into rows: recovery quarantines them
            log.error("%s: journal %s: %s; left for the next run to recover", self.job, journal.path, shorten(exc))
            return [], {}, True
        return rows, {"total": settled.total, "captured": settled.captured, "failures": settled.failures}, False

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
        self.store.db.wait_until(None)      # the stop deadline was this run's
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


def record_refused_run(settings: Settings, store: Store, job: str, reason: str) -> None:
    """A run that could not start before its harness (its catalog is invalid) still gets its
    `error` row when the database answers; nothing is raised here (the caller raises the reason)."""
    JobRun(settings, store, job, lock=False, prepare=False)._record_refused(reason)


def conclude(report: RunReport) -> None:
    """Raise what the run's end means for the process: JobInterrupted (143/130) or JobFailed (1)
    with the one-line reason; nothing for ok. The CLI calls it after rendering the result."""
    if report.status == "interrupted":
        done = report.summary or (f"{report.captured}/{report.total} captured" if report.total is not None
                                  else "partial work")
        if report.queued_rows:
            done += f", {report.queued_rows} rows queued"
        elif report.stored_rows or report.summary is None:
            done += f", {report.stored_rows} rows stored"
        stopped_by = signal.Signals[report.signal] if report.signal else signal.SIGTERM
        raise JobInterrupted(f"{report.job}: interrupted by {report.signal or 'a signal'}: {done} "
                             f"(run {report.run_id})", stopped_by)
    if report.outbox_problems:
        raise JobFailed(f"{len(report.outbox_problems)} outbox entries moved aside, see `staktrakr db status`: "
                        f"{report.outbox_problems[0]}")
