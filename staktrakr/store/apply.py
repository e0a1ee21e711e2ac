"""Applying outbox-shaped ops (`[{"kind", "rows": [...]}, ...]`) to the database: one batch, and
when the database refuses it, the refused rows found and kept apart.

A batch is one transaction: one bad row (a trigger, a constraint) refuses all of it. Rather
than keep a whole cycle in the rejected file for one row, `apply_ops` splits a refused batch
in halves until each refused part is a single row (about 2·k·log2(n) round trips for k bad
rows out of n, only on this failure path). Every statement is idempotent (store/writes.py),
so the parts stored along the way are stored once whatever happens next.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from staktrakr.errors import StatementRejected
from staktrakr.store.database import Database, Statement
from staktrakr.store.writes import ROW_KINDS


@dataclass(frozen=True)
class RowGroup:
    """One row and the statements that write it."""

    kind: str
    row: dict[str, Any]
    statements: list[Statement]


@dataclass
class Applied:
    """What reached the database: rows taken per kind (a duplicate a unique index dropped is not
    counted), and the rows it refused with the first refusal."""

    stored: Counter[str] = field(default_factory=Counter)
    refused: list[RowGroup] = field(default_factory=list)
    refusal: StatementRejected | None = None

    def refused_ops(self) -> list[dict[str, Any]]:
        ops: dict[str, list[dict[str, Any]]] = {}
        for group in self.refused:
            ops.setdefault(group.kind, []).append(group.row)
        return [{"kind": kind, "rows": rows} for kind, rows in ops.items()]


def statements_of(ops: list[dict[str, Any]]) -> tuple[list[Statement], list[str]]:
    """Statements for ops (multi-row, per kind) and the kind each one writes; KeyError for an unknown
    kind, pydantic ValidationError for a row that is not valid."""
    statements: list[Statement] = []
    kinds: list[str] = []
    for op in ops:
        kind = ROW_KINDS[op["kind"]]
        made = kind.statements([kind.model.model_validate(row) for row in op["rows"]])
        statements += made
        kinds += [op["kind"]] * len(made)
    return statements, kinds


def row_groups(ops: list[dict[str, Any]]) -> list[RowGroup]:
    """One group per row, in the ops' order (the run row stays last)."""
    groups = []
    for op in ops:
        kind = ROW_KINDS[op["kind"]]
        for row in op["rows"]:
            groups.append(RowGroup(op["kind"], row, kind.statements([kind.model.model_validate(row)])))
    return groups


def taken(results: Sequence[Any], kinds: Sequence[str]) -> Counter[str]:
    """Rows each kind's statements changed, from the batch results."""
    counts: Counter[str] = Counter()
    for result, kind in zip(results, kinds, strict=False):
        counts[kind] += int(getattr(result, "rows_affected", 0) or 0)
    return counts


def apply_ops(db: Database, ops: list[dict[str, Any]], timeout_s: float | None = None) -> Applied:
    """Apply ops in one batch; when the database refuses it, store every row it accepts and return
    the refused ones. StoreUnavailable propagates (the caller keeps the whole ops: re-applying
    the rows already stored changes nothing)."""
    statements, kinds = statements_of(ops)
    applied = Applied()
    try:
        applied.stored = taken(db.batch(statements, timeout_s=timeout_s), kinds)
        return applied
    except StatementRejected as exc:
        applied.refusal = exc
    pending = [row_groups(ops)]
    while pending:
        groups = pending.pop(0)
        statements = [statement for group in groups for statement in group.statements]
        try:
            results = db.batch(statements, timeout_s=timeout_s)
        except StatementRejected as exc:
            if len(groups) == 1:
                applied.refused.append(groups[0])
                applied.refusal = applied.refusal or exc
                continue
            middle = len(groups) // 2
            pending[0:0] = [groups[:middle], groups[middle:]]
            continue
        applied.stored += taken(results, [group.kind for group in groups for _ in group.statements])
    return applied
