"""Logging: rich text on a terminal, one JSON object per line otherwise; secrets redacted everywhere.

`shorten()` is the one way an error text is cut for a message, a log line or a database
column: whitespace folded to one line, secrets redacted FIRST, then truncated, so a key
straddling the cut can never leave a fragment behind.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

from staktrakr.timeutil import iso_z

_URL_SECRET = re.compile(r"(?i)((?:api_key|apikey|access_token|token|authToken|key)=)[^&\s\"']+")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_URL_CREDENTIALS = re.compile(r"://[^/@\s]+@")

# Secret values of this process (settings), registered once at start so every shortened error
# is redacted even where no settings object is at hand (database, fetchers, git).
_known_secrets: set[str] = set()
_known_lock = threading.Lock()


def register_secrets(secrets: Iterable[str]) -> None:
    """Remember secret values (>= 4 characters) for `redact()` in this process."""
    with _known_lock:
        _known_secrets.update(s for s in secrets if s and len(s) >= 4)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace known and given secret values, `api_key=`-style parameters, bearer tokens and URL
    credentials with `***`."""
    with _known_lock:
        values = _known_secrets | {s for s in secrets if s and len(s) >= 4}
    for secret in sorted(values, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _URL_SECRET.sub(r"\1***", text)
    text = _BEARER.sub(r"\1***", text)
    return _URL_CREDENTIALS.sub("://***@", text)


def shorten(text: object, limit: int = 300, secrets: Iterable[str] = ()) -> str:
    """One line, secrets redacted, then cut to `limit` characters (with an ellipsis when cut)."""
    line = redact(" ".join(str(text).split()), secrets)
    return line if len(line) <= limit else line[: max(limit - 1, 0)] + "…"


class RedactSecrets(logging.Filter):
    """Replaces secret values (given and registered) in every record, its arguments and its traceback."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: the record's own time (not the time it was written), level,
    logger, message and, when there is one, the whole traceback in `exc`."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": iso_z(datetime.fromtimestamp(record.created, UTC)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("job", "poller", "event"):
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exc"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, separators=(",", ":"))


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at emit time (test runners swap and close streams)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def configure_logging(log_format: str | None, secrets: Iterable[str] = (), verbose: bool = False,
                      quiet: bool = False) -> None:
    """Install one handler on the root logger (idempotent: replaces earlier ones); `verbose` logs
    DEBUG, `quiet` only warnings and errors, neither INFO."""
    secrets = list(secrets)
    register_secrets(secrets)
    fmt = log_format or ("text" if sys.stderr.isatty() else "json")
    root = logging.getLogger()
    for installed in list(root.handlers):
        root.removeHandler(installed)
    handler: logging.Handler
    if fmt == "json":
        handler = StderrHandler()
        handler.setFormatter(JsonFormatter())
    else:
        from rich.console import Console
        from rich.logging import RichHandler

        handler = RichHandler(console=Console(stderr=True), show_path=False, markup=False, rich_tracebacks=False)
    handler.addFilter(RedactSecrets(secrets))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    for noisy in ("httpx", "httpcore", "asyncio", "git", "urllib3", "hpack"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
