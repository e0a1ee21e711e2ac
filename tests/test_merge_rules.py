"""Merge rules on snapshots rebuilt from published docs: freshest wins, live beats carried at the
same time, re-aging at the newest generated_at, stale coins kept."""

from __future__ import annotations

from staktrakr.export.combine import merge_histories, merge_snapshots, snapshot_from_doc
from staktrakr.export.retail import coin_latest_doc


def doc(window_start: str, vendors: dict, windows: list | None = None, availability: dict | None = None) -> dict:
    return {"slug": "ase", "window_start": window_start, "median_price": None, "lowest_price": None,
            "vendors": vendors, "availability_by_site": availability or {v: True for v in vendors},
            "last_known_price_by_site": {}, "last_available_date_by_site": {}, "windows_24h": windows or []}


LIVE = {"price": 10.0, "confidence": 80, "source": "http", "inStock": True}


def test_live_beats_carried_of_the_same_age_and_fresher_wins() -> None:
    carried = doc("2026-03-15T20:00:00Z", {"a": {"price": 9.0, "confidence": None, "source": "turso_last_known",
                                                 "inStock": True, "stale": True,
                                                 "stale_since": "2026-03-15T19:00:00.000Z"}})
    live = doc("2026-03-15T19:00:00Z", {"a": LIVE},
               windows=[{"window": "2026-03-15T19:00:00.000Z", "median": 10, "low": 10, "vendors": {"a": 10}}])
    for order in ([carried, live], [live, carried]):
        merged = merge_snapshots("ase", [snapshot_from_doc(d, False) for d in order], "2026-03-15T20:05:00.000Z")
        assert merged.quotes["a"].price == 10.0 and not merged.quotes["a"].stale


def test_reaging_at_the_newest_generated_at() -> None:
    old = doc("2026-03-15T12:00:00Z", {"a": LIVE, "b": LIVE}, windows=[
        {"window": "2026-03-15T12:00:00.000Z", "median": 10, "low": 10, "vendors": {"a": 10, "b": 10}}])
    fresh = doc("2026-03-15T20:00:00Z", {"c": {**LIVE, "price": 12.0}})
    merged = merge_snapshots("ase", [snapshot_from_doc(fresh, False), snapshot_from_doc(old, False)],
                             "2026-03-15T20:05:00.000Z")
    out = coin_latest_doc(merged)
    assert out["vendors"]["a"]["source"] == "turso_last_known" and out["vendors"]["a"]["stale_since"] == (
        "2026-03-15T12:00:00.000Z")
    assert out["median_price"] == 12  # only c is live
    gone = merge_snapshots("ase", [snapshot_from_doc(fresh, False), snapshot_from_doc(old, False)],
                           "2026-03-16T13:00:00.000Z")
    # 25 h after a and b were seen they are dropped; c (17 h) is carried
    assert set(gone.quotes) == {"c"} and gone.quotes["c"].stale and not gone.is_stale


def test_coin_seen_by_nobody_for_a_day_stays_as_it_was_and_stale() -> None:
    old = doc("2026-03-13T12:00:00Z", {"a": LIVE})
    merged = merge_snapshots("ase", [snapshot_from_doc(old, False)], "2026-03-15T20:05:00.000Z")
    assert merged.is_stale and merged.quotes["a"].price == 10.0


def test_histories_take_the_entry_with_most_samples() -> None:
    a = [{"date": "2026-03-14", "sample_count": 5, "x": "a"}]
    b = [{"date": "2026-03-14", "sample_count": 7, "x": "b"}, {"date": "2026-03-15", "sample_count": 1, "x": "b"}]
    merged = merge_histories([a, b])
    assert merged["2026-03-14"]["x"] == "b" and sorted(merged) == ["2026-03-14", "2026-03-15"]
