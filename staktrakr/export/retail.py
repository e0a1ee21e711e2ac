"""Builders for the retail files: per-coin latest.json, latest.json, manifest.json, providers.json.

Pure functions. `coin_snapshot` turns a coin's recent observations (newest row per vendor and
window, all pollers) into a CoinSnapshot; merge builds CoinSnapshots from branch files instead.
Both render through `coin_latest_doc` / `latest_index_doc` / `manifest_doc`, so the file shapes
exist once. Rules (DESIGN.md sections 8 and 11):
- live: a vendor's newest row is at most LIVE_FOR old; medians and lows use live in-stock prices
  (carried-over prices only when no vendor is live);
- carry-over: a vendor whose newest row is older, but in stock and within CARRY_FOR, is shown
  with source `turso_last_known`, `stale: true` and `stale_since` (the time it was seen);
- windows_24h: the last WINDOWS_24H windows, in-stock prices only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from staktrakr.export.model import LAST_KNOWN_SOURCE, CoinSnapshot, VendorQuote, WindowPrice
from staktrakr.export.stats import lowest, money, upper_median
from staktrakr.timeutil import WINDOW, floor_window, iso_z, parse_time

if TYPE_CHECKING:  # the catalog model (and the fetchers it names) is only loaded by the builds that use it
    from staktrakr.catalog import Catalog

LIVE_FOR = timedelta(hours=2)
CARRY_FOR = timedelta(hours=24)
WINDOWS_24H = 96

ENDPOINTS = {
    "latest": "api/latest.json",
    "slug_latest": "api/{slug}/latest.json",
    "history_7d": "api/{slug}/history-7d.json",
    "history_30d": "api/{slug}/history-30d.json",
    "providers": "api/providers.json",
}


def window_text(moment: datetime) -> str:
    return floor_window(moment).strftime("%Y-%m-%dT%H:%M:00Z")


def first_window(latest_window: str) -> str:
    """The oldest of the WINDOWS_24H windows ending at `latest_window`."""
    return window_text(parse_time(latest_window) - WINDOW * (WINDOWS_24H - 1))


def normal_time(text: str) -> str:
    """Any stored timestamp as ISO with milliseconds and Z (one format in every file)."""
    return iso_z(parse_time(text))


def _is_price(row: WindowPrice) -> bool:
    return row.in_stock and row.price is not None and row.price > 0


def vendors_needing_last_known(rows: Iterable[WindowPrice], as_of: datetime) -> list[str]:
    """Out-of-stock vendors whose last in-stock price is not among `rows` (publish looks it up)."""
    by_vendor: dict[str, list[WindowPrice]] = defaultdict(list)
    for row in rows:
        by_vendor[row.vendor].append(row)
    needing = []
    for vendor, vendor_rows in sorted(by_vendor.items()):
        newest = max(vendor_rows, key=lambda r: (r.scraped_at, r.window_start))
        if parse_time(newest.scraped_at) < as_of - CARRY_FOR or _is_price(newest):
            continue
        if not any(_is_price(r) for r in vendor_rows):
            needing.append(vendor)
    return needing


def coin_snapshot(
    slug: str,
    rows: Iterable[WindowPrice],
    as_of: datetime,
    latest_window: str,
    last_in_stock: Mapping[str, tuple[float, str]] | None = None,
    is_stale: bool = False,
) -> CoinSnapshot:
    """A coin's state at `as_of` from its newest row per vendor and window (all pollers)."""
    by_vendor: dict[str, list[WindowPrice]] = defaultdict(list)
    for row in rows:
        by_vendor[row.vendor].append(row)
    snapshot = CoinSnapshot(slug=slug, window_start=latest_window, is_stale=is_stale)
    since_window = first_window(latest_window)
    for vendor, vendor_rows in sorted(by_vendor.items()):
        vendor_rows.sort(key=lambda r: (r.scraped_at, r.window_start))
        for row in vendor_rows:
            if _is_price(row) and since_window <= row.window_start <= latest_window:
                snapshot.windows.setdefault(row.window_start, {})[vendor] = float(row.price)  # type: ignore[arg-type]
        recent = [r for r in vendor_rows if parse_time(r.scraped_at) >= as_of - CARRY_FOR]
        if not recent:
            continue
        newest = recent[-1]
        seen_at = normal_time(newest.scraped_at)
        snapshot.availability_seen[vendor] = seen_at
        if _is_price(newest):
            live = parse_time(newest.scraped_at) >= as_of - LIVE_FOR
            snapshot.quotes[vendor] = VendorQuote(
                price=float(newest.price),  # type: ignore[arg-type]
                confidence=newest.confidence if live else None,
                source=newest.source if live else LAST_KNOWN_SOURCE,
                observed_at=seen_at,
                stale_since=None if live else seen_at,
            )
            snapshot.availability[vendor] = True
            continue
        snapshot.availability[vendor] = False
        priced = [r for r in vendor_rows if _is_price(r)]
        known = (float(priced[-1].price), priced[-1].scraped_at) if priced else (last_in_stock or {}).get(vendor)  # type: ignore[arg-type]
        if known is not None:
            snapshot.last_known_price[vendor] = known[0]
            snapshot.last_available_date[vendor] = normal_time(known[1])[:10]
    return snapshot


