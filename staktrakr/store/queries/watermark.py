"""What publish's unchanged check reads: the newest row id and a row count of each table that
feeds the tree.

Every writer only inserts into these tables (spot and Goldback skip a conflicting row), and ids
come from AUTOINCREMENT, so a table whose MAX(id) and row count are the same has the same rows:
a new row moves MAX(id), a deleted one (e.g. `DELETE FROM price_snapshots WHERE poller_id =
'demo'`) the count. A row updated in place moves neither: `staktrakr publish --full` rebuilds
then. MAX(id) is one step down the primary key.

price_snapshots is counted over the dates the tree is built from (COUNTED_DAYS before its newest
window: the 30-day history and the last day), a range of idx_window, so the check costs the same
with a month or years of rows (counting every row takes about 10 ms per million on a local file).
A deletion of older rows (which only reaches the tree through a stale coin's last day or a last
known price) is picked up by the next build, that is the next new row, or by `--full`.

The newest row of each table is also printed (its times and keys): a database restored from a
backup and written again reuses ids, and may well reach the same newest id and count, but not
with the same rows.
"""

from __future__ import annotations

from typing import Any

from staktrakr.store.session import Store

COUNTED_DAYS = 32
_COUNTED_SINCE = f"(SELECT date(MAX(window_start), '-{COUNTED_DAYS} days') FROM price_snapshots)"
_PRICE_ROW = "ifnull(scraped_at, '') || ' ' || window_start || ' ' || coin_slug || ' ' || vendor"
_MARKS = f"""
SELECT (SELECT MAX(id) FROM price_snapshots) AS price_id,
       (SELECT {_PRICE_ROW} FROM price_snapshots WHERE id = (SELECT MAX(id) FROM price_snapshots)) AS price_newest,
       {_COUNTED_SINCE} AS price_rows_since,
       (SELECT COUNT(*) FROM price_snapshots WHERE window_start >= {_COUNTED_SINCE}) AS price_rows,
       (SELECT MAX(id) FROM spot_prices) AS spot_id,
       (SELECT COUNT(*) FROM spot_prices) AS spot_rows,
       (SELECT metal || ' ' || ifnull(timestamp_floor, '') || ' ' || ifnull(scraped_at, '') FROM spot_prices
        WHERE id = (SELECT MAX(id) FROM spot_prices)) AS spot_newest,
       (SELECT MAX(id) FROM goldback_rates) AS goldback_id,
       (SELECT COUNT(*) FROM goldback_rates) AS goldback_rows,
       (SELECT date || ' ' || ifnull(scraped_at, '') FROM goldback_rates
        WHERE id = (SELECT MAX(id) FROM goldback_rates)) AS goldback_newest
"""


def feeding_marks(store: Store) -> dict[str, Any]:
    """Newest id, that row printed and a row count of each table the published tree is built
    from, in one query (id None for an empty table; price_snapshots counted from the date
    `price_rows_since` on, see the module). Raises StoreUnavailable / StatementRejected (publish needs the database)."""
    rows = store.db.query(_MARKS)
    return dict(rows[0]) if rows else {}


def price_row(store: Store, row_id: int | None) -> str | None:
    """The price_snapshots row `row_id` printed as `feeding_marks` prints the newest (None: no such row)."""
    rows = store.db.query(f"SELECT {_PRICE_ROW} AS printed FROM price_snapshots WHERE id = ?", (row_id or 0,))
    return rows[0]["printed"] if rows else None


def rows_kept(store: Store, since: str | None, upto_id: int | None) -> int:
    """How many price_snapshots rows of a window from `since` on have an id up to `upto_id` (the rows
    a count taken when `upto_id` was the newest id counted, less any deleted since): a range of
    idx_window."""
    rows = store.db.query("SELECT COUNT(*) AS n FROM price_snapshots WHERE window_start >= ? AND id <= ?",
                          (since or "", upto_id or 0))
    return int(rows[0]["n"]) if rows else 0


def rows_added(store: Store, since: str | None, after_id: int | None) -> int:
    """How many price_snapshots rows of a window from `since` on have an id above `after_id`: a range
    of the primary key (`+`: not the longer range of idx_window)."""
    rows = store.db.query("SELECT COUNT(*) AS n FROM price_snapshots WHERE id > ? AND +window_start >= ?",
                          (after_id or 0, since or ""))
    return int(rows[0]["n"]) if rows else 0
