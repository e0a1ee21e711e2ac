"""What publish's unchanged check reads: the newest row of each table that feeds the tree.

Every writer only inserts into these tables (spot and Goldback skip a conflicting row), and ids
come from AUTOINCREMENT, so a table whose MAX(id) and row count are the same has the same rows.
MAX(id) is one step down the primary key; the counts are only taken of the small tables (a
count of price_snapshots would walk an index of every row).
"""

from __future__ import annotations

from typing import Any

from staktrakr.store.session import Store

_MARKS = """
SELECT (SELECT MAX(id) FROM price_snapshots) AS price_id,
       (SELECT MAX(id) FROM spot_prices) AS spot_id,
       (SELECT COUNT(*) FROM spot_prices) AS spot_rows,
       (SELECT MAX(id) FROM goldback_rates) AS goldback_id,
       (SELECT COUNT(*) FROM goldback_rates) AS goldback_rows
"""


def feeding_marks(store: Store) -> dict[str, Any]:
    """Newest id (and, for spot_prices and goldback_rates, row count) of each table the published
    tree is built from, in one query; None for an empty table. Raises StoreUnavailable /
    StatementRejected (publish needs the database)."""
    rows = store.db.query(_MARKS)
    return dict(rows[0]) if rows else {}
