"""Error kinds the CLI maps to exit codes: operator-fixable errors are one line, never a traceback."""

from __future__ import annotations

import signal


class StaktrakrError(Exception):
    """Base for errors the operator can act on; `str()` is the whole one-line message."""

    exit_code = 1


class ConfigError(StaktrakrError):
    """A setting, option or catalog file is wrong (exit 2)."""

    exit_code = 2


class JobFailed(StaktrakrError):
    """The job ran but could not do its work (exit 1)."""

    exit_code = 1


class StoreError(StaktrakrError):
    """A database call failed. Callers choose by kind: only `StoreUnavailable` may be queued."""

    exit_code = 1


class StoreUnavailable(StoreError):
    """The database could not be reached or did not answer in time: rows wait in the outbox."""


class StatementRejected(StoreError):
    """The database answered and refused a statement (a SQL or data error, not an outage).

    Never queued for a retry: the rows are kept in the `rejected` file for inspection.
    `statement` names the kind (e.g. `INSERT price_snapshots`), `code` the server's error code.
    """

    def __init__(self, message: str, *, statement: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.statement = statement
        self.code = code

    @property
    def missing_table(self) -> bool:
        """A fresh database without our tables yet (readers treat it as empty, migrate creates them)."""
        return "no such table" in str(self)


class JobInterrupted(StaktrakrError):
    """SIGTERM or SIGINT stopped the job; what it had was stored. Exit 128 + the signal (143, 130)."""

    def __init__(self, message: str, signum: int = signal.SIGTERM) -> None:
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + int(signum)
