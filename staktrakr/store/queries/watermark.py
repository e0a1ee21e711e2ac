"""What publish's unchanged check reads: the newest row id and the row count of each table that
feeds the tree.

Every writer only inserts into these tables (spot and Goldback skip a conflicting row), and ids
come from AUTOINCREMENT, so a table whose MAX(id) and row count are the same has the same rows:
a new row moves MAX(id), a deleted one (e.g. `DELETE FROM price_snapshots WHERE poller_id =
'demo'`) the count. A row updated in place moves neither: `staktrakr publish --full` rebuilds
then. MAX(id) is one step down the primary key; SQLite counts a table on its smallest index
(price_snapshots: about 20 ms per million rows on a local file, see bench/publish.py).
"""

from __future__ import annotations

from typing import Any

from staktrakr.store.session import Store

_MARKS = """
SELECT (SELECT MAX(id) FROM price_snapshots) AS price_id,
       (SELECT COUNT(*) FROM price_snapshots) AS price_rows,
       (SELECT MAX(id) FROM spot_prices) AS spot_id,
       (SELECT COUNT(*) FROM spot_prices) AS spot_rows,
       (SELECT MAX(id) FROM goldback_rates) AS goldback_id,
       (SELECT COUNT(*) FROM goldback_rates) AS goldback_rows
"""


def feeding_marks(store: Store) -> dict[str, Any]:
    """Newest id and row count of each table the published tree is built from, in one query (id
    None for an empty table). Raises StoreUnavailable / StatementRejected (publish needs the database)."""
    rows = store.db.query(_MARKS)
    return dict(rows[0]) if rows else {}


def rows_after(store: Store, price_id: int) -> int:
    """How many price_snapshots rows have an id above `price_id` (a range of the primary key)."""
    rows = store.db.query("SELECT COUNT(*) AS n FROM price_snapshots WHERE id > ?", (price_id,))
    return int(rows[0]["n"]) if rows else 0
