"""Start an allowlisted job in the background for `POST /api/ops/trigger/{job}`.

The job lock is taken here, in the request, with the same lock file the cron runner uses, so
the answer (202 started / 409 already running) is decided before the response goes out and
a triggered run can never overlap a scheduled one. A background thread runs the job with its
timeout, logs the same JSON line as cron, then releases the lock. While it runs, the job's pid
is in `var/run/trigger-<job>.pid`. When serve stops, `stop_all()` passes SIGTERM to every
triggered job (the job stores what it has and exits 143) and waits out the same grace as the
cron runner before they are killed: no triggered job outlives serve.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from filelock import BaseFileLock, Timeout

from staktrakr.ops.jobs import job_command, job_lock, job_timeout_s, trigger_jobs
from staktrakr.ops.process import TERM_GRACE_S, log_line, run_with_timeout, write_pid_file
from staktrakr.timeutil import iso_z, utcnow

log = logging.getLogger(__name__)


class UnknownJob(Exception):
    pass


class AlreadyRunning(Exception):
    pass


class ShuttingDown(Exception):
    pass


@dataclass(frozen=True)
class Started:
    job: str
    started_at: str


class JobTrigger:
    def __init__(self, lock_dir: Path, poller: str, run_dir: Path | None = None) -> None:
        self.lock_dir = lock_dir
        self.poller = poller
        self.run_dir = run_dir or lock_dir.parent / "run"
        self.threads: list[threading.Thread] = []
        self.stopping = threading.Event()

    def start(self, job: str) -> Started:
        """Take the job's lock and start it; UnknownJob / AlreadyRunning otherwise."""
        if job not in trigger_jobs():
            raise UnknownJob(job)
        if self.stopping.is_set():
            raise ShuttingDown(job)   # serve is stopping: nothing new starts
        lock = job_lock(self.lock_dir, job)
        try:
            lock.acquire()
        except Timeout:
            raise AlreadyRunning(job) from None
        started = Started(job, iso_z(utcnow()))
        thread = threading.Thread(target=self._run, args=(job, lock), name=f"trigger-{job}", daemon=True)
        self.threads = [t for t in self.threads if t.is_alive()] + [thread]
        thread.start()
        return started

    def _run(self, job: str, lock: BaseFileLock) -> None:
        pid_file = self.run_dir / f"trigger-{job}.pid"

        def record(pid: int) -> None:
            write_pid_file(pid_file, pid)

        try:
            outcome = run_with_timeout(job_command(job, []), job_timeout_s(job), on_started=record,
                                       cancel=self.stopping)
            extra = {"signal": outcome.signal} if outcome.signal else {}
            print(log_line("trigger", job, self.poller, outcome.status, outcome.exit_code, outcome.duration_s,
                           **extra), flush=True)
        except Exception:  # a job that cannot even start must not leave the lock held
            log.exception("trigger %s: could not run", job)
        finally:
            pid_file.unlink(missing_ok=True)
            lock.release()

    def wait(self, timeout: float | None = None) -> None:
        """Join running job threads (tests, shutdown)."""
        for thread in list(self.threads):
            thread.join(timeout)

    def stop_all(self) -> None:
        """SIGTERM every running triggered job and wait until each has ended (killed after the
        runner's grace when it does not): serve calls this when it stops."""
        self.stopping.set()
        self.wait(TERM_GRACE_S + 5.0)
