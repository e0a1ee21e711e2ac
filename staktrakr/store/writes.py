"""Idempotent write statements, one builder per row kind, shared by live writes and outbox replay.

Every statement can run twice with the same rows and leave the database as after once:
snapshots and failures hit a partial unique index (ON CONFLICT DO NOTHING), runs upsert on
run_id, spot rows on (metal, timestamp_floor), Goldback rates on date.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from staktrakr.models import GoldbackRate, PollerRun, PriceObservation, ProviderFailure, SpotPrice
from staktrakr.store.database import Statement

ROWS_PER_STATEMENT = 200


def _multi_insert(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], tail: str) -> list[Statement]:
    """Multi-row INSERT statements (chunked to stay under SQLite's variable limit)."""
    statements: list[Statement] = []
    placeholder = "(" + ", ".join("?" for _ in columns) + ")"
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
            + ", ".join(placeholder for _ in chunk)
            + f" {tail}"
        )
        statements.append((sql, [value for row in chunk for value in row]))
    return statements


SNAPSHOT_COLUMNS = (
    "scraped_at", "window_start", "coin_slug", "vendor", "price", "source", "confidence",
    "is_failed", "in_stock", "poller_id", "run_id", "evidence",
)


def snapshot_statements(rows: Sequence[PriceObservation]) -> list[Statement]:
    values = [
        (r.scraped_at, r.window_start, r.coin_slug, r.vendor, r.price, r.source, r.confidence,
         int(r.is_failed), int(r.in_stock), r.poller_id, r.run_id, r.evidence)
        for r in rows
    ]
    return _multi_insert("price_snapshots", SNAPSHOT_COLUMNS, values, "ON CONFLICT DO NOTHING")


FAILURE_COLUMNS = ("coin_slug", "vendor_id", "url", "error", "failed_at", "run_id", "poller_id")


def failure_statements(rows: Sequence[ProviderFailure]) -> list[Statement]:
    values = [(r.coin_slug, r.vendor_id, r.url, r.error, r.failed_at, r.run_id, r.poller_id) for r in rows]
    return _multi_insert("provider_failures", FAILURE_COLUMNS, values, "ON CONFLICT DO NOTHING")


RUN_COLUMNS = ("run_id", "poller_id", "job", "started_at", "finished_at", "status", "total", "captured",
               "failures", "fbp_filled", "error", "vision")


def run_statements(rows: Sequence[PollerRun]) -> list[Statement]:
    values = [tuple(getattr(r, column) for column in RUN_COLUMNS) for r in rows]
    # A finished run never goes back to running when an older copy is replayed after it, and a
    # run recovered from its journal (`interrupted`) only replaces `running` or the `orphaned`
    # guess, never the run's own final ok/error.
    tail = (
        "ON CONFLICT(run_id) DO UPDATE SET finished_at = excluded.finished_at, status = excluded.status, "
        "total = excluded.total, captured = excluded.captured, failures = excluded.failures, "
        "fbp_filled = excluded.fbp_filled, error = excluded.error, vision = excluded.vision "
        "WHERE poller_runs.status = 'running' OR excluded.status IN ('ok', 'error') "
        "OR (excluded.status = 'interrupted' AND poller_runs.error LIKE 'orphaned:%')"
    )
    return _multi_insert("poller_runs", RUN_COLUMNS, values, tail)


def orphaned_runs_statement(run: PollerRun) -> Statement:
    """Close the `running` rows of `run`'s poller and job (or of no job: rows from before `job`
    existed) left by a process that ended before finishing, as errors at `run.started_at`;
    idempotent, and never touches `run` itself."""
    sql = ("UPDATE poller_runs SET status = 'error', finished_at = ?, "
           "error = 'orphaned: the process ended before finishing' "
           "WHERE poller_id = ? AND status = 'running' AND run_id != ? AND (job = ? OR job IS NULL)")
    return sql, (run.started_at, run.poller_id, run.run_id, run.job)


SPOT_COLUMNS = ("metal", "spot", "source", "poller_id", "timestamp", "timestamp_floor", "scraped_at",
                "provider_timestamp")


def spot_statements(rows: Sequence[SpotPrice]) -> list[Statement]:
    """First valid value for a slot wins; a rerun in the same slot changes nothing."""
    values = [tuple(getattr(r, column) for column in SPOT_COLUMNS) for r in rows]
    return _multi_insert("spot_prices", SPOT_COLUMNS, values, "ON CONFLICT(metal, timestamp_floor) DO NOTHING")


GOLDBACK_COLUMNS = ("date", "g1_usd", "source", "scraped_at", "poller_id")


def goldback_statements(rows: Sequence[GoldbackRate]) -> list[Statement]:
    values = [tuple(getattr(r, column) for column in GOLDBACK_COLUMNS) for r in rows]
    return _multi_insert("goldback_rates", GOLDBACK_COLUMNS, values, "ON CONFLICT(date) DO NOTHING")


@dataclass(frozen=True)
class RowKind:
    model: type[BaseModel]
    statements: Callable[[Sequence[Any]], list[Statement]]


ROW_KINDS: dict[str, RowKind] = {
    "price_snapshots": RowKind(PriceObservation, snapshot_statements),
    "provider_failures": RowKind(ProviderFailure, failure_statements),
    "poller_runs": RowKind(PollerRun, run_statements),
    "spot_prices": RowKind(SpotPrice, spot_statements),
    "goldback_rates": RowKind(GoldbackRate, goldback_statements),
}

_KIND_OF_MODEL = {kind.model: name for name, kind in ROW_KINDS.items()}


def kind_of(row: BaseModel) -> str:
    return _KIND_OF_MODEL[type(row)]
