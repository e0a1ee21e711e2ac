"""The JSONL outbox: writes the database could not take wait here, fsync'd, until a later run replays them.

One line = one unit of work that was meant to be one batch: `{"id", "queued_at", "reason",
"ops": [{"kind", "rows": [...]}, ...]}`. Appends are fsync'd; replay removes entries by
rewriting the file atomically (temp + fsync + rename) under a file lock, so two jobs on one
host never replay or rewrite at once. Rows are replayed through the same idempotent statements
as live writes, so an entry applied twice (crash between commit and rewrite) still stores once.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from staktrakr.timeutil import iso_z, utcnow


@dataclass(frozen=True)
class OutboxEntry:
    id: str
    queued_at: str
    reason: str
    ops: list[dict[str, Any]]

    @property
    def row_count(self) -> int:
        return sum(len(op["rows"]) for op in self.ops)


class Outbox:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(str(path) + ".lock", timeout=60)

    def lock(self) -> FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self._lock

    def append(self, ops: list[dict[str, Any]], reason: str) -> OutboxEntry:
        entry = OutboxEntry(id=uuid.uuid4().hex, queued_at=iso_z(utcnow()), reason=reason, ops=ops)
        line = json.dumps(entry.__dict__, separators=(",", ":"), sort_keys=True) + "\n"
        with self.lock():
            with open(self.path, "a+b") as handle:
                handle.seek(0, os.SEEK_END)
                if handle.tell():  # after a torn append (crash), start on a new line: never glue to it
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":
                        line = "\n" + line
                handle.write(line.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
        return entry

    def entries(self) -> list[OutboxEntry]:
        """All queued entries; a torn last line (crash mid-append) is skipped, never fatal."""
        if not self.path.exists():
            return []
        entries = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                entries.append(OutboxEntry(id=data["id"], queued_at=data["queued_at"],
                                           reason=data.get("reason", ""), ops=data["ops"]))
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
        return entries

    def rewrite(self, keep: list[OutboxEntry]) -> None:
        """Replace the file with `keep` atomically (caller holds the lock)."""
        if not keep:
            self.path.unlink(missing_ok=True)
            return
        temp = self.path.with_suffix(".tmp")
        with open(temp, "w", encoding="utf-8") as handle:
            for entry in keep:
                handle.write(json.dumps(entry.__dict__, separators=(",", ":"), sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.path)

    def size(self) -> tuple[int, int]:
        """(entries, rows) waiting."""
        entries = self.entries()
        return len(entries), sum(entry.row_count for entry in entries)
