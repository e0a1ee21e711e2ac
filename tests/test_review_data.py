"""Data-correctness review: cases found by running the jobs end to end (publish, merge, spot)
against databases that look like the shared one. Each test names the bug it pins down."""

from __future__ import annotations

from staktrakr.export.merge import BranchFiles, merge_trees
from staktrakr.export.model import WindowPrice
from staktrakr.export.retail import coin_snapshot
from staktrakr.export.tree import RetailInputs, retail_files
from staktrakr.timeutil import parse_time

W = "2026-03-15T20:00:00Z"
GENERATED = "2026-03-15T20:05:00.000Z"


def _branch(name: str, rows: list[WindowPrice], generated_at: str = GENERATED) -> BranchFiles:
    snapshot = coin_snapshot("ase", rows, parse_time(generated_at), W)
    docs = retail_files(RetailInputs(generated_at=generated_at, latest_window=W, window_count=1, last_date=W[:10],
                                     snapshots={"ase": snapshot}, histories={}, coins_meta={}))
    return BranchFiles(name, "0" * 40, docs)


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
