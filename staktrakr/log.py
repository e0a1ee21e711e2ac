"""Logging: rich text on a terminal, one JSON object per line otherwise; secrets redacted everywhere."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Iterable

from staktrakr.timeutil import iso_z, utcnow

_URL_SECRET = re.compile(r"(?i)((?:api_key|apikey|access_token|token|authToken|key)=)[^&\s\"']+")


class RedactSecrets(logging.Filter):
    """Replaces known secret values and `api_key=`-style URL parameters in every record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _URL_SECRET.sub(r"\1***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = ()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": iso_z(utcnow()),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("job", "poller", "event"):
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        return json.dumps(payload, separators=(",", ":"))


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at emit time (test runners swap and close streams)."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: D102
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # noqa: D102
        pass


def configure_logging(log_format: str | None, secrets: Iterable[str] = (), verbose: bool = False) -> None:
    """Install one handler on the root logger (idempotent: replaces earlier ones)."""
    fmt = log_format or ("text" if sys.stderr.isatty() else "json")
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    if fmt == "json":
        handler: logging.Handler = StderrHandler()
        handler.setFormatter(JsonFormatter())
    else:
        from rich.console import Console
        from rich.logging import RichHandler

        handler = RichHandler(console=Console(stderr=True), show_path=False, markup=False, rich_tracebacks=False)
    handler.addFilter(RedactSecrets(secrets))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("httpx", "httpcore", "asyncio", "git", "urllib3", "hpack"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
