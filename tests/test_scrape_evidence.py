"""Pages of failed targets kept under var/evidence/: gzipped, named in the run's JSON and in
provider_failures.error, never written by a dry run unless asked, bounded by age and total size."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

from staktrakr.jobs.evidence import EvidenceStore
from tests.farm import Page, make_target, page_text
from tests.scrape_fixtures import rows, scrape

NO_PRICE_PAGE = "<html><body><h1>2026 1 oz American Silver Eagle Coin</h1><p>Call us for a quote.</p></body></html>"
BOT_CHECK = "<html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"


def targets(farm):
    host = farm.host("dealer")
    return [make_target("ase", "good", host.add("/good", page_text("html_table.html"))),
            make_target("ase", "quote", host.add("/quote", NO_PRICE_PAGE)),
            make_target("ase", "guarded", host.add("/guarded", Page(BOT_CHECK)))]


def test_failed_targets_keep_their_page(farm, farm_settings):
    settings = farm_settings()
    result = scrape(settings, targets(farm))
    by_vendor = {outcome.vendor_id: outcome for outcome in result.outcomes}
    assert by_vendor["good"].ok and by_vendor["good"].evidence_path is None
    quote = Path(by_vendor["quote"].evidence_path)
    assert quote.parent == settings.var_dir / "evidence" and quote.name.endswith("--ase--quote.html.gz")
    text = gzip.decompress(quote.read_bytes()).decode("utf-8")
    assert text.startswith("<!-- staktrakr evidence: http://127.0.0.1:") and "no_price" in text.splitlines()[0]
    assert "Call us for a quote." in text
    blocked = gzip.decompress(Path(by_vendor["guarded"].evidence_path).read_bytes()).decode("utf-8")
    assert "Just a moment..." in blocked and "blocked: bot check page" in blocked.splitlines()[0]
    assert result.to_json()["targets"][1]["evidence_path"] == str(quote)
    errors = {row["vendor_id"]: row["error"] for row in rows(settings, "SELECT vendor_id, error FROM provider_failures")}
    assert errors["quote"].endswith(f"(page: {quote})") and errors["quote"].startswith("no_price")
    assert set(errors) == {"quote", "guarded"}


def test_dry_run_writes_no_evidence_unless_asked(farm, farm_settings):
    settings = farm_settings()
    result = scrape(settings, targets(farm), dry_run=True)
    assert not (settings.var_dir / "evidence").exists()
    assert all(outcome.evidence_path is None for outcome in result.outcomes)
    asked = scrape(settings, targets(farm), dry_run=True, keep_evidence=True)
    kept = sorted(path.name for path in (settings.var_dir / "evidence").iterdir())
    assert len(kept) == 2 and all(asked.run_id in name for name in kept)


def test_pruned_by_age_then_by_total_size(tmp_path):
    folder = tmp_path / "evidence"
    folder.mkdir()
    now = time.time()
    for day, name in ((9, "old"), (3, "older"), (2, "middle"), (1, "newest")):
        path = folder / f"run1--ase--{name}.html.gz"
        path.write_bytes(b"x" * 1000)
        os.utime(path, (now - day * 86400, now - day * 86400))
    for name in ("NOTES.txt", "backup.html.gz"):  # an operator's files: never pruned, not counted
        (folder / name).write_bytes(b"y" * 5000)
        os.utime(folder / name, (now - 30 * 86400, now - 30 * 86400))
    pruned = EvidenceStore(folder, max_age_s=7 * 86400, max_bytes=2500).prune(now)
    assert sorted(path.name for path in folder.iterdir()) == [
        "NOTES.txt", "backup.html.gz", "run1--ase--middle.html.gz", "run1--ase--newest.html.gz"]
    assert (pruned.removed_files, pruned.removed_bytes, pruned.kept_bytes) == (2, 2000, 2000)
    assert EvidenceStore(folder, max_age_s=7 * 86400, max_bytes=2500).prune(now).removed_files == 0
    assert EvidenceStore(tmp_path / "absent", 1, 1).prune(now).removed_files == 0


def test_every_cycle_prunes(farm, farm_settings):
    settings = farm_settings(evidence_max_mb=0)  # keep nothing: each page goes at the end of its cycle
    result = scrape(settings, targets(farm))
    assert result.outcomes[1].evidence_path is not None
    assert list((settings.var_dir / "evidence").iterdir()) == []
