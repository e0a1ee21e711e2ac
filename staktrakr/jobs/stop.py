"""A job's stop request (SIGTERM/SIGINT, jobs/harness.py), and the ways work reacts to it.

- Units of work poll `requested` or call `check()` between units (a scrape starts no new target).
- Long waits register `on_request` callbacks (the scrape cancels its in-flight fetches, the
  database cuts a waiting call at the stop deadline, git kills its network processes).
- Work that keeps nothing half done (an API call whose answer is not stored yet) runs inside
  `interruptible()`: a stop raises JobInterrupted right there, even in the middle of a blocking
  call, so no job waits out a slow answer it would then throw away.
- Coroutines run through `run_until_stopped()`, which cancels them on a stop.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from staktrakr.errors import JobInterrupted

T = TypeVar("T")


class StopSignal:
    """Set by the first SIGTERM/SIGINT (see the module docstring)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._interruptible: str | None = None   # what is running inside `interruptible()`

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

    @contextmanager
    def interruptible(self, job: str, what: str) -> Iterator[None]:
        """Inside this block a stop raises JobInterrupted at once, wherever the job is (a blocking
        HTTP call included): for work whose partial result is worth nothing. Checked on entry too."""
        self.check(job, f"before {what}")
        self._interruptible = f"{job}: interrupted by {{}} during {what}"
        try:
            yield
        finally:
            self._interruptible = None

    def interruption(self) -> JobInterrupted | None:
        """The error the signal handler raises now (inside `interruptible()`), else None."""
        if self._interruptible is None or self.signum is None:
            return None
        return JobInterrupted(self._interruptible.format(self.name), self.signum)

    def run_until_stopped(self, job: str, what: str, work: Coroutine[Any, Any, T]) -> T:
        """`asyncio.run(work)`, cancelled by a stop (its `finally` blocks run: fetchers close);
        JobInterrupted then, naming `what`."""

        async def guarded() -> T:
            loop = asyncio.get_running_loop()
            task = asyncio.ensure_future(work)
            def cancel() -> None:
                loop.call_soon_threadsafe(task.cancel)

            forget = self.on_request(cancel)
            try:
                return await task
            except asyncio.CancelledError:
                if self.requested:
                    raise JobInterrupted(f"{job}: interrupted by {self.name} during {what}",
                                         self.signum or signal.SIGTERM) from None
                raise
            finally:
                forget()

        self.check(job, f"before {what}")
        return asyncio.run(guarded())
