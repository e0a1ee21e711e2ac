"""Builders for the spot files: hourly/YYYY/MM/DD/HH.json, 15min/YYYY/MM/DD/HHMM.json and the
daily seed history spot-history-YYYY.json.

One canonical form everywhere: entries ordered Gold, Silver, Platinum, Palladium (then by time),
`timestamp` = the 15-minute slot as "YYYY-MM-DD HH:MM:SS", provider "StakTrakr". A value that is
0, negative, NaN or outside its metal's band (staktrakr/rules/bands.py) is never published.

Daily seed rule (spot-history): for each UTC date and metal, the first valid slot at or after
17:00 UTC (noon New York standard time, the old poller's "noon EST" rule without its DST bug);
a date with no slot at or after 17:00 takes its last slot once a later date has spot data.
Weekends and holidays are included whenever the database has slots for them. The entry keeps
the series' existing label `YYYY-MM-DD 12:00:00`. Entries already in the file for dates the
database does not cover (e.g. the LBMA seed of January) are kept as they are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from staktrakr.export.model import SpotEntry
from staktrakr.export.stats import money
from staktrakr.rules.bands import Band, spot_in_band

METAL_ORDER: tuple[str, ...] = ("gold", "silver", "platinum", "palladium")
METAL_NAMES = {metal: metal.capitalize() for metal in METAL_ORDER}
METAL_BY_NAME = {name: metal for metal, name in METAL_NAMES.items()}
SEED_HOUR_UTC = 17
SEED_LABEL_TIME = "12:00:00"
SPOT_PLACES = 4  # the spot job stores cents; older seed entries have up to 3 decimals (LBMA silver)


def _order(metal: str, timestamp: str) -> tuple[int, str]:
    return (METAL_ORDER.index(metal), timestamp)


def publishable(entry: SpotEntry, bands: Mapping[str, Band] | None) -> bool:
    return entry.metal in METAL_ORDER and spot_in_band(entry.metal, entry.spot, bands)


def entry_doc(entry: SpotEntry, source: str) -> dict[str, Any]:
    return {
        "spot": money(entry.spot, SPOT_PLACES),
        "metal": METAL_NAMES[entry.metal],
        "source": source,
        "provider": entry.provider,
        "timestamp": entry.timestamp,
    }


def spot_file_doc(entries: Iterable[SpotEntry], source: str, bands: Mapping[str, Band] | None) -> list[dict[str, Any]]:
    """One file's entries: valid only, one per (metal, timestamp) (the first given wins), canonical order."""
    chosen: dict[tuple[str, str], SpotEntry] = {}
    for entry in entries:
        if publishable(entry, bands):
            chosen.setdefault((entry.metal, entry.timestamp), entry)
    return [entry_doc(chosen[key], source) for key in sorted(chosen, key=lambda k: _order(*k))]


def hourly_path(timestamp: str) -> str:
    day, clock = timestamp.split(" ")
    return f"hourly/{day.replace('-', '/')}/{clock[:2]}.json"


def quarter_path(timestamp: str) -> str:
    day, clock = timestamp.split(" ")
    return f"15min/{day.replace('-', '/')}/{clock[:2]}{clock[3:5]}.json"


def spot_files(entries: Iterable[SpotEntry], bands: Mapping[str, Band] | None) -> dict[str, list[dict[str, Any]]]:
    """The hourly and 15-minute files for every hour and quarter the entries touch.

    A file whose entries are all invalid is not produced (an existing one is left alone)."""
    by_hour: dict[str, list[SpotEntry]] = defaultdict(list)
    by_quarter: dict[str, list[SpotEntry]] = defaultdict(list)
    for entry in entries:
        by_hour[hourly_path(entry.timestamp)].append(entry)
        by_quarter[quarter_path(entry.timestamp)].append(entry)
    files: dict[str, list[dict[str, Any]]] = {}
    for path, group in [*by_hour.items(), *by_quarter.items()]:
        doc = spot_file_doc(group, "hourly" if path.startswith("hourly/") else "seed", bands)
        if doc:
            files[path] = doc
    return files


def entries_from_doc(doc: Any) -> list[SpotEntry]:
    """SpotEntries back from a published spot file (for merge and for the seed history)."""
    if not isinstance(doc, list):
        raise ValueError("expected a JSON array of spot entries")
    entries = []
    for item in doc:
        if not isinstance(item, dict) or item.get("metal") not in METAL_BY_NAME:
            raise ValueError(f"not a spot entry: {item!r:.80}")
        spot, timestamp = item.get("spot"), item.get("timestamp")
        if isinstance(spot, bool) or not isinstance(spot, (int, float)) or not isinstance(timestamp, str):
            raise ValueError(f"not a spot entry: {item!r:.80}")
        entries.append(SpotEntry(METAL_BY_NAME[item["metal"]], float(spot), timestamp,
                                 str(item.get("provider") or "StakTrakr")))
    return entries


def seed_entry(metal: str, day: str, spot: float) -> SpotEntry:
    return SpotEntry(metal, spot, f"{day} {SEED_LABEL_TIME}")


def spot_history_doc(
    existing: Iterable[SpotEntry], fresh: Iterable[SpotEntry], year: str, bands: Mapping[str, Band] | None
) -> list[dict[str, Any]]:
    """spot-history-YYYY.json: one entry per date and metal; fresh entries replace existing ones."""
    by_key: dict[tuple[str, str], SpotEntry] = {}
    for entry in [*existing, *fresh]:
        if entry.timestamp.startswith(year) and publishable(entry, bands):
            by_key[(entry.timestamp[:10], entry.metal)] = entry
    ordered = sorted(by_key.values(), key=lambda e: (e.timestamp[:10], METAL_ORDER.index(e.metal)))
    return [entry_doc(entry, "seed") for entry in ordered]
