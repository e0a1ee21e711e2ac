"""The store: schema and migrations, idempotent batch writes with the outbox behind them, status.

A job opens one Store, calls `prepare()` (schema check + outbox replay, never raises on an
unreachable database), then `write(rows)` once per batch: one round trip when the database
answers, an fsync'd outbox entry when it does not. Nothing the job produced is lost either way.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from pydantic import BaseModel

from staktrakr.errors import StoreUnavailable
from staktrakr.models import PollerRun
from staktrakr.settings import Settings
from staktrakr.spot_bands import Band, spot_bands
from staktrakr.store.database import Database, Statement
from staktrakr.store.outbox import Outbox
from staktrakr.store.schema import BASE_DDL, MIGRATIONS, MIGRATIONS_TABLE
from staktrakr.store.writes import ROW_KINDS, kind_of

log = logging.getLogger(__name__)
LATEST_VERSION = max(m.version for m in MIGRATIONS)


@dataclass(frozen=True)
class WriteResult:
    stored_rows: int
    queued_rows: int
    error: str | None = None

    @property
    def queued(self) -> bool:
        return self.queued_rows > 0


@dataclass
class ReplayResult:
    replayed_entries: int = 0
    replayed_rows: int = 0
    remaining_entries: int = 0
    error: str | None = None


@dataclass
class PrepareResult:
    schema_ok: bool
    applied: list[int] = field(default_factory=list)
    replay: ReplayResult = field(default_factory=ReplayResult)
    error: str | None = None


class Store:
    def __init__(self, db: Database, outbox: Outbox) -> None:
        self.db = db
        self.outbox = outbox

    @classmethod
    def open(cls, settings: Settings) -> "Store":
        token = settings.turso_auth_token.get_secret_value() if settings.turso_auth_token else None
        return cls(Database(settings.database_url, token), Outbox(settings.outbox_path))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
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
            self.db.batch(statements)
            applied.append(migration.version)
        return applied

    def ensure_schema(self) -> list[int]:
        """Cheap when current (one round trip); migrates otherwise."""
        try:
            if max(self.applied_versions(), default=0) >= LATEST_VERSION:
                return []
        except StoreUnavailable as exc:
            if "no such table" not in str(exc):
                raise
        return self.migrate()

    def prepare(self) -> PrepareResult:
        """Schema check and outbox replay at job start; an unreachable database is reported, not raised."""
        try:
            applied = self.ensure_schema()
        except StoreUnavailable as exc:
            log.warning("%s; writes go to the outbox %s", exc, self.outbox.path)
            return PrepareResult(schema_ok=False, error=str(exc),
                                 replay=ReplayResult(remaining_entries=len(self.outbox.entries())))
        return PrepareResult(schema_ok=True, applied=applied, replay=self.replay_outbox())

    # writes -------------------------------------------------------------------------------

    @staticmethod
    def _ops(rows: Sequence[BaseModel]) -> list[dict[str, Any]]:
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            grouped[kind_of(row)].append(row.model_dump(mode="json"))
        # poller_runs last, so a run only reads "ok" once its rows are in.
        order = sorted(grouped, key=lambda kind: kind == "poller_runs")
        return [{"kind": kind, "rows": grouped[kind]} for kind in order]

    @staticmethod
    def _statements(ops: list[dict[str, Any]]) -> list[Statement]:
        statements: list[Statement] = []
        for op in ops:
            kind = ROW_KINDS[op["kind"]]
            statements += kind.statements([kind.model.model_validate(row) for row in op["rows"]])
        return statements

    def write(self, rows: Sequence[BaseModel]) -> WriteResult:
        """Write rows of any kinds in one batch; on any database error queue them in the outbox."""
        if not rows:
            return WriteResult(0, 0)
        ops = self._ops(rows)
        try:
            self.db.batch(self._statements(ops))
        except StoreUnavailable as exc:
            entry = self.outbox.append(ops, reason=str(exc))
            log.warning("%s; %d rows kept in the outbox %s", exc, entry.row_count, self.outbox.path)
            return WriteResult(0, entry.row_count, str(exc))
        return WriteResult(len(rows), 0)

    def replay_outbox(self) -> ReplayResult:
        """Apply queued entries in order; stop at the first failure and keep the rest."""
        result = ReplayResult()
        if not self.outbox.path.exists():
            return result
        with self.outbox.lock():
            entries = self.outbox.entries()
            done = 0
            for entry in entries:
                try:
                    self.db.batch(self._statements(entry.ops))
                except StoreUnavailable as exc:
                    result.error = str(exc)
                    break
                done += 1
                result.replayed_entries += 1
                result.replayed_rows += entry.row_count
            self.outbox.rewrite(entries[done:])
            result.remaining_entries = len(entries) - done
        if result.replayed_entries:
            log.info("outbox: replayed %d entries (%d rows)", result.replayed_entries, result.replayed_rows)
        return result

    # reads used by several jobs ------------------------------------------------------------

    def latest_spot(self, bands: Mapping[str, Band] | None = None) -> dict[str, float]:
        """Newest plausible stored spot per metal (USD/oz, inside its band: other writers share the
        table and have stored 0 and 0.01); empty when none or the database is unreachable."""
        usable = spot_bands(dict(bands) if bands is not None else None)
        parts, args = [], []
        for metal, (low, high) in sorted(usable.items()):
            parts.append("SELECT * FROM (SELECT metal, spot FROM spot_prices WHERE metal = ? "
                         "AND spot BETWEEN ? AND ? ORDER BY timestamp_floor DESC LIMIT 1)")
            args += [metal, low, high]
        try:
            rows = self.db.query(" UNION ALL ".join(parts), args)
        except StoreUnavailable:
            return {}
        return {row["metal"]: float(row["spot"]) for row in rows}

    def start_run(self, run: PollerRun) -> WriteResult:
        """Record a run as `running`, first closing this poller's orphaned `running` rows of the job
        as errors (one round trip). Queued in the outbox when the database is unreachable."""
        orphans: Statement = (
            "UPDATE poller_runs SET status = 'error', finished_at = ?, "
            "error = 'orphaned: the process ended before finishing' "
            "WHERE poller_id = ? AND status = 'running' AND run_id != ? AND (job = ? OR job IS NULL)",
            (run.started_at, run.poller_id, run.run_id, run.job),
        )
        try:
            self.db.batch([orphans, *self._statements(self._ops([run]))])
        except StoreUnavailable:
            return self.write([run])
        return WriteResult(1, 0)
