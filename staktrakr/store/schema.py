"""The database contract (DESIGN.md section 4): the existing tables, then numbered additive migrations.

The base DDL uses the existing system's table and index names with IF NOT EXISTS, so it is a
no-op on the shared database. Migrations only add (columns with defaults, tables, indexes),
are recorded in `schema_migrations`, and never touch existing rows, duplicates included.
"""

from __future__ import annotations

from dataclasses import dataclass

# The rows idx_snapshots_day holds (real prices, no vision readings: rules/scoring.py SOURCE_VISION).
# A query can only use a partial index whose WHERE terms it repeats: the per-date aggregates
# (store/queries/prices.py) use this text verbatim.
DAY_INDEX_ROWS = "is_failed = 0 AND price > 0 AND source != 'gemini-vision'"
# Building an index over price_snapshots reads every row once: about 3 s per million rows on a
# local file, so minutes on a large shared database; done once, by the first job after an upgrade.
INDEX_BUILD_TIMEOUT_S = 900.0

BASE_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS price_snapshots (
      id           INTEGER PRIMARY KEY AUTOINCREMENT,
      scraped_at   TEXT NOT NULL,
      window_start TEXT NOT NULL,
      coin_slug    TEXT NOT NULL,
      vendor       TEXT NOT NULL,
      price        REAL,
      source       TEXT NOT NULL,
      confidence   INTEGER,
      is_failed    INTEGER NOT NULL DEFAULT 0,
      in_stock     INTEGER NOT NULL DEFAULT 1
    )""",
    "CREATE INDEX IF NOT EXISTS idx_coin_window ON price_snapshots(coin_slug, window_start)",
    "CREATE INDEX IF NOT EXISTS idx_window ON price_snapshots(window_start)",
    "CREATE INDEX IF NOT EXISTS idx_coin_date ON price_snapshots(coin_slug, substr(window_start, 1, 10))",
    "CREATE INDEX IF NOT EXISTS idx_coin_vendor_stock ON price_snapshots(coin_slug, vendor, in_stock, scraped_at DESC)",
    """CREATE TABLE IF NOT EXISTS poller_runs (
      id           INTEGER PRIMARY KEY AUTOINCREMENT,
      run_id       TEXT NOT NULL UNIQUE,
      poller_id    TEXT NOT NULL,
      started_at   TEXT NOT NULL,
      finished_at  TEXT,
      status       TEXT NOT NULL DEFAULT 'running',
      total        INTEGER,
      captured     INTEGER,
      failures     INTEGER,
      fbp_filled   INTEGER,
      error        TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS idx_runs_poller_started ON poller_runs(poller_id, started_at DESC)",
    """CREATE TABLE IF NOT EXISTS provider_failures (
      id         INTEGER PRIMARY KEY AUTOINCREMENT,
      coin_slug  TEXT NOT NULL,
      vendor_id  TEXT NOT NULL,
      url        TEXT,
      error      TEXT,
      failed_at  TEXT NOT NULL DEFAULT (datetime('now'))
    )""",
    "CREATE INDEX IF NOT EXISTS idx_pf_coin_vendor ON provider_failures(coin_slug, vendor_id)",
    "CREATE INDEX IF NOT EXISTS idx_pf_failed_at ON provider_failures(failed_at)",
    """CREATE TABLE IF NOT EXISTS spot_prices (
      id              INTEGER PRIMARY KEY AUTOINCREMENT,
      metal           TEXT NOT NULL,
      spot            REAL NOT NULL,
      source          TEXT NOT NULL DEFAULT 'metalprice-api',
      poller_id       TEXT NOT NULL,
      timestamp       TEXT NOT NULL,
      timestamp_floor TEXT NOT NULL,
      scraped_at      TEXT NOT NULL DEFAULT (datetime('now')),
      UNIQUE(metal, timestamp_floor)
    )""",
    "CREATE INDEX IF NOT EXISTS idx_spot_metal_floor ON spot_prices(metal, timestamp_floor DESC)",
    "CREATE INDEX IF NOT EXISTS idx_spot_floor ON spot_prices(timestamp_floor DESC)",
    """CREATE TABLE IF NOT EXISTS provider_coins (
      slug       TEXT PRIMARY KEY,
      metal      TEXT NOT NULL,
      name       TEXT NOT NULL,
      weight_oz  REAL NOT NULL DEFAULT 1.0,
      fbp_url    TEXT,
      notes      TEXT,
      enabled    INTEGER NOT NULL DEFAULT 1,
      created_at TEXT NOT NULL DEFAULT (datetime('now')),
      updated_at TEXT NOT NULL DEFAULT (datetime('now'))
    )""",
    """CREATE TABLE IF NOT EXISTS provider_vendors (
      id          INTEGER PRIMARY KEY AUTOINCREMENT,
      coin_slug   TEXT NOT NULL REFERENCES provider_coins(slug),
      vendor_id   TEXT NOT NULL,
      vendor_name TEXT NOT NULL,
      url         TEXT,
      enabled     INTEGER NOT NULL DEFAULT 1,
      selector    TEXT,
      hints       TEXT,
      created_at  TEXT NOT NULL DEFAULT (datetime('now')),
      updated_at  TEXT NOT NULL DEFAULT (datetime('now')),
      UNIQUE(coin_slug, vendor_id)
    )""",
)

