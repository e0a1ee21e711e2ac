"""Data-correctness review: cases found by running the jobs end to end (publish, merge, spot)
against databases that look like the shared one. Each test names the bug it pins down."""

from __future__ import annotations

import json
from pathlib import Path

from staktrakr.export.combine import BranchFiles, merge_trees
from staktrakr.export.model import WindowPrice
from staktrakr.export.retail import coin_snapshot
from staktrakr.export.tree import RetailInputs, retail_files
from staktrakr.jobs.publish import PublishOptions, run_publish
from staktrakr.models import SpotPrice
from staktrakr.store import Store
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


def _spot(metal: str, spot: float, slot: str, scraped_at: str) -> SpotPrice:
    return SpotPrice(metal=metal, spot=spot, poller_id="home", timestamp=slot, timestamp_floor=slot, scraped_at=scraped_at)


def test_spot_rows_replayed_after_a_long_outage_reach_their_hour(make_settings, tmp_path: Path) -> None:
    """The home poller's :15 rows sat in its outbox for 10 h (network cut) and were replayed with their
    real slot and fetch time. Publish rebuilt only hours touched in the last PUBLISH_SPOT_HOURS (by
    slot or scraped_at), so hour 08 kept its 2-slot file forever: the late :15 and :45 rows never
    reached hourly/.../08.json nor 15min/.../0815.json."""
    settings = make_settings(turso_database_url=f"file:{tmp_path / 'db.sqlite'}", api_export_dir=tmp_path / "export")
    metals = {"gold": 5000.0, "silver": 80.0, "platinum": 2000.0, "palladium": 1500.0}
    with Store.open(settings) as store:
        store.migrate()
        store.write([_spot(m, v, f"2026-03-15T08:{q}:00Z", f"2026-03-15T08:{q}:01.000Z")
                     for m, v in metals.items() for q in ("00", "30")])
        run_publish(settings, store, PublishOptions(push=False))
        hourly = tmp_path / "export/data/hourly/2026/03/15/08.json"
        assert len(json.loads(hourly.read_text())) == 8
        # ten hours later the api poller is at 18:00; then home's queued 08:15/08:45 rows are replayed
        store.write([_spot(m, v + 1, f"2026-03-15T18:{q}:00Z", f"2026-03-15T18:{q}:01.000Z")
                     for m, v in metals.items() for q in ("00",)])
        run_publish(settings, store, PublishOptions(push=False))
        store.write([_spot(m, v + 2, f"2026-03-15T08:{q}:00Z", f"2026-03-15T08:{q}:02.000Z")
                     for m, v in metals.items() for q in ("15", "45")])
        run_publish(settings, store, PublishOptions(push=False))
    entries = json.loads(hourly.read_text())
    assert [e["timestamp"][11:] for e in entries if e["metal"] == "Gold"] == [
        "08:00:00", "08:15:00", "08:30:00", "08:45:00"]
    assert json.loads((tmp_path / "export/data/15min/2026/03/15/0815.json").read_text())[0]["spot"] == 5002


def test_scrape_sanity_spot_skips_an_implausible_newest_row(make_settings, tmp_path: Path) -> None:
    """The shared table also receives rows from other writers (the old pollers' INSERT OR REPLACE wrote
    silver $0.01 on 2026-02-27). latest_spot() took the newest row of each metal whatever its value, so
    the scrape's melt band for silver became $0.01-$0.03 x weight and every silver price was refused;
    a per-gram gold figure would likewise move the band onto wrong prices. The newest plausible value
    (inside the metal's spot band) is the one to use."""
    settings = make_settings(turso_database_url=f"file:{tmp_path / 'db.sqlite'}")
    with Store.open(settings) as store:
        store.migrate()
        store.db.batch([(
            "INSERT INTO spot_prices (metal, spot, source, poller_id, timestamp, timestamp_floor) VALUES (?,?,?,?,?,?)",
            (metal, spot, "metalprice-api", "fly-spot", slot, slot))
            for metal, spot, slot in (("silver", 80.12, "2026-03-15T19:45:00Z"), ("silver", 0.01, "2026-03-15T20:00:00Z"),
                                      ("gold", 5018.96, "2026-03-15T19:45:00Z"), ("gold", 161.36, "2026-03-15T20:00:00Z"))])
        from staktrakr.store.queries.spot import latest_spot

        assert latest_spot(store) == {"silver": 80.12, "gold": 5018.96}


