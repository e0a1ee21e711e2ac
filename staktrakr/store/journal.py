"""The run journal: a run's existence and (for a scrape) each finished target's rows, fsync'd to
local disk the moment they exist.

Every run opens one before its `running` row is written (jobs/harness.py); a scrape keeps its
whole cycle for ONE database batch at the end (O(1) round trips) and until then the
observations live here, in `var/journal/<run_id>.jsonl`:

    {"journal": 1, "run": {...PollerRun...}}                      header, before the run row
    {"meta": {"planned": N, "scoring": {"window_prices", "previous_day"}}}     what recovery needs
    {"ops": [{"kind": "price_snapshots", "rows": [...]}, {"kind": "provider_failures", ...}]}   one per target

The run's final batch being stored or queued deletes it. The writer holds an exclusive flock
on its file for its whole life, taken before the file has its name (written as `.jsonl.new`,
locked, then renamed), so no other process can ever see a journal that is not locked by its
writer. A journal nobody holds belongs to a process that died (SIGKILL, OOM, power):
`recover_journals` turns it into one outbox entry (confidence scored over the recovered
window, the run marked `interrupted`) and deletes it, so the next job's outbox replay stores
it exactly once and no killed run stays `running`. Killing the recovery midway is safe: the
outbox entry id is derived from the run id, so it is queued once.

A journal that cannot be written (disk full, read-only) never stops the cycle: the failure is
logged once, naming the file, and the rows still go to the database in the run's one batch.
Symbolic links and other non-regular files in the folder are never followed or read.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from staktrakr.rules.scoring import window_confidences
from staktrakr.store.outbox import Outbox, _fsync_dir
from staktrakr.surrogates import utf8_json_line

log = logging.getLogger(__name__)
JOURNAL_VERSION = 1
SUFFIX = ".jsonl"
NEW_SUFFIX = ".jsonl.new"   # a journal being created (locked before it is renamed to its name)
# A `.jsonl.new` nobody holds and older than this was left by a process killed while creating its
# journal (before its run row existed): it holds no observation and is removed.
STALE_NEW_JOURNAL_S = 3600.0


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


@dataclass
class SettledRows:
    """A journal's rows made ready for the database: the data ops (confidence scored over the
    journaled window) and the run's counts (None when the run planned no targets)."""

    ops: list[dict[str, Any]]
    targets: int
    total: int | None
    captured: int | None
    failures: int | None
    newest: str | None          # the newest observation time (UTC), None when there is none

    @property
    def rows(self) -> int:
        return sum(len(op["rows"]) for op in self.ops)


def settle(meta: dict[str, Any], target_ops: list[list[dict[str, Any]]]) -> SettledRows:
    """Group the targets' ops by kind and score the snapshots exactly as the live cycle does.
    `meta`: the header and meta records (`planned`, `scoring`)."""
    rows_by_kind: dict[str, list[dict[str, Any]]] = {}
    for ops in target_ops:
        for op in ops:
            rows_by_kind.setdefault(str(op["kind"]), []).extend(list(op["rows"]))
    snapshots = rows_by_kind.get("price_snapshots", [])
    _rescore(snapshots, meta.get("scoring") or {})
    failed = sum(1 for row in snapshots if row.get("is_failed"))
    planned = meta.get("planned")
    newest = max((str(row.get("scraped_at") or "") for row in snapshots), default="") or None
    counted = planned is not None or bool(target_ops)
    return SettledRows(
        ops=[{"kind": kind, "rows": rows} for kind, rows in rows_by_kind.items() if kind != "poller_runs" and rows],
        targets=len(target_ops), total=planned,
        captured=len(snapshots) - failed if counted else None, failures=failed if counted else None, newest=newest)


