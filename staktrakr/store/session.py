"""The store: schema and migrations, idempotent batch writes with the outbox behind them, status.

A job opens one Store, calls `prepare()` (abandoned cycle journals queued, schema check,
outbox replay; never raises on an unreachable database), then `write(rows)` once per batch:
one round trip when the database answers, an fsync'd outbox entry when it cannot be reached
or does not answer in time. A statement the database refuses is not an outage: the rows it
accepts are stored, the refused ones kept in the `rejected` file (store/apply.py), and
`StatementRejected` is raised (the job fails, exit 1). `requeue()` puts rejected and
quarantined entries back in the outbox once their cause is fixed.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from staktrakr.errors import StatementRejected, StoreUnavailable
from staktrakr.log import shorten
from staktrakr.models import PollerRun
from staktrakr.settings import Settings
from staktrakr.store.apply import Applied, apply_ops, statements_of
from staktrakr.store.database import RETRY_AFTER_TIMEOUT_S, Database, Statement
from staktrakr.store.journal import RecoveredRun, recover_journals
from staktrakr.store.outbox import Outbox, OutboxEntry, entry_line
from staktrakr.store.schema import BASE_DDL, MIGRATIONS, MIGRATIONS_TABLE
from staktrakr.store.writes import ROW_KINDS, kind_of, orphaned_runs_statement
from staktrakr.surrogates import scrub_surrogates

log = logging.getLogger(__name__)
LATEST_VERSION = max(m.version for m in MIGRATIONS)


def ops_of(rows: Sequence[BaseModel]) -> list[dict[str, Any]]:
    """Rows as the outbox and the journal keep them: `[{"kind", "rows": [json...]}, ...]`, grouped by
    kind, poller_runs last (a run only reads "ok" once its rows are in)."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[kind_of(row)].append(scrub_surrogates(row.model_dump(mode="json")))
    order = sorted(grouped, key=lambda kind: kind == "poller_runs")
    return [{"kind": kind, "rows": grouped[kind]} for kind in order]


def rows_of_ops(ops: list[dict[str, Any]]) -> list[BaseModel]:
    """Ops back to typed rows (ValidationError / KeyError when they are not valid)."""
    return [ROW_KINDS[op["kind"]].model.model_validate(row) for op in ops for row in op["rows"]]


def _data_rows(counts: Mapping[str, int]) -> int:
    return sum(n for kind, n in counts.items() if kind != "poller_runs")


@dataclass(frozen=True)
class WriteResult:
    """Where one batch went. `stored_rows`: rows the database took (a duplicate its unique index
    dropped is not counted); `queued_rows`: rows kept in the outbox; both count every kind,
    `data_stored_rows` / `data_queued_rows` leave out the run rows (what jobs report)."""

    stored_rows: int
    queued_rows: int
    error: str | None = None
    stored_by_kind: Mapping[str, int] = field(default_factory=dict)
    queued_by_kind: Mapping[str, int] = field(default_factory=dict)

    @property
    def queued(self) -> bool:
        return self.queued_rows > 0

    @property
    def data_stored_rows(self) -> int:
        return _data_rows(self.stored_by_kind)

    @property
    def data_queued_rows(self) -> int:
        return _data_rows(self.queued_by_kind)


@dataclass
class ReplayResult:
    replayed_entries: int = 0
    replayed_rows: int = 0
    remaining_entries: int = 0
    quarantined_entries: int = 0      # unreadable lines / invalid entries moved to the quarantine file
    rejected_entries: int = 0         # entries the database refused, moved to the rejected file
    busy: bool = False                # another process was replaying: nothing done here
    error: str | None = None          # why the replay stopped early (database unreachable)
    problems: list[str] = field(default_factory=list)   # one line per quarantined or rejected entry

    @property
    def needs_attention(self) -> bool:
        """Entries left the outbox for the quarantine or rejected file: the operator must look."""
        return bool(self.quarantined_entries or self.rejected_entries)


@dataclass
class PrepareResult:
    schema_ok: bool
    applied: list[int] = field(default_factory=list)
    replay: ReplayResult = field(default_factory=ReplayResult)
    recovered: list[RecoveredRun] = field(default_factory=list)   # journals of killed runs, now queued
    error: str | None = None


