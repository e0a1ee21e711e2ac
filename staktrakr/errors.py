"""Error kinds the CLI maps to exit codes: operator-fixable errors are one line, never a traceback."""

from __future__ import annotations


class StaktrakrError(Exception):
    """Base for errors the operator can act on; `str()` is the whole one-line message."""

    exit_code = 1


class ConfigError(StaktrakrError):
    """A setting, option or catalog file is wrong (exit 2)."""

    exit_code = 2


class JobFailed(StaktrakrError):
    """The job ran but could not do its work (exit 1)."""

    exit_code = 1


class StoreUnavailable(StaktrakrError):
    """The database could not be reached or refused a statement."""

    exit_code = 1
