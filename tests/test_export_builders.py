"""The pure builders: medians, money format, live/stale/out-of-stock rules, spot bands and order,
Goldback denominations, history entries."""

from __future__ import annotations

import json

from staktrakr.export.files import dump_json
from staktrakr.export.goldback import goldback_spot_doc, goldback_year_doc
from staktrakr.export.history import history_entry
from staktrakr.export.model import GoldbackDay, SpotEntry, VendorDay, WindowPrice
from staktrakr.export.retail import coin_latest_doc, coin_snapshot, vendors_needing_last_known
from staktrakr.export.spot import spot_file_doc, spot_files, spot_history_doc
from staktrakr.export.stats import money, upper_median
from staktrakr.timeutil import parse_time


def row(vendor: str, window: str, scraped: str, price: float | None, in_stock: bool = True) -> WindowPrice:
    return WindowPrice(vendor, window, scraped, price, in_stock, 80, "http")


def test_upper_median_and_money() -> None:
    assert upper_median([4, 1, 3, 2]) == 3  # element floor(4/2) of [1, 2, 3, 4]
    assert upper_median([5, 1, 3]) == 3 and upper_median([]) is None
    assert money(5245.0) == 5245 and isinstance(money(5245.0), int)
    assert money(90.195000001) == 90.2 and money(None) is None and money(float("nan")) is None
    assert dump_json({"p": money(503.0)}) == '{\n  "p": 503\n}\n'


def test_live_stale_and_out_of_stock_rules() -> None:
    as_of = parse_time("2026-03-15T20:05:00Z")
    rows = [
        row("a", "2026-03-15T20:00:00Z", "2026-03-15T20:01:00Z", 10.0),
        row("b", "2026-03-15T18:00:00Z", "2026-03-15T18:06:00Z", 12.0),   # 1 h 59 min old: live
        row("c", "2026-03-15T18:00:00Z", "2026-03-15T18:04:00Z", 11.0),   # 2 h 1 min old: carried
        row("d", "2026-03-14T20:00:00Z", "2026-03-14T20:04:00Z", 9.0),    # 24 h 1 min old: gone
        row("e", "2026-03-15T19:00:00Z", "2026-03-15T19:01:00Z", 13.0),
        row("e", "2026-03-15T20:00:00Z", "2026-03-15T20:02:00Z", None, in_stock=False),  # now OOS
        row("f", "2026-03-15T20:00:00Z", "2026-03-15T20:02:00Z", 20.0, in_stock=False),  # OOS, history elsewhere
    ]
    assert vendors_needing_last_known(rows, as_of) == ["f"]
    snapshot = coin_snapshot("x", rows, as_of, "2026-03-15T20:00:00Z", {"f": (19.5, "2026-03-01T10:00:00Z")})
    doc = coin_latest_doc(snapshot)
    assert list(doc["vendors"]) == ["a", "b", "c"]
    assert doc["vendors"]["c"]["stale_since"] == "2026-03-15T18:04:00.000Z"
    assert (doc["median_price"], doc["lowest_price"]) == (12, 10)  # live in-stock only: a, b
    assert doc["availability_by_site"] == {"a": True, "b": True, "c": True, "e": False, "f": False}
    assert doc["last_known_price_by_site"] == {"e": 13, "f": 19.5}
    assert doc["last_available_date_by_site"] == {"e": "2026-03-15", "f": "2026-03-01"}
    assert [w["window"] for w in doc["windows_24h"]] == [
        "2026-03-15T18:00:00.000Z", "2026-03-15T19:00:00.000Z", "2026-03-15T20:00:00.000Z"]


def test_only_carried_prices_give_the_median_when_nobody_is_live() -> None:
    as_of = parse_time("2026-03-15T20:05:00Z")
    rows = [row("a", "2026-03-15T10:00:00Z", "2026-03-15T10:01:00Z", 10.0),
            row("b", "2026-03-15T10:00:00Z", "2026-03-15T10:02:00Z", 14.0)]
    doc = coin_latest_doc(coin_snapshot("x", rows, as_of, "2026-03-15T20:00:00Z"))
    assert (doc["median_price"], doc["lowest_price"]) == (14, 10)
    assert all(v["source"] == "turso_last_known" and v["stale"] for v in doc["vendors"].values())


