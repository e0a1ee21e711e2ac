"""`spot --backfill`: exactly the missing days get one 12:00 UTC row per metal, idempotently."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from staktrakr.errors import ConfigError, JobFailed
from staktrakr.jobs.spot_backfill import SOURCE_TIMEFRAME, run_backfill, timeframe_chunks
from staktrakr.models import SpotPrice
from staktrakr.store import Store
from tests.fake_apis import API_KEY, FakeMetalPriceApi, fast_client

NOW = datetime(2026, 3, 16, 8, 5, tzinfo=UTC)
PRICES = {"gold": 5000.0, "silver": 80.0, "platinum": 2000.0, "palladium": 1500.0}


@pytest.fixture
def api():
    with FakeMetalPriceApi() as fake:
        for offset in range(500):
            day = date(2026, 3, 15) - timedelta(days=offset)
            fake.daily[day.isoformat()] = {metal: price + offset % 7 for metal, price in PRICES.items()}
        yield fake


@pytest.fixture
def settings(make_settings, api, libsql_server):
    return make_settings(metal_price_api_key=API_KEY, metal_price_api_base_url=api.base_url, poller_id="home",
                         turso_database_url=libsql_server.url)


def live_rows(day: str, metals, times=("09:00", "09:15")) -> list[SpotPrice]:
    rows = []
    for hhmm in times:
        slot = f"{day}T{hhmm}:00Z"
        rows += [SpotPrice(metal=m, spot=PRICES[m], poller_id="api", timestamp=slot, timestamp_floor=slot,
                           scraped_at=f"{day}T{hhmm}:02.000Z") for m in metals]
    return rows


def backfilled(store: Store) -> list[tuple[str, str, float]]:
    rows = store.db.query("SELECT timestamp_floor, metal, spot FROM spot_prices WHERE source = ? "
                          "ORDER BY timestamp_floor, metal", [SOURCE_TIMEFRAME])
    return [(r["timestamp_floor"], r["metal"], r["spot"]) for r in rows]


def test_fills_exactly_the_missing_days_and_is_idempotent(settings, api):
    with Store.open(settings) as store:
        store.migrate()
        store.write(live_rows("2026-03-10", PRICES) + live_rows("2026-03-12", ["gold"]) +
                    live_rows("2026-03-13", PRICES))
        result = run_backfill(settings, store, since=date(2026, 3, 10), until=date(2026, 3, 14),
                              client_factory=fast_client, now=NOW)
        filled = backfilled(store)
        again = run_backfill(settings, store, since=date(2026, 3, 10), until=date(2026, 3, 14),
                             client_factory=fast_client, now=NOW + timedelta(seconds=1))
        assert backfilled(store) == filled
        run_rows = store.db.query("SELECT status, total, captured FROM poller_runs WHERE job = 'spot' "
                                  "ORDER BY started_at")
    assert result.status == "filled" and again.status == "nothing_missing"
    assert result.missing == {"2026-03-11": list(PRICES), "2026-03-12": ["silver", "platinum", "palladium"],
                              "2026-03-14": list(PRICES)}
    expected = [(f"{day}T12:00:00Z", metal) for day in ("2026-03-11", "2026-03-14") for metal in PRICES]
    expected += [("2026-03-12T12:00:00Z", metal) for metal in ("silver", "platinum", "palladium")]
    assert sorted((slot, metal) for slot, metal, _ in filled) == sorted(expected)
    # the fake's 2026-03-11 value is price + 4 (offset 4 from 03-15)
    assert ("2026-03-11T12:00:00Z", "gold", 5004.0) in filled
    # one /timeframe call for the gap span; the rerun found nothing and called nothing
    calls = api.calls("timeframe")
    assert len(calls) == 1
    assert (calls[0].query["start_date"], calls[0].query["end_date"]) == ("2026-03-11", "2026-03-14")
    # every run is accounted for: the rerun that found nothing missing has its own row
    assert run_rows == [{"status": "ok", "total": 11, "captured": 11}, {"status": "ok", "total": 0, "captured": 0}]
    # 5 days x 96 slots, of which 03-10 and 03-13 have two complete live slots each, 03-12 none
    assert result.missing_slots == 5 * 96 - 4


def test_implausible_or_absent_daily_values_are_never_stored(settings, api):
    api.daily["2026-03-11"] = {**PRICES, "silver": 0.01}
    del api.daily["2026-03-12"]
    api.daily["2026-03-13"] = {k: v for k, v in PRICES.items() if k != "palladium"}
    with Store.open(settings) as store:
        result = run_backfill(settings, store, since=date(2026, 3, 11), until=date(2026, 3, 13),
                              client_factory=fast_client, now=NOW)
        stored = backfilled(store)
    assert {(slot[:10], metal) for slot, metal, _ in stored} == {
        ("2026-03-11", "gold"), ("2026-03-11", "platinum"), ("2026-03-11", "palladium"),
        ("2026-03-13", "gold"), ("2026-03-13", "silver"), ("2026-03-13", "platinum")}
    assert all(value > 10 for _, _, value in stored)
    reasons = "\n".join(result.unfilled)
    assert "2026-03-11 silver: silver 0.01 outside the band" in reasons
    assert "2026-03-12 gold: no rates for the day" in reasons
    assert "2026-03-13 palladium: /timeframe 2026-03-13: no rate for XPD" in reasons


def test_long_ranges_are_split_into_365_day_calls(settings, api):
    with Store.open(settings) as store:
        result = run_backfill(settings, store, since=date(2025, 1, 1), until=date(2026, 3, 15),
                              client_factory=fast_client, now=NOW)
        count = store.db.query("SELECT COUNT(*) AS n FROM spot_prices")[0]["n"]
    spans = [(date.fromisoformat(c.query["start_date"]), date.fromisoformat(c.query["end_date"]))
             for c in api.calls("timeframe")]
    assert len(spans) == 2 and all((end - start).days + 1 <= 365 for start, end in spans)
    assert spans[0][0] == date(2025, 1, 1) and spans[-1][1] == date(2026, 3, 15)
    days = (date(2026, 3, 15) - date(2025, 1, 1)).days + 1
    assert count == 4 * days and len(result.filled) == 4 * days


def test_api_failure_fails_the_backfill_without_bad_rows(settings, api):
    with Store.open(settings) as store:
        with pytest.raises(JobFailed, match="Invalid API Key"):
            run_backfill(_with_key(settings, "nope-nope-nope"), store, since=date(2026, 3, 1),
                         until=date(2026, 3, 2), client_factory=fast_client, now=NOW)
        assert store.db.query("SELECT COUNT(*) AS n FROM spot_prices")[0]["n"] == 0
        assert store.db.query("SELECT status FROM poller_runs")[0]["status"] == "error"


def _with_key(settings, key):
    from pydantic import SecretStr
    return settings.model_copy(update={"metal_price_api_key": SecretStr(key)})


def test_dry_run_reports_without_writing(settings, api):
    with Store.open(settings) as store:
        result = run_backfill(settings, store, since=date(2026, 3, 14), until=date(2026, 3, 15),
                              dry_run=True, client_factory=fast_client, now=NOW)
        assert store.db.query("SELECT COUNT(*) AS n FROM spot_prices")[0]["n"] == 0
    assert len(result.filled) == 8 and result.status == "dry_run"


def test_default_range_is_the_last_30_full_days(settings, api):
    with Store.open(settings) as store:
        result = run_backfill(settings, store, client_factory=fast_client, now=NOW)
    assert (result.since, result.until) == ("2026-02-14", "2026-03-15")


def test_bad_ranges_are_config_errors(settings):
    with Store.open(settings) as store:
        with pytest.raises(ConfigError, match="after --until"):
            run_backfill(settings, store, since=date(2026, 3, 10), until=date(2026, 3, 1), now=NOW)
        with pytest.raises(ConfigError, match="in the future"):
            run_backfill(settings, store, since=date(2026, 3, 10), until=date(2026, 3, 20), now=NOW)


def test_timeframe_chunks_cover_sparse_days_with_few_calls():
    days = [date(2024, 1, 1), date(2024, 6, 1), date(2025, 1, 5), date(2025, 1, 6)]
    assert timeframe_chunks(days) == [(date(2024, 1, 1), date(2024, 6, 1)), (date(2025, 1, 5), date(2025, 1, 6))]
