"""The jobs a host may run on a schedule or by trigger: their timeouts, commands and locks.

One place decides what `bin/staktrakr-cron JOB` and `POST /api/ops/trigger/{job}` run, so the
two can never disagree on the lock a job takes or on how long it may run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from filelock import FileLock

from staktrakr.errors import ConfigError

# How long each job may run before the runner stops it (seconds). A scrape cycle is bounded by
# per-vendor politeness (a few minutes); the rest are single requests or one git round.
JOB_TIMEOUTS_S: dict[str, int] = {
    "scrape": 25 * 60,
    "retry": 12 * 60,
    "spot": 5 * 60,
    "goldback": 10 * 60,
    "publish": 10 * 60,
    "merge": 10 * 60,
    "alerts": 5 * 60,
}
DEFAULT_TIMEOUT_S = 15 * 60
TIMEOUT_OVERRIDE_VAR = "STAKTRAKR_CRON_TIMEOUT_S"

# Jobs `POST /api/ops/trigger/{job}` may start (never db/providers: those change schema or catalog).
TRIGGER_JOBS: tuple[str, ...] = ("scrape", "retry", "spot", "goldback", "publish", "merge")

# Test-only: with STAKTRAKR_CRON_TEST_JOBS=1 the job `sleep [SECONDS [EXIT_CODE]]` exists (SECONDS
# defaults to STAKTRAKR_TEST_SLEEP_S, for the trigger, which passes no arguments; it ends early
# once the file STAKTRAKR_TEST_GATE names exists), so lock, timeout and exit-code handling can be
# tested without a real job's side effects and without racing the clock.
TEST_JOBS_VAR = "STAKTRAKR_CRON_TEST_JOBS"
TEST_SLEEP_JOB = "sleep"
_SLEEP_PROGRAM = """
import os, sys, time
seconds = float(sys.argv[1]) if len(sys.argv) > 1 else float(os.environ.get("STAKTRAKR_TEST_SLEEP_S", "0"))
gate = os.environ.get("STAKTRAKR_TEST_GATE")
end = time.monotonic() + seconds
while time.monotonic() < end and not (gate and os.path.exists(gate)):
    time.sleep(min(0.05, max(0.0, end - time.monotonic())))
sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
"""


def test_jobs_enabled() -> bool:
    return os.environ.get(TEST_JOBS_VAR) == "1"


def trigger_jobs() -> tuple[str, ...]:
    return TRIGGER_JOBS + ((TEST_SLEEP_JOB,) if test_jobs_enabled() else ())


def job_timeout_s(job: str) -> float:
    """The job's timeout; STAKTRAKR_CRON_TIMEOUT_S overrides it for every job (ops and tests).
    A value that is not a positive number is a ConfigError naming the variable."""
    override = os.environ.get(TIMEOUT_OVERRIDE_VAR)
    if override:
        try:
            seconds = float(override)
        except ValueError:
            seconds = -1.0
        if not 0 < seconds < 86400:
            raise ConfigError(f"{TIMEOUT_OVERRIDE_VAR}: expected seconds between 0 and 86400 (got {override!r})")
        return seconds
    return float(JOB_TIMEOUTS_S.get(job, DEFAULT_TIMEOUT_S))


def job_command(job: str, args: list[str]) -> list[str]:
    """The argv that runs `staktrakr JOB ARGS` with this interpreter (the venv's python). `-P`: the
    working directory is not put on the import path, so a stray `secrets.py` there is never imported."""
    if job == TEST_SLEEP_JOB and test_jobs_enabled():
        return [sys.executable, "-P", "-c", _SLEEP_PROGRAM, *args]
    return [sys.executable, "-P", "-m", "staktrakr", job, *args]


def job_lock_path(lock_dir: Path, job: str) -> Path:
    """The lock cron and trigger share. `cron-` keeps it apart from locks jobs take themselves
    (publish holds `publish.lock` inside the job; the same name here would deadlock)."""
    return lock_dir / f"cron-{job}.lock"


def job_lock(lock_dir: Path, job: str) -> FileLock:
    """A non-reentrant, thread-agnostic lock on the job (acquire with timeout=0 to test-and-take).

    A fresh FileLock per call: two callers in one process use two file descriptors, so flock
    makes the second one fail instead of counting it as a re-entry.
    """
    lock_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(job_lock_path(lock_dir, job)), timeout=0, thread_local=False, is_singleton=False)
