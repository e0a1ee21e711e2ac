"""The JSONL outbox: writes the database could not take wait here, fsync'd, until a later run replays them.

One line = one unit of work that was meant to be one batch: `{"id", "queued_at", "reason",
"ops": [{"kind", "rows": [...]}, ...]}`. Nothing in it is ever dropped without a trace:

- appends are fsync'd under a short file lock (a torn append, from a crash, never glues the
  next entry to its fragment);
- a line that cannot be read (torn, garbage, not UTF-8, an unknown kind, a row that fails
  validation) is moved to `outbox-quarantine.jsonl` with the reason and its exact bytes, and
  the good entries still replay;
- an entry the database refuses goes to `rejected.jsonl` (never retried forever);
- replay records each applied entry id in `outbox.jsonl.done` (fsync'd) before the file is
  rewritten, so a replay killed midway resumes where it stopped instead of from the top.

Two jobs never replay at once (`outbox.jsonl.replay.lock`, tried without waiting); appends
only wait for the short lock, never for a replay in progress.

Entry ids are short ASCII tokens (ENTRY_ID); a line whose id is anything else (empty, spaces,
newlines, non-ASCII) is quarantined like any unreadable line, so it can neither block the
outbox nor mark another entry done. Once the cause is fixed, `requeue()` (`staktrakr db flush
--rejected` / `--quarantined`) moves rejected entries and the readable quarantined ones back
into the outbox, where the next replay applies them; what still cannot be read stays put.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from staktrakr.surrogates import utf8_json_line
from staktrakr.timeutil import iso_z, utcnow

APPEND_LOCK_TIMEOUT_S = 60
# What an entry id may be: uuid hex, `journal-<run_id>`, `requeued-<hash>` (one line of the done file each).
ENTRY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")


@dataclass(frozen=True)
class OutboxEntry:
    id: str
    queued_at: str
    reason: str
    ops: list[dict[str, Any]]

    @property
    def row_count(self) -> int:
        return sum(len(op.get("rows") or []) for op in self.ops if isinstance(op, dict))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "queued_at": self.queued_at, "reason": self.reason, "ops": self.ops}


@dataclass(frozen=True)
class BadLine:
    """A line of the outbox that is not a readable entry: its 1-based number, exact bytes and why."""

    number: int
    raw: bytes
    reason: str


def parse_line(raw: bytes) -> OutboxEntry:
    """One outbox line -> entry; ValueError with the reason when it is not one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise ValueError("not JSON (nested too deeply)") from None
    return entry_from_data(data)


def entry_from_data(data: Any) -> OutboxEntry:
    """A decoded outbox entry -> OutboxEntry; ValueError with the reason when it is not one."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if not isinstance(data.get("id"), str) or not isinstance(data.get("queued_at"), str):
        raise ValueError("no id/queued_at")
    if not ENTRY_ID.fullmatch(data["id"]):
        raise ValueError(f"entry id {data['id'][:40]!r} is not an id (letters, digits, '.', '_', ':', '-')")
    ops = data.get("ops")
    if not isinstance(ops, list) or not all(
            isinstance(op, dict) and isinstance(op.get("kind"), str) and isinstance(op.get("rows"), list)
            for op in ops):
        raise ValueError("ops is not a list of {kind, rows}")
    return OutboxEntry(id=data["id"], queued_at=data["queued_at"], reason=str(data.get("reason", "")), ops=ops)


def _fsync_append(path: Path, payload: bytes) -> None:
    """Append whole lines, fsync'd; after a torn last line start on a new line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell():
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                payload = b"\n" + payload
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _line(data: dict[str, Any]) -> bytes:
    """One JSONL line; a lone surrogate in page text is replaced, never an encoding error."""
    return utf8_json_line(data, _dumps)


def entry_line(entry: OutboxEntry) -> bytes:
    """The entry as its outbox line, without the newline (what quarantine keeps for an invalid entry)."""
    return _line(entry.to_json())[:-1]


