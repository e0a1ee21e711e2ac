"""Publish against a real libSQL server: every file's shape matches the reference files, the
numbers match hand-computed values, and the tree is deterministic."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from publish_fixtures import LATEST_WINDOW, NEWEST_SCRAPED, reference, seed, write_old_files
from staktrakr.jobs.publish import PublishOptions, run_publish
from staktrakr.store import Store

WINDOW_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$")
SPOT_TS_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


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
