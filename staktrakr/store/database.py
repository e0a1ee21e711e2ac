"""A thin libsql-client wrapper: one client per process, round trips counted, errors made one line.

Works the same on a `file:` URL (embedded default) and on a libSQL server (Turso, sqld).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import urlsplit

import libsql_client

from staktrakr.errors import StoreUnavailable

Statement = tuple[str, Sequence[Any]]


def display_url(url: str) -> str:
    """The URL without query string or credentials, safe to print."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return f"file:{parts.path}"
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def _short_reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = re.sub(r"(authToken|api_key|token)=[^&\s]+", r"\1=***", text)
    return text[:300]


class Database:
    """Executes statements and batches (one round trip each) against one libSQL database."""

    def __init__(self, url: str, auth_token: str | None = None) -> None:
        self.url = url
        self.display = display_url(url)
        self._auth_token = auth_token
        self._client: libsql_client.ClientSync | None = None
        self.round_trips = 0

    def _connected(self) -> libsql_client.ClientSync:
        if self._client is None:
            try:
                if self.url.startswith("file:"):
                    Path(urlsplit(self.url).path).parent.mkdir(parents=True, exist_ok=True)
                self._client = libsql_client.create_client_sync(self.url, auth_token=self._auth_token)
            except Exception as exc:  # the client raises several kinds; all mean "cannot open"
                raise StoreUnavailable(f"database {self.display}: cannot open: {_short_reason(exc)}") from exc
        return self._client

    def execute(self, sql: str, args: Sequence[Any] = ()) -> libsql_client.ResultSet:
        client = self._connected()
        self.round_trips += 1
        try:
            return client.execute(sql, list(args))
        except Exception as exc:
            raise StoreUnavailable(f"database {self.display}: {_short_reason(exc)}") from exc

    def batch(self, statements: Sequence[Statement]) -> list[libsql_client.ResultSet]:
        """Run statements in one transaction and one round trip."""
        if not statements:
            return []
        client = self._connected()
        self.round_trips += 1
        try:
            return client.batch([libsql_client.Statement(sql, list(args)) for sql, args in statements])
        except Exception as exc:
            raise StoreUnavailable(f"database {self.display}: {_short_reason(exc)}") from exc

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows as dicts keyed by column name."""
        result = self.execute(sql, args)
        columns = result.columns
        return [dict(zip(columns, row)) for row in result.rows]

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            except Exception:
                pass
            self._client = None

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