def _count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as handle:
            return sum(1 for raw in handle if raw.strip())
    except OSError:  # absent, or its folder is not usable (reported by whoever must write there)
        return 0


class Outbox:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.quarantine_path = path.with_name(path.stem + "-quarantine.jsonl")
        self.rejected_path = path.with_name("rejected.jsonl")
        self.done_path = path.with_name(path.name + ".done")
        self._lock = FileLock(str(path) + ".lock", timeout=APPEND_LOCK_TIMEOUT_S)

    def lock(self) -> FileLock:
        """The short lock around appends and rewrites."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self._lock

    def replay_lock(self) -> FileLock:
        """Held for a whole replay; acquire with timeout=0 (a second replayer skips)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.path) + ".replay.lock", timeout=0, thread_local=False, is_singleton=False)

    # writing ----------------------------------------------------------------------------------

    def append(self, ops: list[dict[str, Any]], reason: str, entry_id: str | None = None) -> OutboxEntry:
        """Queue one batch (fsync'd). With `entry_id`, an entry already queued under that id is kept
        as it is and returned (recovering the same journal twice queues it once)."""
        entry = OutboxEntry(id=entry_id or uuid.uuid4().hex, queued_at=iso_z(utcnow()), reason=reason, ops=ops)
        with self.lock():
            if entry_id is not None:
                for existing in self._read_unlocked()[0]:
                    if existing.id == entry_id:
                        return existing
            _fsync_append(self.path, _line(entry.to_json()))
        return entry

    def quarantine(self, items: list[tuple[bytes, str]]) -> None:
        """Keep unreadable lines (exact bytes, base64) with the reason, fsync'd, before they leave the outbox."""
        if not items:
            return
        payload = b"".join(_line({
            "quarantined_at": iso_z(utcnow()), "reason": reason,
            "raw": raw.decode("utf-8", errors="backslashreplace"),
            "raw_b64": base64.b64encode(raw).decode("ascii"),
        }) for raw, reason in items)
        with self.lock():
            _fsync_append(self.quarantine_path, payload)

    def reject(self, entry: OutboxEntry, reason: str, statement: str | None) -> Path:
        """Keep a batch the database refused, with the reason, for inspection (fsync'd)."""
        with self.lock():
            _fsync_append(self.rejected_path, _line({
                "rejected_at": iso_z(utcnow()), "statement": statement, "reason": reason, "entry": entry.to_json(),
            }))
        return self.rejected_path

    def mark_done(self, entry_id: str) -> None:
        """Record that an entry left the outbox (applied, quarantined or rejected); survives a kill."""
        if not ENTRY_ID.fullmatch(entry_id):
            raise ValueError(f"outbox entry id {entry_id[:40]!r} is not an id")
        _fsync_append(self.done_path, (entry_id + "\n").encode("ascii"))

    def requeue(self, source: Path) -> tuple[int, int]:
        """Move the entries kept in `source` (the rejected file, or the quarantine) back into the outbox
        for the next replay: (entries requeued, lines left in `source` because they are still no
        entry). Each requeued entry gets an id derived from its line, so a requeue killed midway and
        run again queues it once. Run it after fixing what refused them: a replay that refuses them
        again puts them back."""
        with self.lock():
            try:
                lines = [raw for raw in source.read_bytes().splitlines() if raw.strip()]
            except FileNotFoundError:
                return 0, 0
            waiting = {entry.id for entry in self._read_unlocked()[0]}
            entries: list[OutboxEntry] = []
            kept: list[bytes] = []
            for raw in lines:
                entry = _kept_entry(raw)
                if entry is None:
                    kept.append(raw)
                elif entry.id not in waiting and entry.id not in {e.id for e in entries}:
                    entries.append(entry)
            if entries:
                _fsync_append(self.path, b"".join(_line(entry.to_json()) for entry in entries))
            _rewrite(source, kept)
        return len(entries), len(kept)

    def done_ids(self) -> set[str]:
        try:
            return {line.strip() for line in self.done_path.read_text(encoding="ascii", errors="replace").splitlines()
                    if line.strip()}
        except OSError:
            return set()

    def remove(self, ids: set[str], bad_lines: list[bytes]) -> None:
        """Rewrite the outbox without the given entries and bad lines (temp + fsync + rename), keeping
        everything appended meanwhile, then forget the done ids."""
        with self.lock():
            try:
                lines = self.path.read_bytes().splitlines()
            except FileNotFoundError:
                lines = []
            bad = set(bad_lines)
            keep: list[bytes] = []
            for raw in lines:
                if not raw.strip() or raw in bad:
                    continue
                try:
                    if parse_line(raw).id in ids:
                        continue
                except ValueError:
                    pass  # unreadable but not quarantined by this replay (appeared meanwhile): keep it
                keep.append(raw)
            _rewrite(self.path, keep)
            self.done_path.unlink(missing_ok=True)

    # reading ----------------------------------------------------------------------------------

    def _read_unlocked(self) -> tuple[list[OutboxEntry], list[BadLine]]:
        try:
            raw_lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return [], []
        entries, bad = [], []
        for number, raw in enumerate(raw_lines, start=1):
            if not raw.strip():
                continue
            try:
                entries.append(parse_line(raw))
            except ValueError as exc:
                bad.append(BadLine(number, raw, str(exc)))
        return entries, bad

    def read(self) -> tuple[list[OutboxEntry], list[BadLine]]:
        """Readable entries in order, and the lines that are not (read under the append lock, so a
        line being appended right now is never mistaken for a torn one)."""
        if not self.path.exists():
            return [], []
        with self.lock():
            return self._read_unlocked()

    def entries(self) -> list[OutboxEntry]:
        """The readable entries still waiting (applied ones of an interrupted replay excluded)."""
        done = self.done_ids()
        return [entry for entry in self.read()[0] if entry.id not in done]

    def size(self) -> tuple[int, int]:
        """(entries, rows) waiting."""
        entries = self.entries()
        return len(entries), sum(entry.row_count for entry in entries)

    def report(self) -> dict[str, Any]:
        """What `db status`, `status` and metrics show: waiting, unreadable, quarantined, rejected."""
        entries, bad = self.read()
        done = self.done_ids()
        waiting = [entry for entry in entries if entry.id not in done]
        return {
            "path": str(self.path), "entries": len(waiting), "rows": sum(e.row_count for e in waiting),
            "unreadable_lines": len(bad),
            "quarantined": _count_lines(self.quarantine_path), "quarantine_path": str(self.quarantine_path),
            "rejected": _count_lines(self.rejected_path), "rejected_path": str(self.rejected_path),
        }


