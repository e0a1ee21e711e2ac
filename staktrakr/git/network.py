"""git commands that talk to a remote (clone, fetch, push): bounded in time and stopped with the job.

A remote that accepts the connection and never answers would hold git (and its
`git-remote-https` child process) forever, and a SIGTERM to the job never reaches them. Here each
network git runs in a process group of its own; it is ended (TERM, then KILL after
GIT_KILL_GRACE_S) when GIT_TIMEOUT_S passes, when the job's stop is requested, or when the job
leaves by an exception (a second signal), so no git process outlives the job.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Protocol

GIT_KILL_GRACE_S = 2.0
WAIT_SLICE_S = 0.1
EXIT_TIMED_OUT = 124
EXIT_STOPPED = 143


class StopRequest(Protocol):
    """What git needs to know of a job's stop (jobs/stop.py's StopSignal is one): whether it was
    requested, and the signal's name."""

    @property
    def requested(self) -> bool: ...

    @property
    def name(self) -> str | None: ...


def run_network_git(command: Sequence[str], cwd: Path, env: Mapping[str, str], timeout_s: float,
                    stop: StopRequest | None = None, stdin: IO[bytes] | None = None) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `command`; a timeout or a stop ends the whole process group
    and comes back as status 124 / 143 with the reason appended to stderr."""
    process = subprocess.Popen(list(command), cwd=cwd, env={**os.environ, "LC_ALL": "C", **env},
                               stdin=stdin if stdin is not None else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    ends = time.monotonic() + timeout_s
    try:
        while True:
            try:
                out, err = process.communicate(timeout=WAIT_SLICE_S)
                return process.returncode, _text(out).rstrip("\n"), _text(err)
            except subprocess.TimeoutExpired:
                pass
            if stop is not None and stop.requested:
                status, why = EXIT_STOPPED, f"git was stopped: the job received {stop.name}"
                break
            if time.monotonic() >= ends:
                status, why = EXIT_TIMED_OUT, f"no answer from the remote within {timeout_s:g} s (GIT_TIMEOUT_S)"
                break
        end_group(process)
        out, err = process.communicate()
        return status, _text(out).rstrip("\n"), (_text(err).rstrip("\n") + f"\n{why}").strip()
    except BaseException:
        end_group(process)
        raise


def end_group(process: subprocess.Popen[bytes]) -> None:
    """TERM the process group, KILL it after GIT_KILL_GRACE_S; reaps the leader."""
    if process.poll() is not None:
        _signal_group(process.pid, signal.SIGKILL)  # children the leader left behind
        return
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=GIT_KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        pass
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")
