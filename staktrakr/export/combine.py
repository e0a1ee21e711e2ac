"""Merge the published trees of several poller branches into one (DESIGN.md section 9).

Pure: takes each branch's parsed files (freshest branch first, by manifest generated_at) and
returns the merged files as docs, rendered by the same builders publish uses. Rules:
- per coin and vendor the freshest observation wins (a live quote is dated by the newest window
  of windows_24h holding the vendor, a carried one by `stale_since`, an out-of-stock vendor by
  its file's window; live beats carried at the same time), then the
  publish rules are re-applied at the newest generated_at (older than 2 h -> carried, older
  than 24 h -> dropped); medians, lows, vendor counts and windows_24h are recomputed;
- windows_24h: union per window (the freshest branch's price on a conflict);
- histories: per date the entry with the most samples;
- latest.json / manifest.json rebuilt from the merged coins (newest generated_at);
- spot files: union per slot, one entry per metal and timestamp; Goldback: newest date wins.
Any other file is taken from the freshest branch that has it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from staktrakr.export.goldback import day_from_spot_doc, days_from_year_doc, goldback_spot_doc, goldback_year_doc
from staktrakr.export.history import HISTORY_SPANS, history_doc
from staktrakr.export.model import LAST_KNOWN_SOURCE, CoinSnapshot, VendorQuote
from staktrakr.export.retail import CARRY_FOR, LIVE_FOR, coin_latest_doc, latest_index_doc, manifest_doc, normal_time
from staktrakr.export.spot import entries_from_doc, spot_file_doc, spot_history_doc
from staktrakr.rules.bands import Band
from staktrakr.timeutil import parse_time

COIN_LATEST = re.compile(r"^api/([^/]+)/latest\.json$")
COIN_HISTORY = re.compile(r"^api/([^/]+)/(history-(?:7d|30d)\.json)$")
REBUILT = ("api/latest.json", "api/manifest.json")


@dataclass
class BranchFiles:
    name: str
    head: str
    docs: dict[str, Any] = field(default_factory=dict)  # path under data/ -> parsed JSON

    @property
    def manifest(self) -> dict[str, Any]:
        manifest: dict[str, Any] = self.docs["api/manifest.json"]
        return manifest

    @property
    def generated_at(self) -> str:
        return str(self.manifest.get("generated_at") or "")


def check_branch(branch: BranchFiles) -> None:
    """Raise ValueError naming the file when a branch's parsed files do not have the published shape."""
    manifest = branch.docs.get("api/manifest.json")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("generated_at"), str):
        raise ValueError("api/manifest.json: missing or without generated_at")
    parse_time(manifest["generated_at"])
    for path, doc in branch.docs.items():
        try:
            _check_doc(path, doc)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{path}: {exc or type(exc).__name__}") from None


def _check_doc(path: str, doc: Any) -> None:
    if COIN_LATEST.match(path):
        snapshot_from_doc(doc, False)
    elif path.startswith(("hourly/", "15min/", "spot-history-")):
        entries_from_doc(doc)
    elif path.startswith("goldback-"):
        days_from_year_doc(doc)
    elif path == "api/goldback-spot.json":
        day_from_spot_doc(doc)
    elif COIN_HISTORY.match(path) and not isinstance(doc, list):
        raise ValueError("expected a JSON array")


def snapshot_from_doc(doc: Mapping[str, Any], is_stale: bool, generated_at: str | None = None) -> CoinSnapshot:
    """A coin's latest.json back into a CoinSnapshot (the inverse of coin_latest_doc).

    A live quote is dated by the newest window holding that vendor (else the file's window); the
    file does not keep its scraped_at, which can be up to 15 min later. Given the branch's
    `generated_at`, a live quote of a fresh coin was seen at or after generated_at - LIVE_FOR
    (publish showed it live), so it is dated no earlier than that: merging a branch with itself
    leaves its live vendors live."""
    window_start = doc["window_start"]
    parse_time(window_start)
    snapshot = CoinSnapshot(slug=doc["slug"], window_start=window_start, is_stale=is_stale)
    for window in doc.get("windows_24h", []):
        key = window["window"].replace(".000Z", "Z")
        snapshot.windows[key] = {v: float(p) for v, p in window["vendors"].items()}
    last_window = {v: w for w in sorted(snapshot.windows) for v in snapshot.windows[w]}
    live_since = parse_time(generated_at) - LIVE_FOR if generated_at and not is_stale else None
    for vendor, entry in doc["vendors"].items():
        stale_since = entry.get("stale_since") if entry.get("stale") else None
        seen = parse_time(stale_since or last_window.get(vendor, window_start))
        if stale_since is None and live_since is not None:
            seen = max(seen, live_since)
        snapshot.quotes[vendor] = VendorQuote(
            price=float(entry["price"]), confidence=entry.get("confidence"), source=str(entry["source"]),
            observed_at=normal_time(seen.isoformat()), stale_since=stale_since)
    for vendor, available in doc.get("availability_by_site", {}).items():
        snapshot.availability[vendor] = bool(available)
        snapshot.availability_seen[vendor] = (
            snapshot.quotes[vendor].observed_at if vendor in snapshot.quotes else normal_time(window_start))
    snapshot.last_known_price = {v: float(p) for v, p in doc.get("last_known_price_by_site", {}).items()}
    snapshot.last_available_date = dict(doc.get("last_available_date_by_site", {}))
    return snapshot