def _rewrite(path: Path, lines: list[bytes]) -> None:
    """Replace `path` with `lines` (temp + fsync + rename), or remove it when there are none."""
    if lines:
        temp = path.with_name(path.name + ".tmp")
        with open(temp, "wb") as handle:
            handle.write(b"".join(raw + b"\n" for raw in lines))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    else:
        path.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _kept_entry(raw: bytes) -> OutboxEntry | None:
    """The entry a rejected or quarantined line keeps, under a fresh id derived from the line; None
    when the line holds none (still unreadable bytes, or not a record of ours)."""
    try:
        record = json.loads(raw.decode("utf-8"))
        if "entry" in record:                                   # rejected.jsonl
            data = record["entry"]
        else:                                                   # the quarantine: the exact bytes moved aside
            data = json.loads(base64.b64decode(record["raw_b64"], validate=True).decode("utf-8"))
        if isinstance(data, dict) and "id" not in data and isinstance(data.get("ops"), list):
            data = {**data, "id": "journal-target", "queued_at": record.get("quarantined_at", "")}  # a journal line
        if isinstance(data, dict):
            data = {**data, "id": "requeued-" + hashlib.sha256(raw).hexdigest()[:32]}
        entry = entry_from_data(data)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
        return None
    return OutboxEntry(id=entry.id, queued_at=entry.queued_at, reason=f"requeued: {entry.reason}"[:300],
                       ops=entry.ops)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