class Journal:
    """An open journal for one run: `add()` one target's ops, `close(discard=True)` once the
    cycle's batch is stored or queued. Raises OSError (naming the file) only when it cannot be
    created; a later write that fails is logged once and recorded in `failure`."""

    def __init__(self, folder: Path, run_id: str, header: dict[str, Any]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{run_id}{SUFFIX}"
        self.meta: dict[str, Any] = {key: value for key, value in header.items() if key != "run"}
        self.targets: list[list[dict[str, Any]]] = []   # every target's ops, also when the disk refused them
        self.failure: str | None = None
        self._fd: int | None = None
        fresh = folder / f"{run_id}{NEW_SUFFIX}"
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._fd = fd
            if not self._write({"journal": JOURNAL_VERSION, **header}):
                raise OSError(errno.EIO, self.failure or "cannot write", str(fresh))
            os.rename(fresh, self.path)   # visible under its name only now: locked, with its header
        except BaseException:
            self._fd = None
            os.close(fd)
            fresh.unlink(missing_ok=True)
            raise
        _fsync_dir(folder)

    @property
    def entries(self) -> int:
        """Targets added (whether or not the disk took them)."""
        return len(self.targets)

    def _write(self, data: dict[str, Any]) -> bool:
        """Append one line, fsync'd; on a disk error the file is cut back to its last whole line,
        the failure logged once and later writes skipped (the rows stay in memory for the batch)."""
        if self._fd is None or self.failure is not None:
            return False
        payload = utf8_json_line(data, _dumps)
        start = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(self._fd, view):]
            os.fsync(self._fd)
        except OSError as exc:
            try:
                os.ftruncate(self._fd, start)
            except OSError:
                pass  # a torn last line is quarantined by recovery, never glued to the next one
            self.failure = (f"journal {self.path}: cannot write ({exc.strerror or exc}); this run's rows are kept "
                            "in memory for its final write only")
            log.warning("%s", self.failure)
            return False
        return True

    def add(self, ops: list[dict[str, Any]]) -> None:
        """One finished target's rows (outbox op shape), durable when this returns (unless `failure`)."""
        self.targets.append(ops)
        self._write({"ops": ops})

    def note(self, **meta: Any) -> None:
        """Facts recovery needs that are known only after the run started (planned targets, scoring)."""
        self.meta.update(meta)
        self._write({"meta": meta})

    def settled(self) -> SettledRows:
        """What this journal holds, ready for the run's final batch (the job ended early)."""
        return settle(self.meta, self.targets)

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
    queued: bool = True          # False: nothing readable (the whole file went to the quarantine)


@dataclass
class JournalFolder:
    """What a look at var/journal finds: journals held by a live run, abandoned ones (a killed
    run's: the next job queues them) and entries that are not journals (left alone)."""

    path: str
    running: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    not_journals: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "running": self.running, "abandoned": self.abandoned,
                "not_journals": self.not_journals}


