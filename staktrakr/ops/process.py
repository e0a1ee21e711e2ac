"""Run one job as a child process with a timeout, and describe the outcome as one JSON log line.

Shared by `bin/staktrakr-cron` and the trigger endpoint, so a scheduled and a triggered run
are stopped and logged the same way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Mapping

from staktrakr.timeutil import iso_z, utcnow

EXIT_TIMEOUT = 124  # what timeout(1) returns; cron logs read the same as a shell wrapper's
TERM_GRACE_S = 10.0  # between SIGTERM and SIGKILL, so a job can flush its outbox entry


@dataclass(frozen=True)
class JobOutcome:
    exit_code: int
    duration_s: float
    timed_out: bool


def run_with_timeout(command: list[str], timeout_s: float, env: Mapping[str, str] | None = None) -> JobOutcome:
    """Run `command` in its own process group; on timeout TERM the group, then KILL it."""
    started = time.monotonic()
    process = subprocess.Popen(command, env=dict(env) if env is not None else None, start_new_session=True)
    try:
        exit_code = process.wait(timeout=timeout_s)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=TERM_GRACE_S)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
        exit_code = EXIT_TIMEOUT
    if exit_code < 0:  # killed by a signal: report it the way a shell would
        exit_code = 128 - exit_code
    return JobOutcome(exit_code=exit_code, duration_s=round(time.monotonic() - started, 3), timed_out=timed_out)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def log_line(event: str, job: str, poller: str, status: str, exit_code: int,
             duration_s: float | None = None, **extra: object) -> str:
    """One JSON object on one line: what cron logs and Fly's log search key on."""
    record: dict[str, object] = {
        "ts": iso_z(utcnow()),
        "event": event,
        "job": job,
        "poller": poller,
        "status": status,
        "exit_code": exit_code,
        "duration_s": duration_s,
    }
    record.update(extra)
    return json.dumps(record, separators=(",", ":"))
