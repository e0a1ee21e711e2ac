"""Merge rules on snapshots rebuilt from published docs: freshest wins, live beats carried at the
same time, re-aging at the newest generated_at, stale coins kept, one branch merged unchanged."""

from __future__ import annotations

from staktrakr.export.combine import BranchFiles, merge_histories, merge_snapshots, merge_trees, snapshot_from_doc
from staktrakr.export.model import WindowPrice
from staktrakr.export.retail import coin_latest_doc, coin_snapshot
from staktrakr.export.tree import RetailInputs, retail_files
from staktrakr.timeutil import parse_time

W = "2026-03-15T20:00:00Z"
GENERATED = "2026-03-15T20:05:00.000Z"


def doc(window_start: str, vendors: dict, windows: list | None = None, availability: dict | None = None) -> dict:
    return {"slug": "ase", "window_start": window_start, "median_price": None, "lowest_price": None,
            "vendors": vendors, "availability_by_site": availability or dict.fromkeys(vendors, True),
            "last_known_price_by_site": {}, "last_available_date_by_site": {}, "windows_24h": windows or []}


LIVE = {"price": 10.0, "confidence": 80, "source": "http", "inStock": True}


def _branch(name: str, rows: list[WindowPrice], generated_at: str = GENERATED) -> BranchFiles:
    snapshot = coin_snapshot("ase", rows, parse_time(generated_at), W)
    docs = retail_files(RetailInputs(generated_at=generated_at, latest_window=W, window_count=1, last_date=W[:10],
                                     snapshots={"ase": snapshot}, histories={}, coins_meta={}))
    return BranchFiles(name, "0" * 40, docs)


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


def test_merge_of_one_branch_keeps_a_vendor_live_that_publish_showed_live() -> None:
    """A vendor scraped at 18:10 (window 18:00) is live at 20:05 (within 2 h). Merge dated the quote by
    its window (18:00), re-aged it to a carried `turso_last_known` with an invented stale_since, and so
    changed vendor_count and the median of main although every branch agreed."""
    rows = [
        WindowPrice("apmex", W, "2026-03-15T20:05:00.000Z", 93.0, True, 80, "http"),
        WindowPrice("herobullion", W, "2026-03-15T20:01:00.000Z", 91.0, True, 80, "http"),
        WindowPrice("sdbullion", "2026-03-15T18:00:00Z", "2026-03-15T18:10:00.000Z", 92.0, True, 80, "http"),
    ]
    branch = _branch("api", rows)
    published = branch.docs["api/ase/latest.json"]
    assert published["vendors"]["sdbullion"]["source"] == "http" and published["median_price"] == 92

    merged = merge_trees([branch], set(), None)
    assert merged["api/ase/latest.json"]["vendors"] == published["vendors"]
    assert merged["api/latest.json"]["coins"]["ase"] == branch.docs["api/latest.json"]["coins"]["ase"]