MIGRATIONS_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""


@dataclass(frozen=True)
class Migration:
    """One additive step. `add_columns` are (table, column, type) added only when absent.
    `timeout_s`: how long its statements may take (None: DB_STATEMENT_TIMEOUT_S), for a step that
    reads every row once, such as an index over price_snapshots."""

    version: int
    name: str
    add_columns: tuple[tuple[str, str, str], ...] = ()
    statements: tuple[str, ...] = ()
    timeout_s: float | None = None


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "price_snapshots idempotency key: poller_id, run_id, evidence + partial unique index",
        add_columns=(
            ("price_snapshots", "poller_id", "TEXT"),
            ("price_snapshots", "run_id", "TEXT"),
            ("price_snapshots", "evidence", "TEXT"),
        ),
        # Old rows have poller_id NULL and stay outside the index, so their duplicates never block it.
        statements=(
            """CREATE UNIQUE INDEX IF NOT EXISTS uq_snapshots_observation
               ON price_snapshots(poller_id, window_start, coin_slug, vendor, source, is_failed)
               WHERE poller_id IS NOT NULL""",
        ),
    ),
    Migration(
        2,
        "provider_failures idempotency key: run_id, poller_id + partial unique index",
        add_columns=(
            ("provider_failures", "run_id", "TEXT"),
            ("provider_failures", "poller_id", "TEXT"),
        ),
        statements=(
            """CREATE UNIQUE INDEX IF NOT EXISTS uq_failures_run_target
               ON provider_failures(run_id, coin_slug, vendor_id) WHERE run_id IS NOT NULL""",
        ),
    ),
    Migration(
        3,
        "poller_runs.job (scrape, retry, spot, goldback, publish, merge)",
        add_columns=(("poller_runs", "job", "TEXT"),),
        statements=("CREATE INDEX IF NOT EXISTS idx_runs_job_started ON poller_runs(job, poller_id, started_at DESC)",),
    ),
    Migration(
        4,
        "spot_prices.provider_timestamp (the API's own time, apart from slot and fetch time)",
        add_columns=(("spot_prices", "provider_timestamp", "TEXT"),),
    ),
    Migration(
        5,
        "goldback_rates keyed by the publisher's effective date",
        statements=(
            """CREATE TABLE IF NOT EXISTS goldback_rates (
              id         INTEGER PRIMARY KEY AUTOINCREMENT,
              date       TEXT NOT NULL,
              g1_usd     REAL NOT NULL,
              source     TEXT NOT NULL DEFAULT 'goldback.com',
              scraped_at TEXT NOT NULL,
              poller_id  TEXT,
              UNIQUE(date)
            )""",
        ),
    ),
    Migration(
        6,
        "index for the newest-row-per-vendor reads of publish and retry",
        statements=(
            """CREATE INDEX IF NOT EXISTS idx_snapshots_poller_window
               ON price_snapshots(poller_id, window_start) WHERE poller_id IS NOT NULL""",
        ),
    ),
    Migration(
        7,
        "alert_state: one row per alert, shared by every poller (fires once, repeats, resolves)",
        statements=(
            """CREATE TABLE IF NOT EXISTS alert_state (
              alert_key   TEXT PRIMARY KEY,
              scope       TEXT,
              first_seen  TEXT NOT NULL,
              last_sent   TEXT,
              sent_by     TEXT,
              message     TEXT,
              resolved_at TEXT
            )""",
        ),
    ),
    Migration(
        8,
        "poller_runs.vision: the vision cross-check's counters of a scrape run (JSON)",
        add_columns=(("poller_runs", "vision", "TEXT"),),
    ),
    Migration(
        9,
        "index for the per-date price aggregates of publish's history and the dashboard",
        # Ordered like their GROUP BY (date, coin, vendor, stock state) and covering it (price, and
        # window_start for the date SQLite 3.40 computes again rather than take from the index),
        # over the rows they read only: aggregation walks a date range with no sort and no table
        # lookups (a quarter faster than without window_start).
        statements=(
            f"""CREATE INDEX IF NOT EXISTS idx_snapshots_day
               ON price_snapshots(substr(window_start, 1, 10), coin_slug, vendor, in_stock, price, window_start)
               WHERE {DAY_INDEX_ROWS}""",
        ),
        timeout_s=INDEX_BUILD_TIMEOUT_S,
    ),
)