def _median_set(snapshot: CoinSnapshot) -> list[float]:
    live = [q.price for q in snapshot.quotes.values() if not q.stale]
    return live or [q.price for q in snapshot.quotes.values()]


def _quote_doc(quote: VendorQuote) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "price": money(quote.price),
        "confidence": quote.confidence,
        "source": quote.source,
        "inStock": True,
    }
    if quote.stale:
        doc["stale"] = True
        doc["stale_since"] = quote.stale_since
    return doc


def vendor_order(snapshot: CoinSnapshot) -> list[str]:
    """Live vendors, then carried-over ones, each alphabetical (the reference files' order)."""
    live = sorted(v for v, q in snapshot.quotes.items() if not q.stale)
    stale = sorted(v for v, q in snapshot.quotes.items() if q.stale)
    return live + stale


def window_doc(window_start: str, prices: Mapping[str, float]) -> dict[str, Any]:
    values = list(prices.values())
    return {
        "window": window_start[:-1] + ".000Z" if window_start.endswith(":00Z") else window_start,
        "median": money(upper_median(values)),
        "low": money(lowest(values)),
        "vendors": {vendor: money(prices[vendor]) for vendor in sorted(prices)},
    }


def coin_latest_doc(snapshot: CoinSnapshot) -> dict[str, Any]:
    """api/{slug}/latest.json."""
    prices = _median_set(snapshot)
    order = vendor_order(snapshot)
    availability_order = order + sorted(v for v in snapshot.availability if v not in snapshot.quotes)
    windows = sorted(w for w, prices_by_vendor in snapshot.windows.items() if prices_by_vendor)
    windows = [w for w in windows if w >= first_window(snapshot.window_start)][-WINDOWS_24H:]
    return {
        "slug": snapshot.slug,
        "window_start": snapshot.window_start,
        "median_price": money(upper_median(prices)),
        "lowest_price": money(lowest(prices)),
        "vendors": {vendor: _quote_doc(snapshot.quotes[vendor]) for vendor in order},
        "availability_by_site": {v: snapshot.availability.get(v, True) for v in availability_order},
        "last_known_price_by_site": {v: money(p) for v, p in sorted(snapshot.last_known_price.items())},
        "last_available_date_by_site": dict(sorted(snapshot.last_available_date.items())),
        "windows_24h": [window_doc(w, snapshot.windows[w]) for w in windows],
    }


def coin_summary(snapshot: CoinSnapshot) -> dict[str, Any]:
    """One coin's entry in api/latest.json."""
    prices = _median_set(snapshot)
    summary: dict[str, Any] = {
        "window_start": snapshot.window_start,
        "median_price": money(upper_median(prices)),
        "lowest_price": money(lowest(prices)),
        "vendor_count": len(prices),
    }
    if snapshot.is_stale:
        summary["is_stale"] = True
    return summary


def latest_index_doc(snapshots: Mapping[str, CoinSnapshot], generated_at: str, window_start: str) -> dict[str, Any]:
    """api/latest.json."""
    return {
        "window_start": window_start,
        "generated_at": generated_at,
        "coin_count": len(snapshots),
        "coins": {slug: coin_summary(snapshots[slug]) for slug in sorted(snapshots)},
    }


def coins_meta(catalog: Catalog) -> dict[str, dict[str, Any]]:
    return {
        slug: {"name": coin.name, "metal": coin.metal, "weight": money(coin.weight_oz, 6)}
        for slug, coin in sorted(catalog.coins.items())
    }


def manifest_doc(
    generated_at: str, latest_window: str, window_count: int, coins: Iterable[str], meta: Mapping[str, Any]
) -> dict[str, Any]:
    """api/manifest.json."""
    coin_list = sorted(set(coins))
    return {
        "generated_at": generated_at,
        "latest_window": latest_window,
        "window_count": window_count,
        "coin_count": len(coin_list),
        "coins": coin_list,
        "coins_meta": {slug: meta[slug] for slug in sorted(meta)},
        "endpoints": dict(ENDPOINTS),
    }


def providers_doc(catalog: Catalog) -> dict[str, dict[str, str]]:
    """api/providers.json: {slug: {vendor: url}} of enabled listings (first URL)."""
    doc: dict[str, dict[str, str]] = {}
    for slug, coin in sorted(catalog.coins.items()):
        urls = {listing.id: listing.all_urls[0] for listing in coin.providers if listing.enabled and listing.all_urls}
        if urls:
            doc[slug] = dict(sorted(urls.items()))
    return doc


def retail_providers_doc(catalog: Catalog) -> dict[str, Any]:
    """retail/providers.json: the catalog's coins in the existing file shape."""
    coins = catalog.to_json_data()["coins"]
    for coin in coins.values():
        coin["weight_oz"] = money(coin["weight_oz"], 6)
    return {"coins": coins}
