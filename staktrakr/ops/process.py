"""Run one job as a child process with a timeout, and describe the outcome as one JSON log line.

Shared by `bin/staktrakr-cron` and the trigger endpoint, so a scheduled and a triggered run
are stopped and logged the same way. The job runs in its own process group; a SIGTERM or
SIGINT the runner receives (cron stopping, `systemctl stop`, a Fly deploy) is passed on to
that group, and the job gets TERM_GRACE_S to store what it has (the job harness exits 143 /
130) before the group is killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from staktrakr.timeutil import iso_z, utcnow

EXIT_TIMEOUT = 124  # what timeout(1) returns; cron logs read the same as a shell wrapper's
TERM_GRACE_S = 10.0  # between SIGTERM and SIGKILL, so a job can flush its outbox entry


POLL_S = 0.2
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True)
class JobOutcome:
    exit_code: int
    duration_s: float
    timed_out: bool
    signal: str | None = None     # SIGTERM / SIGINT passed on to the job by the runner

    @property
    def status(self) -> str:
        if self.timed_out:
            return "timeout"
        if self.signal:
            return "interrupted"
        return "ok" if self.exit_code == 0 else "failed"


def run_with_timeout(command: list[str], timeout_s: float, env: Mapping[str, str] | None = None,
                     on_started: Callable[[int], None] | None = None,
                     cancel: threading.Event | None = None) -> JobOutcome:
    """Run `command` in its own process group; on timeout TERM the group, then KILL it after
    TERM_GRACE_S. A TERM/INT sent to this process is forwarded to the group, same grace (one
    that arrives before the child exists is forwarded the moment it does); so is `cancel` being
    set (a runner off the main thread: serve stopping its triggered jobs). `on_started(pid)`
    runs once signals are forwarded, with the job's pid (the runners record pid files there)."""
    started = time.monotonic()
    received: list[int] = []
    child: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, frame: object) -> None:
        received.append(signum)
        if child:
            _signal_group(child[0].pid, signum)

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {signum: signal.signal(signum, forward) for signum in FORWARDED_SIGNALS}
    try:
        child.append(subprocess.Popen(command, env=dict(env) if env is not None else None, start_new_session=True))
        if received:
            _signal_group(child[0].pid, received[0])
        if on_started is not None:
            on_started(child[0].pid)
        exit_code, timed_out = _wait(child[0], started + timeout_s, received, cancel)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if exit_code < 0:  # killed by a signal: report it the way a shell would
        exit_code = 128 - exit_code
    return JobOutcome(exit_code=exit_code, duration_s=round(time.monotonic() - started, 3), timed_out=timed_out,
                      signal=signal.Signals(received[0]).name if received else None)


def _wait(process: subprocess.Popen[bytes], deadline: float, received: list[int],
          cancel: threading.Event | None = None) -> tuple[int, bool]:
    """(exit code, timed out): wait in short slices so a forwarded signal starts the grace period."""
    grace_ends: float | None = None
    while True:
        try:
            return process.wait(timeout=POLL_S), False
        except subprocess.TimeoutExpired:
            pass
        if cancel is not None and cancel.is_set() and not received:
            received.append(signal.SIGTERM)
            _signal_group(process.pid, signal.SIGTERM)
        now = time.monotonic()
        if received and grace_ends is None:
            grace_ends = now + TERM_GRACE_S
        if grace_ends is not None and now >= grace_ends:
            _signal_group(process.pid, signal.SIGKILL)
            return process.wait(), False
        if grace_ends is None and now >= deadline:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=TERM_GRACE_S)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
            return EXIT_TIMEOUT, True


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def write_pid_file(path: Path, pid: int) -> None:
    """Record `pid` in `path` (one decimal line) so that a reader (a container stop script, serve's
    shutdown, a test) sees either no file or the whole pid, never an empty file: written under a
    temporary name, then renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(f"{pid}\n", encoding="ascii")
    os.replace(temp, path)


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
