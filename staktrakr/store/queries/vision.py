"""Reads for the vision cross-check: what a poller last knew of each target before a cycle.

Vision readings are `price_snapshots` rows of their own `source` (SOURCE_VISION) whose `evidence`
holds the screenshot's SHA-256; the newest one per (coin, vendor) says when the target was last
checked (rotation) and lets an identical screenshot reuse its reading. The newest scraped row says
whether the target failed or scored low last time (checked first). One query over the lookback,
on idx_snapshots_poller_window.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from staktrakr.rules.scoring import SOURCE_VISION
from staktrakr.store.database import Rows
from staktrakr.store.session import Store

VISION_LOOKBACK = timedelta(days=2)

_NEWEST_PER_KIND = f"""
SELECT coin_slug, vendor, is_vision, scraped_at, price, in_stock, is_failed, confidence, evidence FROM (
  SELECT coin_slug, vendor, source = '{SOURCE_VISION}' AS is_vision, scraped_at, price, in_stock, is_failed,
         confidence, evidence,
         ROW_NUMBER() OVER (PARTITION BY coin_slug, vendor, source = '{SOURCE_VISION}'
                            ORDER BY scraped_at DESC, id DESC) AS newest
  FROM price_snapshots
  WHERE poller_id = ? AND window_start >= ?
) WHERE newest = 1
"""


def newest_target_rows(store: Store, poller_id: str, now: datetime,
                       lookback: timedelta = VISION_LOOKBACK) -> Rows | None:
    """For every (coin, vendor) `poller_id` wrote since `now - lookback`: its newest vision row
    (is_vision 1) and its newest scraped row (is_vision 0), each with scraped_at, price (USD or
    None), in_stock, is_failed (0/1), confidence and evidence (JSON text). None when the database
    cannot be reached or has no tables yet (the cycle then checks without history)."""
    since = (now - lookback).strftime("%Y-%m-%dT%H:%M:00Z")
    return store.query_if_available(_NEWEST_PER_KIND, (poller_id, since))
