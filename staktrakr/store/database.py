"""A thin libsql-client wrapper: one client per process, every call bounded in time, errors typed.

Works the same on a `file:` URL (embedded default) and on a libSQL server (Turso, sqld). The
client runs on an event loop in a daemon thread of its own, so a call that hangs (sqld frozen,
a network that swallows packets) is abandoned after its timeout and can never keep the process
alive. Failures come back as one of two kinds, and callers act on the kind:

- `StoreUnavailable`: cannot connect, no answer in time, the server or its proxy failed. The
  statement may well be fine: rows wait in the outbox.
- `StatementRejected`: the database answered and refused the statement (SQL or data error).
  Retrying cannot help: rows go to the `rejected` file and the job fails.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import sqlite3
import threading
import time
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from staktrakr import deferred
from staktrakr.errors import ConfigError, StaktrakrError, StatementRejected, StoreUnavailable
from staktrakr.log import shorten

# libsql_client imports aiohttp for its server clients; a file: URL never uses it (staktrakr/deferred.py)
deferred.defer("aiohttp")
import libsql_client  # noqa: E402

Statement = tuple[str, Sequence[Any]]
Rows = list[dict[str, Any]]
T = TypeVar("T")

DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_STATEMENT_TIMEOUT_S = 20.0
# After a call timed out, further calls fail at once for this long (a hung server is not asked
# again and again within one run; the rows go to the outbox instead of waiting each time).
RETRY_AFTER_TIMEOUT_S = 60.0
CLOSE_TIMEOUT_S = 2.0
WAIT_SLICE_S = 0.1  # how often a waiting call looks at the stop deadline

# sqlite error names that mean "the database cannot take it now", not "the statement is wrong".
_UNAVAILABLE_SQLITE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL",
                       "SQLITE_READONLY", "SQLITE_PROTOCOL", "SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_PERM")
# libsql-client codes for a malformed URL (raised when the client is created).
_URL_CODES = ("URL_INVALID", "URL_PARAM_NOT_SUPPORTED", "URL_SCHEME_NOT_SUPPORTED", "URL_UNDEFINED")
_KIND = re.compile(r"^\s*(INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM|SELECT|CREATE\s+(?:UNIQUE\s+)?INDEX"
                   r"(?:\s+IF\s+NOT\s+EXISTS)?\s+\w+\s+ON|CREATE\s+TABLE(?:\s+IF\s+NOT\s+EXISTS)?|ALTER\s+TABLE"
                   r"|PRAGMA\s+\w+\s*\(?)\s*(\w+)?", re.IGNORECASE)


def display_url(url: str) -> str:
    """The URL without credentials (`user:password@`) or query string (`?authToken=...`), safe to
    print: scheme, host, port and path. The one way a configured URL is shown (status, doctor,
    the dashboard); a malformed URL is shown as such, never echoed."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(malformed URL)"
    if parts.scheme == "file":
        return f"file:{parts.path}"
    if not parts.scheme and not parts.netloc:  # not a URL (a path or a word): nothing to strip
        return url.split("?", 1)[0]
    path = parts.path if parts.path != "/" else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{path}"


def statement_kind(sql: str) -> str:
    """What a statement does to which table: `INSERT price_snapshots`, `UPDATE poller_runs`, ..."""
    match = _KIND.match(sql)
    if not match:
        return (sql.split() or ["statement"])[0].upper()
    verb = match.group(1).split()[0].upper()
    table = match.group(2)
    if verb == "SELECT":
        found = re.search(r"\bFROM\s+(\w+)", sql, re.IGNORECASE)
        table = found.group(1) if found else None
    if verb == "CREATE":
        verb = "CREATE INDEX" if "INDEX" in match.group(1).upper() else "CREATE TABLE"
        table = table or (re.findall(r"\bON\s+(\w+)", sql, re.IGNORECASE) or [None])[0]
    return f"{verb} {table}" if table else verb


def result_rows(result: libsql_client.ResultSet) -> Rows:
    """One statement's result (from `execute` or one entry of `batch`) as dicts keyed by column name."""
    columns = result.columns
    return [dict(zip(columns, row.astuple(), strict=False)) for row in result.rows]


def result_tuples(result: libsql_client.ResultSet) -> list[tuple[Any, ...]]:
    """One statement's result as tuples in the order of its columns (no dict per row: for reads
    of many rows whose columns the caller knows)."""
    return [row.astuple() for row in result.rows]


def _failed_statement(statements: Sequence[Statement], reason: str) -> str:
    """The kind of the statement a batch error names (by its table), else every kind in the batch."""
    kinds = list(dict.fromkeys(statement_kind(sql) for sql, _ in statements))
    named = [kind for kind in kinds if len(kind.split()) > 1 and re.search(rf"\b{kind.split()[-1]}\b", reason)]
    return named[0] if len(named) == 1 else ", ".join(kinds)