def test_windows_keep_only_the_last_96() -> None:
    as_of = parse_time("2026-03-16T00:00:00Z")
    rows = [row("a", f"2026-03-15T{h:02d}:{m:02d}:00Z", f"2026-03-15T{h:02d}:{m:02d}:30Z", 10.0 + h)
            for h in range(24) for m in (0, 15, 30, 45)]
    rows.append(row("a", "2026-03-16T00:00:00Z", "2026-03-16T00:00:00Z", 50.0))
    doc = coin_latest_doc(coin_snapshot("x", rows, as_of, "2026-03-16T00:00:00Z"))
    assert len(doc["windows_24h"]) == 96 and doc["windows_24h"][0]["window"] == "2026-03-15T00:15:00.000Z"


def test_spot_files_order_bands_and_dedupe() -> None:
    entries = [SpotEntry("palladium", 1500, "2026-03-15 19:15:00"), SpotEntry("gold", 5000.5, "2026-03-15 19:15:00"),
               SpotEntry("silver", 0.0, "2026-03-15 19:15:00"), SpotEntry("platinum", float("nan"), "2026-03-15 19:15:00"),
               SpotEntry("gold", 4999.0, "2026-03-15 19:00:00"), SpotEntry("gold", 1.0, "2026-03-15 19:30:00"),
               SpotEntry("gold", 6000.0, "2026-03-15 19:15:00")]  # a second value for one slot: the first wins
    doc = spot_file_doc(entries, "hourly", None)
    assert [(e["metal"], e["timestamp"][11:16], e["spot"]) for e in doc] == [
        ("Gold", "19:00", 4999), ("Gold", "19:15", 5000.5), ("Palladium", "19:15", 1500)]
    files = spot_files(entries, None)
    assert sorted(files) == ["15min/2026/03/15/1900.json", "15min/2026/03/15/1915.json", "hourly/2026/03/15/19.json"]
    assert json.loads(dump_json(files["15min/2026/03/15/1915.json"]))[0]["source"] == "seed"


def test_spot_history_keeps_old_dates_and_fresh_wins() -> None:
    old = [SpotEntry("silver", 74.215, "2026-01-02 12:00:00", "LBMA"), SpotEntry("gold", 1.0, "2026-01-02 12:00:00"),
           SpotEntry("gold", 4000.0, "2026-03-14 12:00:00")]
    fresh = [SpotEntry("gold", 5000.0, "2026-03-14 12:00:00"), SpotEntry("gold", 5100.0, "2025-12-31 12:00:00")]
    doc = spot_history_doc(old, fresh, "2026", None)
    assert [(e["timestamp"][:10], e["metal"], e["spot"], e["provider"]) for e in doc] == [
        ("2026-01-02", "Silver", 74.215, "LBMA"), ("2026-03-14", "Gold", 5000, "StakTrakr")]


def test_goldback_denominations_and_year_file() -> None:
    day = GoldbackDay("2026-03-15", 10.06, "2026-03-15T00:01:01.596Z")
    doc = goldback_spot_doc(day)
    assert doc["denominations"] == {"ghalf": 5.03, "g1": 10.06, "g2": 20.12, "g5": 50.3, "g10": 100.6,
                                    "g25": 251.5, "g50": 503}
    assert doc["confidence"] == "high"
    assert goldback_spot_doc(GoldbackDay("2026-03-15", 10.0, "x", "manual"))["confidence"] == "medium"
    year = goldback_year_doc([GoldbackDay("2026-03-13", 10.2, "a"), day, GoldbackDay("2025-12-31", 9.0, "b")], "2026")
    assert [d["date"] for d in year] == ["2026-03-15", "2026-03-13"]


def test_history_entry() -> None:
    entry = history_entry("2026-03-14", {"a": VendorDay(91.0, 90.0, True, 2), "b": VendorDay(94.0, 94.0, True, 1),
                                         "c": VendorDay(99.0, None, False, 0)})
    assert entry == {"date": "2026-03-14", "avg_median": 94, "avg_low": 90, "sample_count": 3,
                     "vendors": {"a": {"avg": 91, "inStock": True}, "b": {"avg": 94, "inStock": True},
                                 "c": {"avg": 99, "inStock": False}}}
    assert history_entry("2026-03-14", {"c": VendorDay(99.0, None, False, 0)}) is None


def test_published_serialisation_is_json_dumps_byte_for_byte() -> None:
    import math

    import pytest

    from staktrakr.export.files import json_bytes

    doc = {"slug": "Åge ½ oz", "p": [money(5245.0), 92.3, 0.07, 1234567.89, None, True, {"nested": [], "e": {}}],
           "s": 'quote " and \\ and \n'}
    assert json_bytes(doc) == (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
    assert json_bytes([doc], None) == (json.dumps([doc], ensure_ascii=False) + "\n").encode()
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError):
            json_bytes({"p": bad, "q": None})