class Store:
    def __init__(self, db: Database, outbox: Outbox, journal_dir: Path | None = None) -> None:
        self.db = db
        self.outbox = outbox
        self.journal_dir = journal_dir or outbox.path.parent / "journal"

    @classmethod
    def open(cls, settings: Settings, *, retry_after_timeout_s: float = RETRY_AFTER_TIMEOUT_S) -> Store:
        """The store of these settings. `retry_after_timeout_s`: how long after a timeout the database is
        not asked again (a job: the rest of its run; serve passes a few seconds)."""
        token = settings.turso_auth_token.get_secret_value() if settings.turso_auth_token else None
        database = Database(settings.database_url, token, connect_timeout_s=settings.db_connect_timeout_s,
                            statement_timeout_s=settings.db_statement_timeout_s,
                            retry_after_timeout_s=retry_after_timeout_s)
        return cls(database, Outbox(settings.outbox_path), settings.journal_dir)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # schema -------------------------------------------------------------------------------

    def applied_versions(self) -> set[int]:
        rows = self.db.query("SELECT version FROM schema_migrations")
        return {int(row["version"]) for row in rows}

    def migrate(self) -> list[int]:
        """Create absent tables, then apply pending migrations in order; returns the versions applied."""
        self.db.batch([(sql, ()) for sql in (*BASE_DDL, MIGRATIONS_TABLE)])
        done = self.applied_versions()
        applied = []
        for migration in MIGRATIONS:
            if migration.version in done:
                continue
            statements: list[Statement] = []
            for table, column, column_type in migration.add_columns:
                existing = {row["name"] for row in self.db.query(f"PRAGMA table_info({table})")}
                if column not in existing:
                    statements.append((f"ALTER TABLE {table} ADD COLUMN {column} {column_type}", ()))
            statements += [(sql, ()) for sql in migration.statements]
            statements.append((
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?) ON CONFLICT(version) DO NOTHING",
                (migration.version, migration.name),
            ))
            if migration.timeout_s:
                log.info("schema migration %d (%s): may take minutes on a large database", migration.version,
                         migration.name)
            self.db.batch(statements, timeout_s=migration.timeout_s)
            applied.append(migration.version)
        return applied

    def ensure_schema(self) -> list[int]:
        """Cheap when current (one round trip); migrates otherwise."""
        try:
            if max(self.applied_versions(), default=0) >= LATEST_VERSION:
                return []
        except StatementRejected as exc:
            if not exc.missing_table:
                raise
        return self.migrate()

    def recover_journals(self) -> list[RecoveredRun]:
        """Queue the journals of runs that died before their final write (see store/journal.py)."""
        return recover_journals(self.journal_dir, self.outbox)

    def prepare(self) -> PrepareResult:
        """Journal recovery, schema check and outbox replay at job start; an unreachable database is
        reported, not raised (a rejected migration is: that is a bug, not an outage). Journal
        lines that could not be read count as quarantined, like unreadable outbox lines."""
        recovered = self.recover_journals()
        try:
            applied = self.ensure_schema()
        except StoreUnavailable as exc:
            log.warning("%s; writes go to the outbox %s", exc, self.outbox.path)
            replay = ReplayResult(remaining_entries=len(self.outbox.entries()))
            prepared = PrepareResult(schema_ok=False, error=str(exc), recovered=recovered, replay=replay)
        else:
            prepared = PrepareResult(schema_ok=True, applied=applied, replay=self.replay_outbox(), recovered=recovered)
        count_journal_problems(recovered, prepared.replay)
        return prepared

    def requeue(self, *, rejected: bool = False, quarantined: bool = False) -> tuple[int, int]:
        """Move rejected entries and/or the readable quarantined ones back into the outbox (after
        their cause is fixed); the next replay applies them. Returns (requeued, still kept aside)."""
        requeued = kept = 0
        for wanted, path in ((rejected, self.outbox.rejected_path), (quarantined, self.outbox.quarantine_path)):
            if wanted:
                moved, left = self.outbox.requeue(path)
                requeued, kept = requeued + moved, kept + left
        return requeued, kept

    # writes -------------------------------------------------------------------------------

    @staticmethod
    def _ops(rows: Sequence[BaseModel]) -> list[dict[str, Any]]:
        return ops_of(rows)

    @staticmethod
    def _statements(ops: list[dict[str, Any]]) -> list[Statement]:
        """Statements for outbox-shaped ops; KeyError for an unknown kind, ValidationError for a bad row."""
        return statements_of(ops)[0]

    def write(self, rows: Sequence[BaseModel], *, timeout_s: float | None = None) -> WriteResult:
        """Write rows of any kinds in one batch. Unreachable or too slow: queued in the outbox.
        Refused by the database: the rows it accepts are stored, the refused ones kept in the
        rejected file, and StatementRejected raised."""
        if not rows:
            return WriteResult(0, 0)
        ops = self._ops(rows)
        try:
            applied = apply_ops(self.db, ops, timeout_s)
        except StoreUnavailable as exc:
            entry = self.outbox.append(ops, reason=str(exc))
            log.warning("%s; %d rows kept in the outbox %s", exc, entry.row_count, self.outbox.path)
            queued = Counter({op["kind"]: len(op["rows"]) for op in ops})
            return WriteResult(0, entry.row_count, str(exc), queued_by_kind=queued)
        except Exception as exc:
            entry = OutboxEntry(id=uuid.uuid4().hex, queued_at="", reason="live write", ops=ops)
            path = self.outbox.reject(entry, str(exc), getattr(exc, "statement", None))
            log.error("write failed (%s); %d rows kept in %s", shorten(exc), entry.row_count, path)
            raise
        if applied.refused:
            raise self._keep_refused(applied, "live write", sum(len(op["rows"]) for op in ops))
        return WriteResult(sum(applied.stored.values()), 0, stored_by_kind=dict(applied.stored))

    def _keep_refused(self, applied: Applied, reason: str, total_rows: int) -> StatementRejected:
        """Put the refused rows in the rejected file; the error to raise, saying what was kept."""
        refusal = applied.refusal
        assert refusal is not None
        entry = OutboxEntry(id=uuid.uuid4().hex, queued_at="", reason=reason, ops=applied.refused_ops())
        path = self.outbox.reject(entry, str(refusal), refusal.statement)
        return StatementRejected(f"{refusal}; {len(applied.refused)} rows kept in {path} (the other "
                                 f"{total_rows - len(applied.refused)} of {total_rows} stored; after fixing the cause: "
                                 "staktrakr db flush --rejected)", statement=refusal.statement, code=refusal.code)

    def replay_outbox(self) -> ReplayResult:
        """Apply queued entries in order, each in its own batch. Stops at the first unreachable
        moment and keeps the rest; moves unreadable or invalid entries to the quarantine file and
        refused ones to the rejected file (warning each), so no entry blocks the ones after it."""
        result = ReplayResult()
        if not self.outbox.path.exists():
            return result
        lock = self.outbox.replay_lock()
        try:
            lock.acquire()
        except TimeoutError:  # filelock.Timeout: another job on this host is replaying right now
            result.busy = True
            result.remaining_entries = len(self.outbox.entries())
            return result
        try:
            self._replay(result)
        finally:
            lock.release()
        if result.replayed_entries:
            log.info("outbox: replayed %d entries (%d rows)", result.replayed_entries, result.replayed_rows)
        return result

    def _replay(self, result: ReplayResult) -> None:
        entries, bad_lines = self.outbox.read()
        done = self.outbox.done_ids()
        if bad_lines:
            self.outbox.quarantine([(bad.raw, f"outbox line {bad.number}: {bad.reason}") for bad in bad_lines])
            for bad in bad_lines:
                result.problems.append(f"outbox line {bad.number} quarantined: {bad.reason}")
            result.quarantined_entries += len(bad_lines)
        pending = [entry for entry in entries if entry.id not in done]
        for index, entry in enumerate(pending):
            try:
                applied = apply_ops(self.db, entry.ops)
            except (KeyError, ValidationError, TypeError, ValueError) as exc:
                reason = _invalid_entry_reason(exc)
                self.outbox.quarantine([(entry_line(entry), f"outbox entry {entry.id}: {reason}")])
                self.outbox.mark_done(entry.id)
                result.quarantined_entries += 1
                result.problems.append(f"outbox entry {entry.id} quarantined: {reason}")
                continue
            except StoreUnavailable as exc:
                result.error = str(exc)
                result.remaining_entries = len(pending) - index
                break
            if applied.refused:
                error = self._keep_refused(applied, f"outbox entry {entry.id}", entry.row_count)
                self.outbox.mark_done(entry.id)
                result.rejected_entries += 1
                result.replayed_rows += entry.row_count - len(applied.refused)
                result.problems.append(f"outbox entry {entry.id} rejected: {error}")
                continue
            self.outbox.mark_done(entry.id)
            result.replayed_entries += 1
            result.replayed_rows += entry.row_count
        for line in result.problems:
            log.warning("%s (kept in %s)", line, self.outbox.quarantine_path if "quarantined" in line
                        else self.outbox.rejected_path)
        self.outbox.remove(self.outbox.done_ids(), [bad.raw for bad in bad_lines])

    # reads ------------------------------------------------------------------------------------

    def query_if_available(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]] | None:
        """Rows, or None when the database cannot be reached or has no tables yet (a job that can go
        on without this read decides what None means). Any other refusal is a bug and raises."""
        try:
            return self.db.query(sql, args)
        except StoreUnavailable as exc:
            log.info("read skipped: %s", exc)
            return None
        except StatementRejected as exc:
            if exc.missing_table:
                return None
            raise

    def start_run(self, run: PollerRun, *, timeout_s: float | None = None) -> WriteResult:
        """Record a run as `running`, first closing this poller's orphaned `running` rows of the job
        as errors (one round trip). Queued in the outbox when the database is unreachable."""
        try:
            self.db.batch([orphaned_runs_statement(run), *self._statements(self._ops([run]))], timeout_s=timeout_s)
        except StoreUnavailable:
            return self.write([run], timeout_s=timeout_s)
        return WriteResult(1, 0, stored_by_kind={"poller_runs": 1})


def count_journal_problems(recovered: list[RecoveredRun], replay: ReplayResult) -> None:
    """Journal lines that could not be read count as quarantined, like unreadable outbox lines."""
    for run in reversed(recovered):
        if run.quarantined_lines:
            replay.quarantined_entries += run.quarantined_lines
            replay.problems.insert(0, f"journal {run.path}: {run.quarantined_lines} unreadable lines quarantined")


def _invalid_entry_reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"unknown kind {exc.args[0]!r}"
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return f"invalid {exc.title} row: {where}: {first.get('msg')}"
    return shorten(exc, 200)