def _rank(snapshot: CoinSnapshot, vendor: str) -> tuple[Any, int]:
    quote = snapshot.quotes.get(vendor)
    seen = snapshot.availability_seen.get(vendor) or (quote.observed_at if quote else snapshot.window_start)
    return (parse_time(seen), 0 if quote is not None and quote.stale else 1)


def merge_snapshots(slug: str, snapshots: Sequence[CoinSnapshot], generated_at: str) -> CoinSnapshot:
    """One coin from its snapshots on several branches (freshest branch first)."""
    as_of = parse_time(generated_at)
    window_start = max(s.window_start for s in snapshots)
    # a coin no branch has seen for 24 h keeps its last state, marked stale (as publish does)
    is_stale = all(s.is_stale for s in snapshots) or parse_time(window_start) < as_of - CARRY_FOR
    merged = CoinSnapshot(slug=slug, window_start=window_start, is_stale=is_stale)
    vendors = sorted({v for s in snapshots for v in (*s.quotes, *s.availability)})
    for vendor in vendors:
        holders = [s for s in snapshots if vendor in s.quotes or vendor in s.availability]
        best = max(holders, key=lambda s: _rank(s, vendor))  # max() keeps the first (freshest branch) on ties
        seen, _ = _rank(best, vendor)
        if seen < as_of - CARRY_FOR and not merged.is_stale:
            continue
        merged.availability_seen[vendor] = normal_time(seen.isoformat())
        quote = best.quotes.get(vendor)
        if quote is not None:
            if not quote.stale and seen < as_of - LIVE_FOR and not merged.is_stale:
                quote = replace(quote, confidence=None, source=LAST_KNOWN_SOURCE, stale_since=quote.observed_at)
            merged.quotes[vendor] = quote
            merged.availability[vendor] = True
            continue
        merged.availability[vendor] = False
        if vendor in best.last_known_price:
            merged.last_known_price[vendor] = best.last_known_price[vendor]
        if vendor in best.last_available_date:
            merged.last_available_date[vendor] = best.last_available_date[vendor]
    for snapshot in reversed(snapshots):  # the freshest branch written last wins a conflict
        for window, prices in snapshot.windows.items():
            merged.windows.setdefault(window, {}).update(prices)
    return merged


def merge_histories(docs: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Per date the entry with the most samples (the freshest branch on a tie)."""
    chosen: dict[str, dict[str, Any]] = {}
    for doc in docs:
        for entry in doc:
            current = chosen.get(entry["date"])
            if current is None or entry.get("sample_count", 0) > current.get("sample_count", 0):
                chosen[entry["date"]] = entry
    return chosen


def merge_trees(branches: Sequence[BranchFiles], paths: set[str], bands: Mapping[str, Band] | None) -> dict[str, Any]:
    """Merged docs for every coin's latest.json, latest.json, manifest.json and each path in `paths`
    (the files that differ between branches). `branches` are checked and freshest first."""
    generated_at = max(b.generated_at for b in branches)
    latest_window = max(str(b.manifest.get("latest_window") or "") for b in branches)
    files: dict[str, Any] = {}

    stale_flags: dict[str, bool] = {}
    for branch in branches:
        for slug, entry in (branch.docs.get("api/latest.json") or {}).get("coins", {}).items():
            stale_flags[slug] = stale_flags.get(slug, True) and bool(entry.get("is_stale"))
    by_coin: dict[str, list[CoinSnapshot]] = {}
    for branch in branches:
        for path, doc in branch.docs.items():
            match = COIN_LATEST.match(path)
            if match:
                by_coin.setdefault(match.group(1), []).append(
                    snapshot_from_doc(doc, stale_flags.get(match.group(1), False), branch.generated_at))
    snapshots = {slug: merge_snapshots(slug, found, generated_at) for slug, found in sorted(by_coin.items())}
    for slug, snapshot in snapshots.items():
        files[f"api/{slug}/latest.json"] = coin_latest_doc(snapshot)

    meta: dict[str, Any] = {}
    for branch in reversed(branches):
        meta.update(branch.manifest.get("coins_meta") or {})
    window_count = max(int(b.manifest.get("window_count") or 0) for b in branches)
    files["api/latest.json"] = latest_index_doc(snapshots, generated_at, latest_window)
    files["api/manifest.json"] = manifest_doc(generated_at, latest_window, window_count, snapshots, meta)

    for path in sorted(paths - set(files)):
        holders = [b for b in branches if path in b.docs]
        if not holders:
            continue
        docs = [b.docs[path] for b in holders]
        history = COIN_HISTORY.match(path)
        if history:
            files[path] = history_doc(merge_histories(docs), latest_window[:10], HISTORY_SPANS[history.group(2)])
        elif path.startswith(("hourly/", "15min/")):
            entries = [entry for doc in docs for entry in entries_from_doc(doc)]
            files[path] = spot_file_doc(entries, "hourly" if path.startswith("hourly/") else "seed", bands)
        elif path.startswith("spot-history-"):
            year = path.removeprefix("spot-history-").removesuffix(".json")
            entries = [entry for doc in reversed(docs) for entry in entries_from_doc(doc)]
            files[path] = spot_history_doc([], entries, year, bands)
        elif path == "api/goldback-spot.json":
            newest = max((day_from_spot_doc(d) for d in docs), key=lambda d: (d.date, d.scraped_at))
            files[path] = goldback_spot_doc(newest)
        elif path.startswith("goldback-"):
            days = sorted((day for doc in docs for day in days_from_year_doc(doc)), key=lambda d: d.scraped_at)
            files[path] = goldback_year_doc(days, path.removeprefix("goldback-").removesuffix(".json"))
        else:
            files[path] = docs[0]
    return files
