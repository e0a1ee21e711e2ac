"""Publish against a real libSQL server: every file's shape matches the reference files, the
numbers match hand-computed values, and the tree is deterministic; and against databases that
look like the shared one (late spot rows, failed-only windows, old vision rows)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from staktrakr.jobs.publish import PublishOptions, run_publish
from staktrakr.models import SpotPrice
from staktrakr.store import Store
from tests.publish_fixtures import LATEST_WINDOW, NEWEST_SCRAPED, reference, seed, write_old_files

WINDOW_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$")
SPOT_TS_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
W = LATEST_WINDOW


def kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def same_record(ours: dict, ref: dict, where: str) -> None:
    """Same keys in the same order and the same JSON types (null allowed only where the reference has it)."""
    assert list(ours) == list(ref), f"{where}: keys {list(ours)} != reference {list(ref)}"
    for key in ref:
        if ref[key] is None or ours[key] is None:
            continue
        assert kind(ours[key]) == kind(ref[key]), f"{where}.{key}: {kind(ours[key])} != {kind(ref[key])}"


@pytest.fixture
def published(libsql_server, make_settings, tmp_path: Path):
    settings = make_settings(turso_database_url=libsql_server.url, api_export_dir=tmp_path / "export")
    with Store.open(settings) as store:
        seed(store)
        write_old_files(settings.export_dir / "data")
        result = run_publish(settings, store, PublishOptions())
    data = settings.export_dir / "data"
    return settings, result, data


def load(data: Path, path: str):
    return json.loads((data / path).read_text())


def test_retail_files_match_reference_shapes(published) -> None:
    _, result, data = published
    assert result.commit and result.generated_at == NEWEST_SCRAPED and result.latest_window == LATEST_WINDOW

    ref_manifest, ours = reference("api/manifest.json"), load(data, "api/manifest.json")
    same_record(ours, ref_manifest, "manifest")
    same_record(ours["coins_meta"]["ase"], ref_manifest["coins_meta"]["ase"], "manifest.coins_meta.ase")
    assert ours["endpoints"] == ref_manifest["endpoints"]

    ref_latest, ours = reference("api/latest.json"), load(data, "api/latest.json")
    same_record(ours, ref_latest, "latest")
    same_record(ours["coins"]["ase"], ref_latest["coins"]["ase"], "latest.coins.ase")

    ref_coin, ours = reference("api/ase/latest.json"), load(data, "api/ase/latest.json")
    same_record(ours, ref_coin, "ase/latest")
    same_record(ours["vendors"]["herobullion"], ref_coin["vendors"]["herobullion"], "live vendor")
    same_record(ours["vendors"]["apmex"], ref_coin["vendors"]["apmex"], "stale vendor")
    same_record(ours["windows_24h"][-1], ref_coin["windows_24h"][-1], "windows_24h[]")
    assert all(WINDOW_RE.match(w["window"]) for w in ours["windows_24h"])
    assert ours["window_start"] == LATEST_WINDOW  # windows_24h has .000Z, window_start does not

    for name in ("history-7d.json", "history-30d.json"):
        ref_history, ours = reference(f"api/ase/{name}"), load(data, f"api/ase/{name}")
        same_record(ours[-1], ref_history[-1], name)
        same_record(ours[-1]["vendors"]["apmex"], ref_history[-1]["vendors"]["apmex"], f"{name} vendor")

    ref_providers, ours = reference("api/providers.json"), load(data, "api/providers.json")
    assert ours["ase"] == ref_providers["ase"]


def test_spot_and_goldback_files_match_reference_shapes(published) -> None:
    _, _, data = published
    ref_quarter = reference("15min/2026/03/15/1945.json")
    quarter = load(data, "15min/2026/03/15/1945.json")
    same_record(quarter[0], ref_quarter[0], "15min entry")
    assert [e["metal"] for e in quarter] == ["Gold", "Silver", "Platinum", "Palladium"]
    assert {e["source"] for e in quarter} == {"seed"} and all(SPOT_TS_RE.match(e["timestamp"]) for e in quarter)

    hourly = load(data, "hourly/2026/03/15/19.json")
    same_record(hourly[0], reference("hourly/2026/03/15/19.json")[0], "hourly entry")
    assert [(e["metal"], e["timestamp"][11:16]) for e in hourly][:5] == [
        ("Gold", "19:00"), ("Gold", "19:15"), ("Gold", "19:30"), ("Gold", "19:45"), ("Silver", "19:00")]
    # silver 0.01 at 19:30 is out of band: absent from the hour and from the quarter file
    assert ("Silver", "19:30") not in {(e["metal"], e["timestamp"][11:16]) for e in hourly}
    assert len(hourly) == 15
    assert [e["metal"] for e in load(data, "15min/2026/03/15/1930.json")] == ["Gold", "Platinum", "Palladium"]

    ref_goldback, goldback = reference("api/goldback-spot.json"), load(data, "api/goldback-spot.json")
    same_record(goldback, ref_goldback, "goldback-spot")
    assert list(goldback["denominations"]) == ["ghalf", "g1", "g2", "g5", "g10", "g25", "g50"]
    assert goldback["denominations"] == {"ghalf": 5.03, "g1": 10.06, "g2": 20.12, "g5": 50.3, "g10": 100.6,
                                         "g25": 251.5, "g50": 503}
    assert (data / "api/goldback-spot.json").read_text().count('"g50": 503\n') == 1  # 503, not 503.0

    year = load(data, "goldback-2026.json")
    same_record(year[0], reference("goldback-2026.json")[0], "goldback-2026 entry")
    assert [d["date"] for d in year] == ["2026-03-15", "2026-03-13", "2026-02-23"]  # old 02-23 kept

    history_text = (data / "spot-history-2026.json").read_text()
    assert "\n" not in history_text.rstrip("\n")  # one line, like the existing file
    history = json.loads(history_text)
    same_record(history[0], reference("spot-history-2026.json")[0], "spot-history entry")


def test_hand_computed_numbers(published) -> None:
    _, _, data = published
    ase = load(data, "api/ase/latest.json")
    # live in-stock: 90.11, 90.40 (newer of two pollers), 92.25, 92.30, 95.30 -> upper median 92.25
    assert (ase["median_price"], ase["lowest_price"]) == (92.25, 90.11)
    assert list(ase["vendors"]) == ["gainesvillecoins", "herobullion", "jmbullion", "sdbullion", "summitmetals", "apmex"]
    assert ase["vendors"]["gainesvillecoins"] == {"price": 90.4, "confidence": 80, "source": "browser", "inStock": True}
    assert ase["vendors"]["apmex"] == {"price": 93.33, "confidence": None, "source": "turso_last_known",
                                       "inStock": True, "stale": True, "stale_since": "2026-03-15T17:30:02.913Z"}
    assert "monumentmetals" not in ase["vendors"] and "providentmetals" not in ase["availability_by_site"]
    assert ase["availability_by_site"]["bullionexchanges"] is False
    assert ase["last_known_price_by_site"] == {"bullionexchanges": 87.94}
    assert ase["last_available_date_by_site"] == {"bullionexchanges": "2026-03-10"}
    last = ase["windows_24h"][-1]
    assert last == {"window": "2026-03-15T20:00:00.000Z", "median": 92.3, "low": 90.11,
                    "vendors": {"gainesvillecoins": 90.4, "herobullion": 90.11, "jmbullion": 95.3, "sdbullion": 92.3}}

    latest = load(data, "api/latest.json")
    assert latest["coins"]["ase"] == {"window_start": LATEST_WINDOW, "median_price": 92.25,
                                      "lowest_price": 90.11, "vendor_count": 5}
    assert latest["coins"]["age"] == {"window_start": "2026-03-13T10:00:00Z", "median_price": 5251.29,
                                      "lowest_price": 5230.31, "vendor_count": 2, "is_stale": True}
    assert latest["generated_at"] == NEWEST_SCRAPED and latest["coin_count"] == 3

    week = {e["date"]: e for e in load(data, "api/ase/history-7d.json")}
    assert sorted(week) == ["2026-03-10", "2026-03-14", "2026-03-15"]
    # 03-14: herobullion avg(90, 92)=91, monumentmetals 88, sdbullion 94; jmbullion only OOS (99)
    assert week["2026-03-14"] == {"date": "2026-03-14", "avg_median": 91, "avg_low": 88, "sample_count": 4,
                                  "vendors": {"herobullion": {"avg": 91, "inStock": True},
                                              "jmbullion": {"avg": 99, "inStock": False},
                                              "monumentmetals": {"avg": 88, "inStock": True},
                                              "sdbullion": {"avg": 94, "inStock": True}}}
    # 03-15: vendor averages 90.11, 90.2, 92.25, 92.3, 93.33, 95.3 -> 92.3; lowest price 90.00
    assert (week["2026-03-15"]["avg_median"], week["2026-03-15"]["avg_low"], week["2026-03-15"]["sample_count"]) == (
        92.3, 90, 7)
    month = [e["date"] for e in load(data, "api/ase/history-30d.json")]
    assert month == ["2026-03-01", "2026-03-10", "2026-03-14", "2026-03-15"]  # 02-01 is outside

    seeds = {(e["timestamp"][:10], e["metal"]): e for e in load(data, "spot-history-2026.json")}
    assert seeds[("2026-01-02", "Silver")]["spot"] == 74.215 and seeds[("2026-01-02", "Silver")]["provider"] == "LBMA"
    assert seeds[("2026-03-14", "Gold")]["spot"] == 5000.06  # the 17:00 slot, replacing the old 4999
    assert seeds[("2026-03-13", "Gold")]["spot"] == 5000.01  # no slot after 17:00: the day's last slot
    assert seeds[("2026-03-15", "Silver")]["spot"] == 81.02  # 17:00 on the newest day
    assert len([k for k in seeds if k[0] == "2026-03-15"]) == 4


def test_same_database_gives_byte_identical_tree(published, tmp_path: Path) -> None:
    settings, _, data = published
    copy = tmp_path / "first"
    shutil.copytree(data, copy)
    with Store.open(settings) as store:
        again = run_publish(settings, store, PublishOptions())
    assert again.commit is None and not again.added and not again.changed
    for path in copy.rglob("*.json"):
        assert (data / path.relative_to(copy)).read_bytes() == path.read_bytes()


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
