"""JSON serialisation of the published files, and atomic file writes (temp file + rename).

A published file is never fsync'd on its own: it is written to a temporary file beside it and
renamed over the old one, so a reader (and a crash) sees the old bytes or the new ones, never a
mix; the git commit publish makes right after is the durable copy (git syncs it, see
git/repo.py DURABLE_COMMIT), and a file a crash left damaged differs from it, which the next
publish notices (git status) and puts back from the commit (jobs/publish.py). `durable=True`
adds the fsync for a file that has no such copy (the catalog written by `providers sync`).

Published files are world-readable (0644) whatever the process umask or a temporary file's: the
static host, serve under another user and the web server of a mirror must all read them.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import orjson

PUBLISHED_FILE_MODE = 0o644


def json_bytes(data: Any, indent: int | None = 2) -> bytes:
    """The one serialisation every published file uses (stable key order is the caller's), UTF-8,
    ending with a newline. With `indent=2` it is exactly `json.dumps(data, indent=2,
    ensure_ascii=False)` for the values the builders make (str keys, ints, and money / spot floats
    that never need an exponent), from orjson's C encoder (json's indented encoder is pure Python);
    one-line files keep json's `", "` / `": "` separators. Raises TypeError for a value JSON cannot
    hold, ValueError for NaN or infinity (orjson would write null) or another indent."""
    if indent is None:
        return (json.dumps(data, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
    if indent != 2:
        raise ValueError(f"indent {indent}: published files use 2 or None")
    content = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    if b"null" in content:  # orjson writes NaN and infinity as null: find out whether one was
        json.dumps(data, allow_nan=False)
    return content


def dump_json(data: Any, indent: int | None = 2) -> str:
    """`json_bytes` as text."""
    return json_bytes(data, indent).decode("utf-8")


def parses(content: bytes) -> None:
    """Raise ValueError unless `content` is one JSON document (never write a file that does not parse)."""
    orjson.loads(content)


# The temporary file: created or truncated, never through a symlink planted at its name.
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)


def write_bytes_atomic(path: Path, content: bytes, *, durable: bool = False) -> None:
    """Replace `path` with `content` through a temporary file in the same directory and a rename
    (mode 0644); `durable`: fsync the file before the rename. Raises OSError (naming the path).

    The temporary name is `.NAME.PID.THREAD.tmp`: unique among live writers, and one a crashed
    writer left behind is a stray the next publish removes. Missing directories are made on the
    first failed open, so a tree of a thousand files costs no stat per file."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(temp, _TEMP_FLAGS, PUBLISHED_FILE_MODE)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temp, _TEMP_FLAGS, PUBLISHED_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            os.fchmod(handle.fileno(), PUBLISHED_FILE_MODE)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str, *, durable: bool = True) -> None:
    """`text` as UTF-8 through `write_bytes_atomic`; durable by default (operator files such as
    providers.json and the alert state have no other copy, unlike the committed tree)."""
    write_bytes_atomic(path, text.encode("utf-8"), durable=durable)


def write_json_atomic(path: Path, data: Any, indent: int | None = 2, *, durable: bool = False) -> None:
    """Serialise, parse back, then write atomically (see `write_bytes_atomic`)."""
    content = json_bytes(data, indent)
    parses(content)
    write_bytes_atomic(path, content, durable=durable)