def _open_journal(path: Path) -> int | None:
    """A read descriptor on a regular file at `path` (never through a symbolic link), or None
    (logged) when it is something else; None silently when it vanished meanwhile."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        what = "a symbolic link" if exc.errno == errno.ELOOP else f"unreadable ({exc.strerror or exc})"
        log.warning("journal folder: %s is %s, not a journal: left alone (remove it)", path, what)
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        log.warning("journal folder: %s is not a regular file, not a journal: left alone (remove it)", path)
        return None
    return fd


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def recover_journals(folder: Path, outbox: Outbox) -> list[RecoveredRun]:
    """Queue every abandoned journal in `folder` as one outbox entry and delete it; journals still
    held by a live process are left alone, and so are symbolic links and other non-regular files.
    Unreadable lines are quarantined (outbox quarantine). A journal that cannot be read or
    deleted (permissions, disk) is logged and left for a later run."""
    if not folder.is_dir():
        return []
    _remove_stale_new(folder)
    recovered = []
    for path in sorted(folder.glob("*" + SUFFIX)):
        fd = _open_journal(path)
        if fd is None:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its writer is alive
            try:
                if os.fstat(fd).st_ino != os.stat(path, follow_symlinks=False).st_ino:
                    continue  # recovered and replaced meanwhile
            except FileNotFoundError:
                continue  # another process recovered it first
            done = _recover_one(path, _read_all(fd).splitlines(), outbox)
            if done is not None:
                recovered.append(done)
            path.unlink(missing_ok=True)
            _fsync_dir(folder)
        except OSError as exc:
            log.warning("journal %s: cannot recover it now (%s: %s); a later run retries",
                        path, exc.filename or path, exc.strerror or exc)
        finally:
            os.close(fd)
    return recovered


def _remove_stale_new(folder: Path) -> None:
    """Remove `.jsonl.new` files of processes killed while creating their journal (no run row
    was written yet: they hold nothing to recover)."""
    for path in folder.glob("*" + NEW_SUFFIX):
        fd = _open_journal(path)
        if fd is None:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if time.time() - os.fstat(fd).st_mtime > STALE_NEW_JOURNAL_S:
                path.unlink(missing_ok=True)
        except OSError:
            pass  # held (being created right now) or not removable: left alone
        finally:
            os.close(fd)


def journal_folder(folder: Path) -> JournalFolder:
    """Running, abandoned and foreign entries of the journal folder (read-only: `status`, `db status`)."""
    report = JournalFolder(str(folder))
    if not folder.is_dir():
        return report
    for path in sorted(folder.glob("*" + SUFFIX)):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            continue
        except OSError:
            report.not_journals.append(str(path))
            continue
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                report.not_journals.append(str(path))
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                report.running.append(path.stem)
                continue
            report.abandoned.append(path.stem)
        finally:
            os.close(fd)
    return report


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
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError) as exc:
        outbox.quarantine([(raw, f"journal {path.name}: no readable header ({exc})") for raw in lines])
        log.warning("journal %s: no readable header; %d lines quarantined in %s", path, len(lines),
                    outbox.quarantine_path)
        return RecoveredRun(path.stem, str(path), 0, 0, len(lines), queued=False)
    meta = {key: value for key, value in header.items() if key != "run"}
    target_ops: list[list[dict[str, Any]]] = []
    for number, raw in enumerate(lines[1:], start=2):
        try:
            record = json.loads(raw.decode("utf-8"))
            if "meta" in record:
                meta.update(dict(record["meta"]))
                continue
            ops = [{"kind": str(op["kind"]), "rows": list(op["rows"])} for op in record["ops"]]
            target_ops.append(ops)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError) as exc:
            bad.append((raw, f"journal {path.name} line {number}: {exc}"))
    if bad:
        outbox.quarantine(bad)
        log.warning("journal %s: %d unreadable lines quarantined in %s", path, len(bad), outbox.quarantine_path)
    meta.setdefault("planned", run.get("total"))
    settled = settle(meta, target_ops)
    found = (f"{settled.targets} finished targets recovered from its journal"
             if settled.total is not None or settled.targets else "nothing in its journal to recover")
    run_row = {**run, "status": "interrupted", "finished_at": settled.newest or run.get("started_at"),
               "total": settled.total,
               "captured": settled.captured if settled.captured is not None else run.get("captured"),
               "failures": settled.failures if settled.failures is not None else run.get("failures"),
               "error": f"ended before its final write (the process was killed); {found}"}
    ops = [*settled.ops, {"kind": "poller_runs", "rows": [run_row]}]
    entry = outbox.append(ops, reason=f"recovered from journal {path.name}", entry_id=f"journal-{run_id}")
    log.warning("journal %s: run %s ended before its final write; %d targets (%d rows) queued for replay",
                path, run_id, settled.targets, entry.row_count - 1)  # minus its run row
    return RecoveredRun(run_id, str(path), settled.targets, entry.row_count - 1, len(bad))


def _rescore(snapshots: list[dict[str, Any]], scoring: dict[str, Any]) -> None:
    """Confidence over the recovered window, exactly as the live cycle scores it."""
    observations = [(str(row.get("coin_slug")), None if row.get("is_failed") else row.get("price"),
                     bool(row.get("in_stock", True))) for row in snapshots]
    try:
        scores = window_confidences(observations, scoring.get("window_prices") or {}, scoring.get("previous_day") or {})
    except (TypeError, ValueError, AttributeError):
        return  # a malformed row: replay validation quarantines it with the reason
    for row, score in zip(snapshots, scores, strict=False):
        if isinstance(row, dict):
            row["confidence"] = score
