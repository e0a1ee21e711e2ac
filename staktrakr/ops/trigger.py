"""Start an allowlisted job in the background for `POST /api/ops/trigger/{job}`.

The job lock is taken here, in the request, with the same lock file the cron runner uses, so
the answer (202 started / 409 already running) is decided before the response goes out and
a triggered run can never overlap a scheduled one. A background thread runs the job with its
timeout, logs the same JSON line as cron, then releases the lock.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from filelock import BaseFileLock, Timeout

from staktrakr.ops.jobs import job_command, job_lock, job_timeout_s, trigger_jobs
from staktrakr.ops.process import log_line, run_with_timeout
from staktrakr.timeutil import iso_z, utcnow

log = logging.getLogger(__name__)


class UnknownJob(Exception):
    pass


class AlreadyRunning(Exception):
    pass


@dataclass(frozen=True)
class Started:
    job: str
    started_at: str


class JobTrigger:
    def __init__(self, lock_dir: Path, poller: str) -> None:
        self.lock_dir = lock_dir
        self.poller = poller
        self.threads: list[threading.Thread] = []

    def start(self, job: str) -> Started:
        """Take the job's lock and start it; UnknownJob / AlreadyRunning otherwise."""
        if job not in trigger_jobs():
            raise UnknownJob(job)
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
        try:
            outcome = run_with_timeout(job_command(job, []), job_timeout_s(job))
            print(log_line("trigger", job, self.poller, outcome.status, outcome.exit_code, outcome.duration_s),
                  flush=True)
        except Exception:  # a job that cannot even start must not leave the lock held
            log.exception("trigger %s: could not run", job)
        finally:
            lock.release()

    def wait(self, timeout: float | None = None) -> None:
        """Join running job threads (tests, shutdown)."""
        for thread in list(self.threads):
            thread.join(timeout)