def test_prices_age_into_carry_over_when_every_fetch_fails(make_settings, tmp_path: Path) -> None:
    """Every target has failed since 17:00 (a dealer outage or an egress block): the newest *price* is
    from 17:00 while the pollers kept writing failed rows up to 20:00. Freshness was measured from the
    newest price, so 3-hour-old prices were published as live with full confidence. The pollers' own
    newest row (failed ones included) is the clock: those prices are carried over as stale."""
    from staktrakr.models import PriceObservation

    settings = make_settings(turso_database_url=f"file:{tmp_path / 'db.sqlite'}", api_export_dir=tmp_path / "export")
    rows = [PriceObservation(scraped_at="2026-03-15T17:01:00.000Z", window_start="2026-03-15T17:00:00Z",
                             coin_slug="ase", vendor=vendor, price=price, source="http", confidence=80, poller_id="api")
            for vendor, price in (("apmex", 93.0), ("sdbullion", 92.0))]
    rows += [PriceObservation(scraped_at=f"2026-03-15T{hour}:01:00.000Z", window_start=f"2026-03-15T{hour}:00:00Z",
                              coin_slug="ase", vendor=vendor, price=None, source="http", is_failed=True, poller_id="api")
             for hour in ("18", "19", "20") for vendor in ("apmex", "sdbullion")]
    with Store.open(settings) as store:
        store.migrate()
        store.write(rows)
        run_publish(settings, store, PublishOptions(push=False))
    coin = json.loads((tmp_path / "export/data/api/ase/latest.json").read_text())
    assert coin["window_start"] == "2026-03-15T20:00:00Z"
    assert {v["source"] for v in coin["vendors"].values()} == {"turso_last_known"}
    assert all(v["stale"] is True for v in coin["vendors"].values())
    manifest = json.loads((tmp_path / "export/data/api/manifest.json").read_text())
    assert manifest["generated_at"] == "2026-03-15T20:01:00.000Z"


def test_old_vision_rows_are_not_vendor_prices(make_settings, tmp_path: Path) -> None:
    """The old pipeline stored Gemini's screenshot readings as ordinary snapshots (source
    `gemini-vision`), where they stood in for the scraped price. They are not published as prices."""
    from staktrakr.models import PriceObservation

    settings = make_settings(turso_database_url=f"file:{tmp_path / 'db.sqlite'}", api_export_dir=tmp_path / "export")
    with Store.open(settings) as store:
        store.migrate()
        store.write([PriceObservation(scraped_at="2026-03-15T20:01:00.000Z", window_start=W, coin_slug="ase",
                                      vendor="apmex", price=93.0, source="http", confidence=80, poller_id="api")])
        store.db.execute(
            "INSERT INTO price_snapshots (scraped_at, window_start, coin_slug, vendor, price, source, is_failed, in_stock) "
            "VALUES ('2026-03-15T20:02:00.000Z', ?, 'ase', 'jmbullion', 68.30, 'gemini-vision', 0, 1)", (W,))
        run_publish(settings, store, PublishOptions(push=False))
    coin = json.loads((tmp_path / "export/data/api/ase/latest.json").read_text())
    assert set(coin["vendors"]) == {"apmex"}
    assert coin["lowest_price"] == 93
    history = json.loads((tmp_path / "export/data/api/ase/history-7d.json").read_text())
    assert set(history[-1]["vendors"]) == {"apmex"}
