"""The run journal: a run's existence and (for a scrape) each finished target's rows, fsync'd to
local disk the moment they exist.

Every run opens one before its `running` row is written (jobs/harness.py); a scrape keeps its
whole cycle for ONE database batch at the end (O(1) round trips) and until then the
observations live here, in `var/journal/<run_id>.jsonl`:

    {"journal": 1, "run": {...PollerRun...}}                      header, before the run row
    {"meta": {"planned": N, "scoring": {"window_prices", "previous_day"}}}     what recovery needs
    {"ops": [{"kind": "price_snapshots", "rows": [...]}, {"kind": "provider_failures", ...}]}   one per target

The run's final batch being stored or queued deletes it. The writer holds an exclusive flock
on its file for its whole life; a journal nobody holds belongs to a process that died (SIGKILL,
OOM, power): `recover_journals` turns it into one outbox entry (confidence scored over the
recovered window, the run marked `interrupted`) and deletes it, so the next job's outbox
replay stores it exactly once and no killed run stays `running`. Killing the recovery midway
is safe: the outbox entry id is derived from the run id, so it is queued once.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from staktrakr.rules.scoring import window_confidences
from staktrakr.store.outbox import Outbox, _fsync_dir

log = logging.getLogger(__name__)
JOURNAL_VERSION = 1
SUFFIX = ".jsonl"


class Journal:
    """An open journal for one run: `add()` one target's ops, `close(discard=True)` once the
    cycle's batch is stored or queued."""

    def __init__(self, folder: Path, run_id: str, header: dict[str, Any]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{run_id}{SUFFIX}"
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self.entries = 0
        self._write({"journal": JOURNAL_VERSION, **header})
        _fsync_dir(folder)

    def _write(self, data: dict[str, Any]) -> None:
        if self._fd is None:
            raise RuntimeError(f"journal {self.path} is closed")
        os.write(self._fd, (json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8"))
        os.fsync(self._fd)

    def add(self, ops: list[dict[str, Any]]) -> None:
        """One finished target's rows (outbox op shape), durable when this returns."""
        self._write({"ops": ops})
        self.entries += 1

    def note(self, **meta: Any) -> None:
        """Facts recovery needs that are known only after the run started (planned targets, scoring)."""
        self._write({"meta": meta})

    @property
    def closed(self) -> bool:
        return self._fd is None

    def close(self, *, discard: bool) -> None:
        """Release the journal; `discard` deletes it (its rows are in the database or the outbox)."""
        if self._fd is None:
            return
        if discard:
            self.path.unlink(missing_ok=True)
            _fsync_dir(self.path.parent)
        os.close(self._fd)
        self._fd = None


@dataclass(frozen=True)
class RecoveredRun:
    run_id: str
    path: str
    targets: int
    rows: int
    quarantined_lines: int


def recover_journals(folder: Path, outbox: Outbox) -> list[RecoveredRun]:
    """Queue every abandoned journal in `folder` as one outbox entry and delete it; journals still
    held by a live process are left alone. Unreadable lines are quarantined (outbox quarantine)."""
    if not folder.is_dir():
        return []
    recovered = []
    for path in sorted(folder.glob("*" + SUFFIX)):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its writer is alive
            try:
                if os.fstat(fd).st_ino != os.stat(path).st_ino:
                    continue  # recovered and replaced meanwhile
            except FileNotFoundError:
                continue  # another process recovered it first
            with os.fdopen(os.dup(fd), "rb") as handle:
                raw_lines = handle.read().splitlines()
            done = _recover_one(path, raw_lines, outbox)
            if done is not None:
                recovered.append(done)
            path.unlink(missing_ok=True)
            _fsync_dir(folder)
        finally:
            os.close(fd)
    return recovered


def _recover_one(path: Path, raw_lines: list[bytes], outbox: Outbox) -> RecoveredRun | None:
    lines = [raw for raw in raw_lines if raw.strip()]
    if not lines:
        return None
    bad: list[tuple[bytes, str]] = []
    try:
        header = json.loads(lines[0].decode("utf-8"))
        run = header["run"]
        run_id = str(run["run_id"])
        if header.get("journal") != JOURNAL_VERSION:
            raise ValueError(f"unknown journal version {header.get('journal')!r}")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        outbox.quarantine([(raw, f"journal {path.name}: no readable header ({exc})") for raw in lines])
        log.warning("journal %s: no readable header; %d lines quarantined in %s", path, len(lines),
                    outbox.quarantine_path)
        return RecoveredRun(path.stem, str(path), 0, 0, len(lines))
    rows_by_kind: dict[str, list[dict[str, Any]]] = {}
    targets = 0
    for number, raw in enumerate(lines[1:], start=2):
        try:
            record = json.loads(raw.decode("utf-8"))
            if "meta" in record:
                header.update(dict(record["meta"]))
                continue
            for op in record["ops"]:
                rows_by_kind.setdefault(str(op["kind"]), []).extend(list(op["rows"]))
            targets += 1
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            bad.append((raw, f"journal {path.name} line {number}: {exc}"))
    if bad:
        outbox.quarantine(bad)
        log.warning("journal %s: %d unreadable lines quarantined in %s", path, len(bad), outbox.quarantine_path)
    snapshots = rows_by_kind.get("price_snapshots", [])
    _rescore(snapshots, header.get("scoring") or {})
    failed = sum(1 for row in snapshots if row.get("is_failed"))
    newest = max((str(row.get("scraped_at") or "") for row in snapshots), default="") or run.get("started_at")
    planned = header.get("planned", run.get("total"))
    found = (f"{targets} finished targets recovered from its journal" if planned is not None or targets
             else "nothing in its journal to recover")
    run_row = {**run, "status": "interrupted", "finished_at": newest, "total": planned,
               "captured": len(snapshots) - failed if planned is not None else run.get("captured"),
               "failures": failed if planned is not None else run.get("failures"),
               "error": f"ended before its final write (the process was killed); {found}"}
    ops = [{"kind": kind, "rows": rows} for kind, rows in rows_by_kind.items() if kind != "poller_runs" and rows]
    ops.append({"kind": "poller_runs", "rows": [run_row]})
    entry = outbox.append(ops, reason=f"recovered from journal {path.name}", entry_id=f"journal-{run_id}")
    log.warning("journal %s: run %s ended before its final write; %d targets (%d rows) queued for replay",
                path, run_id, targets, entry.row_count - 1)  # minus its run row
    return RecoveredRun(run_id, str(path), targets, entry.row_count - 1, len(bad))


def _rescore(snapshots: list[dict[str, Any]], scoring: dict[str, Any]) -> None:
    """Confidence over the recovered window, exactly as the live cycle scores it."""
    observations = [(str(row.get("coin_slug")), None if row.get("is_failed") else row.get("price"),
                     bool(row.get("in_stock", True))) for row in snapshots]
    try:
        scores = window_confidences(observations, scoring.get("window_prices") or {}, scoring.get("previous_day") or {})
    except (TypeError, ValueError):
        return  # a malformed row: replay validation quarantines it with the reason
    for row, score in zip(snapshots, scores, strict=False):
        row["confidence"] = score
