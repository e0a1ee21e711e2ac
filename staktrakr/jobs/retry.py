"""The retry job: re-scrape the targets whose latest row in a window failed, read from the database.

Failed targets come from `price_snapshots` (this poller, the window, newest row per coin and
vendor has is_failed = 1), never from a temp file. Each is fetched with the vendor's fetchers
rotated so the one that failed goes last, under the same politeness as a scrape. Rows land in
the retried window: a success adds a success row (its own source/is_failed key), a repeated
failure hits the unique key and adds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from staktrakr.catalog import Target
from staktrakr.errors import ConfigError, JobFailed, StatementRejected, StoreUnavailable
from staktrakr.fetch.registry import FETCHER_OF_SOURCE
from staktrakr.jobs.harness import JobRun, RunReport
from staktrakr.jobs.scrape import ProgressCallback, ScrapeOptions, ScrapeResult, scrape_cycle
from staktrakr.rules.scoring import SOURCE_VISION, fetcher_source
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.store.queries.prices import poller_window_rows
from staktrakr.timeutil import utcnow, window_start

WINDOW_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:(00|15|30|45):00Z$")


@dataclass
class WindowState:
    """What the database holds for one poller and window: failed targets and in-stock prices."""

    failed_sources: dict[tuple[str, str], str] = field(default_factory=dict)   # (coin, vendor) -> failing source
    in_stock_prices: dict[str, list[float]] = field(default_factory=dict)      # coin -> latest in-stock prices


@dataclass
class RetryResult:
    window_start: str
    failed_found: list[tuple[str, str]]
    not_in_catalog: list[tuple[str, str]]
    scrape: ScrapeResult | None
    run: RunReport | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "window_start": self.window_start,
            "failed_found": [f"{coin}/{vendor}" for coin, vendor in self.failed_found],
            "not_in_catalog": [f"{coin}/{vendor}" for coin, vendor in self.not_in_catalog],
            "retried": self.scrape.to_json() if self.scrape else None,
        }


def check_window(window: str) -> str:
    if not WINDOW_PATTERN.match(window) or not _is_real_time(window):
        raise ConfigError(f"--window {window}: expected a 15-minute window like 2026-03-15T17:30:00Z")
    return window


def _is_real_time(window: str) -> bool:
    try:
        datetime.strptime(window, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return True


def read_window(store: Store, poller_id: str, window: str) -> WindowState:
    """One query: every row this poller wrote in the window; the newest per (coin, vendor) decides."""
    rows = poller_window_rows(store, poller_id, window)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        if row["source"] == SOURCE_VISION:  # a cross-check reading, not the target's scrape
            continue
        latest[(row["coin_slug"], row["vendor"])] = row
    state = WindowState()
    for key, row in latest.items():
        if row["is_failed"]:
            state.failed_sources[key] = row["source"]
        elif row["in_stock"] and row["price"] is not None:
            state.in_stock_prices.setdefault(key[0], []).append(float(row["price"]))
    return state


def rotated_order(fetchers: Sequence[str], failed_source: str) -> list[str]:
    """The vendor's fetchers with the one that failed moved last (fallbacks first)."""
    failed = FETCHER_OF_SOURCE.get(fetcher_source(failed_source), failed_source)
    return [name for name in fetchers if name != failed] + ([failed] if failed in fetchers else [])


def run_retry(settings: Settings, store: Store, catalog_targets: Sequence[Target], *, window: str | None = None,
              dry_run: bool = False, progress: ProgressCallback | None = None,
              keep_evidence: bool | None = None) -> RetryResult:
    """Re-scrape this poller's failed targets of `window` (default: the current window), as one
    `retry` run (a run row also when there is nothing to retry)."""
    window = check_window(window) if window else window_start(utcnow())
    with JobRun(settings, store, "retry", dry_run=dry_run) as run:  # replays the outbox first
        try:
            state = read_window(store, settings.poller_id, window)
        except StoreUnavailable as exc:
            raise JobFailed(f"retry: cannot read failed targets from the database ({exc})") from None
        except StatementRejected as exc:
            if not exc.missing_table:
                raise
            state = WindowState()
        by_key = {target.key: target for target in catalog_targets}
        failed = sorted(state.failed_sources)
        targets = [by_key[key] for key in failed if key in by_key]
        missing = [key for key in failed if key not in by_key]
        if not targets:
            run.finish(total=0, captured=0, failures=0, note=f"nothing to retry in window {window}")
            return RetryResult(window, failed, missing, None, run=run.report)
        orders = {t.key: rotated_order(t.rules.fetchers, state.failed_sources[t.key]) for t in targets}
        scrape = scrape_cycle(run, targets, ScrapeOptions(
            job="retry", window=window, dry_run=dry_run, keep_evidence=keep_evidence, orders=orders,
            window_prices=state.in_stock_prices,
            progress=progress,
        ))
        return RetryResult(window, failed, missing, scrape, run=run.report)
