"""Atomic, validated JSON file writes: temp file + fsync + rename, parsed back before the rename.

Published files are world-readable (0644) whatever the process umask or mkstemp's 0600: the
static host, serve under another user and the web server of a mirror must all read them.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

PUBLISHED_FILE_MODE = 0o644


def dump_json(data: Any, indent: int | None = 2) -> str:
    """The one serialisation every published file uses (stable key order is the caller's)."""
    return json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False) + "\n"


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), PUBLISHED_FILE_MODE)
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any, indent: int | None = 2) -> None:
    """Serialise, parse back (never publish a file that does not parse), then write atomically."""
    text = dump_json(data, indent)
    json.loads(text)
    write_text_atomic(path, text)