def _libsql_code(exc: BaseException) -> str | None:
    return getattr(exc, "code", None) if isinstance(exc, libsql_client.LibsqlError) else None


def _is_rejection(exc: BaseException) -> bool:
    """The server (or sqlite) answered and refused the statement itself."""
    code = _libsql_code(exc)
    if code is not None:
        if code.startswith(_UNAVAILABLE_SQLITE):
            return False
        return code.startswith(("SQLITE_", "SQL_")) or code in ("ARGS_INVALID", "SQLITE")
    if isinstance(exc, sqlite3.OperationalError):
        return False
    return isinstance(exc, (sqlite3.Error, ValueError, TypeError, OverflowError))


class _Stopped(Exception):
    """A call cut short by the stop deadline (`Database.wait_until`)."""


class _Loop:
    """An asyncio loop on a daemon thread; `run` waits for a coroutine at most `timeout_s`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="staktrakr-db", daemon=True)
        self.thread.start()

    def submit(self, make: Awaitable[T]) -> concurrent.futures.Future[T]:
        async def call() -> T:
            return await make

        return asyncio.run_coroutine_threadsafe(call(), self.loop)

    def run(self, make: Awaitable[T], timeout_s: float) -> T:
        async def bounded() -> T:
            return await asyncio.wait_for(make, timeout_s)

        future = asyncio.run_coroutine_threadsafe(bounded(), self.loop)
        try:
            # the loop thread itself may be stuck (a blocking sqlite call): do not wait on it forever
            return future.result(timeout_s + 1.0)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def stop(self) -> None:
        """Stop the loop without waiting for it (a stuck thread is a daemon and dies with the process)."""
        try:
            self.loop.call_soon_threadsafe(self.loop.stop)
        except RuntimeError:
            pass


class Database:
    """Executes statements and batches (one round trip each) against one libSQL database,
    each bounded by `statement_timeout_s` (plus `connect_timeout_s` while the client connects)."""

    def __init__(self, url: str, auth_token: str | None = None, *,
                 connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
                 statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
                 retry_after_timeout_s: float = RETRY_AFTER_TIMEOUT_S) -> None:
        self.url = url
        self.display = display_url(url)
        self._auth_token = auth_token
        self.connect_timeout_s = connect_timeout_s
        self.statement_timeout_s = statement_timeout_s
        self.retry_after_timeout_s = retry_after_timeout_s
        # set by `wait_until()` when the job is stopping: no call waits past it (monotonic seconds)
        self._stop_deadline: float | None = None
        self._stop_reason = ""
        self._loop: _Loop | None = None
        self._client: Any = None
        self._fresh = True              # the next call also pays for connecting
        self._timed_out_at: float | None = None
        self._lock = threading.Lock()
        self.round_trips = 0

    # connection -------------------------------------------------------------------------------

    def _connected(self) -> tuple[_Loop, Any]:
        if self._timed_out_at is not None:
            waited = time.monotonic() - self._timed_out_at
            if waited < self.retry_after_timeout_s:
                raise StoreUnavailable(f"database {self.display}: gave no answer in time {waited:.0f} s ago; "
                                       f"not asked again for {self.retry_after_timeout_s - waited:.0f} s")
            self._timed_out_at = None
        if self._client is not None and self._loop is not None:
            return self._loop, self._client
        if self.url.startswith("file:"):
            try:
                Path(urlsplit(self.url).path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(f"database {self.display}: cannot open: {exc.strerror or exc}") from None
        loop = _Loop()

        async def create() -> Any:
            return libsql_client.create_client(self.url, auth_token=self._auth_token)

        try:
            self._client = self._wait(loop, create(), self.connect_timeout_s)
        except BaseException as exc:
            loop.stop()
            code = _libsql_code(exc)
            if code in _URL_CODES:
                raise ConfigError(f"TURSO_DATABASE_URL: {shorten(getattr(exc, 'explanation', exc), 200)}") from None
            if isinstance(exc, _Stopped):
                self._timed_out_at = time.monotonic()
                raise StoreUnavailable(f"database {self.display}: cannot open: {exc}") from None
            if isinstance(exc, TimeoutError):
                self._timed_out_at = time.monotonic()
                raise StoreUnavailable(f"database {self.display}: cannot open: no answer within "
                                       f"{self.connect_timeout_s:g} s (DB_CONNECT_TIMEOUT_S)") from None
            if isinstance(exc, StaktrakrError):  # raised by a signal handler while waiting: passed on
                raise
            if isinstance(exc, Exception):  # the client raises several kinds; all mean "cannot open"
                raise StoreUnavailable(f"database {self.display}: cannot open: {shorten(exc)}") from exc
            raise
        self._loop = loop
        self._fresh = True
        return loop, self._client

    def _call(self, make: Any, statements: Sequence[Statement], timeout_s: float | None) -> Any:
        with self._lock:
            loop, client = self._connected()
            # an explicit timeout bounds the whole call (a job stopping has seconds, not a connect + statement)
            limit = timeout_s or self.statement_timeout_s + (self.connect_timeout_s if self._fresh else 0.0)
            # the deadline as the operator sets it: the first call of a connection also connects
            setting = ("the limit given for this call" if timeout_s
                       else f"DB_CONNECT_TIMEOUT_S {self.connect_timeout_s:g} s + DB_STATEMENT_TIMEOUT_S "
                            f"{self.statement_timeout_s:g} s, the first call connects" if self._fresh
                       else "DB_STATEMENT_TIMEOUT_S")
            self.round_trips += 1
            try:
                answer = self._wait(loop, make(client), limit)
            except _Stopped as exc:
                self._abandon()
                self._timed_out_at = time.monotonic()
                raise StoreUnavailable(f"database {self.display}: {exc}") from None
            except TimeoutError:
                self._abandon()
                self._timed_out_at = time.monotonic()
                raise StoreUnavailable(f"database {self.display}: no answer within {limit:g} s ({setting})") from None
            except StaktrakrError:  # raised by a signal handler while waiting (a second SIGTERM): not ours to map
                self._abandon()
                raise
            except Exception as exc:
                reason = shorten(exc)
                if _is_rejection(exc):
                    kind = _failed_statement(statements, reason)
                    raise StatementRejected(f"database {self.display} rejected {kind}: {reason}",
                                            statement=kind, code=_libsql_code(exc)) from exc
                self._abandon()
                if urlsplit(self.url).scheme in ("http", "ws"):  # aiohttp's TLS note, meaningless here
                    reason = re.sub(r" ssl:(?:default|None|False)\b", "", reason)
                raise StoreUnavailable(f"database {self.display}: {reason}") from exc
            self._fresh = False
            return answer

    def wait_until(self, deadline: float | None, reason: str = "") -> None:
        """No call waits past `deadline` (time.monotonic()), the one in progress included: the job is
        stopping and has only its grace period. A call cut short fails as StoreUnavailable naming
        `reason` (its rows go to the outbox). None lifts it. Safe to call from a signal handler."""
        self._stop_reason = reason
        self._stop_deadline = deadline

    def _wait(self, loop: _Loop, make: Awaitable[T], limit: float) -> T:
        """Run a call on the client's loop for at most `limit` seconds, and never past the stop
        deadline (polled, so a deadline set while the call waits still cuts it short)."""
        future = loop.submit(make)
        ends = time.monotonic() + limit
        while not future.done():
            stop, now = self._stop_deadline, time.monotonic()
            if stop is not None and now >= stop:
                future.cancel()
                raise _Stopped(f"no answer before the stop deadline ({self._stop_reason})")
            if now >= ends:
                future.cancel()
                raise TimeoutError
            concurrent.futures.wait([future], timeout=min(WAIT_SLICE_S, ends - now))
        return future.result()

    def _abandon(self) -> None:
        """Drop a client that failed in transit: the next call opens a new one."""
        loop, client = self._loop, self._client
        self._loop, self._client = None, None
        if loop is None:
            return
        if client is None:
            loop.stop()
            return

        async def close_then_stop() -> None:
            try:
                await asyncio.wait_for(client.close(), CLOSE_TIMEOUT_S)
            except BaseException:
                pass
            finally:
                loop.loop.stop()

        try:
            asyncio.run_coroutine_threadsafe(close_then_stop(), loop.loop)
        except RuntimeError:
            loop.stop()

    # statements -------------------------------------------------------------------------------

    def execute(self, sql: str, args: Sequence[Any] = (), *, timeout_s: float | None = None) -> libsql_client.ResultSet:
        return self._call(lambda client: client.execute(sql, list(args)), [(sql, args)], timeout_s)

    def batch(self, statements: Sequence[Statement], *,
              timeout_s: float | None = None) -> list[libsql_client.ResultSet]:
        """Run statements in one transaction and one round trip."""
        if not statements:
            return []
        wrapped = [libsql_client.Statement(sql, list(args)) for sql, args in statements]
        results: list[libsql_client.ResultSet] = self._call(lambda client: client.batch(wrapped), statements, timeout_s)
        return results

    def query(self, sql: str, args: Sequence[Any] = ()) -> Rows:
        """Rows as dicts keyed by column name."""
        return result_rows(self.execute(sql, args))

    def close(self) -> None:
        with self._lock:
            loop, client = self._loop, self._client
            self._loop, self._client = None, None
            if loop is None:
                return
            if client is not None:
                try:
                    loop.run(client.close(), CLOSE_TIMEOUT_S)
                except BaseException:
                    pass
            loop.stop()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
