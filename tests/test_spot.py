"""Spot job against a fake MetalPriceAPI (real local HTTP server) and a real database.

The rule under test: whatever the API answers, the database only ever receives four plausible,
confirmed values for the slot, or nothing (and an `error` run row).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from staktrakr.errors import ConfigError, JobFailed
from staktrakr.jobs.spot import run_spot
from staktrakr.models import SpotPrice
from staktrakr.store import Store
from tests.fake_apis import API_KEY, TODAY_PRICES, FakeMetalPriceApi, Reply, error_body, fast_client, latest_body

NOW = datetime(2026, 3, 15, 19, 37, 12, tzinfo=UTC)
SLOT = "2026-03-15T19:30:00Z"
PREVIOUS_SLOT = "2026-03-15T19:15:00Z"


@pytest.fixture
def api():
    with FakeMetalPriceApi() as fake:
        yield fake


@pytest.fixture
def spot_settings(make_settings, api, tmp_path):
    def _make(db_url: str | None = None, **overrides):
        values = {"metal_price_api_key": API_KEY, "metal_price_api_base_url": api.base_url, "fetch_timeout_s": 2,
                      "poller_id": "api", "turso_database_url": db_url or "file:" + str(tmp_path / "spot.db")}
        values.update(overrides)
        return make_settings(**values)
    return _make


def open_store(settings) -> Store:
    store = Store.open(settings)
    store.migrate()
    return store


def seed_previous(store: Store, prices: dict[str, float], slot: str = PREVIOUS_SLOT) -> None:
    store.write([SpotPrice(metal=m, spot=v, poller_id="home", timestamp=slot, timestamp_floor=slot,
                           scraped_at="2026-03-15T19:15:03.000Z") for m, v in prices.items()])


def spot_rows(store: Store, slot: str = SLOT) -> list[dict]:
    return store.db.query("SELECT * FROM spot_prices WHERE timestamp_floor = ? ORDER BY metal", [slot])


def runs(store: Store) -> list[dict]:
    return store.db.query("SELECT * FROM poller_runs WHERE job = 'spot' ORDER BY started_at")


def test_normal_answer_stores_one_row_per_metal_for_the_slot(spot_settings, api, libsql_server):
    settings = spot_settings(libsql_server.url)
    with open_store(settings) as store:
        seed_previous(store, TODAY_PRICES)
        result = run_spot(settings, store, client_factory=fast_client, now=NOW)
        rows = spot_rows(store)
        run_rows = runs(store)
    assert result.status == "stored" and result.api_calls == 1
    assert {r["metal"]: r["spot"] for r in rows} == TODAY_PRICES
    for row in rows:
        assert row["timestamp_floor"] == SLOT and row["timestamp"] == SLOT
        assert row["source"] == "metalprice-api" and row["poller_id"] == "api"
        assert row["scraped_at"].endswith("Z") and row["scraped_at"] != SLOT
        assert row["provider_timestamp"] == "2026-03-15T19:00:00.000Z"
    assert [(r["status"], r["captured"]) for r in run_rows] == [("ok", 4)]
    assert api.calls("latest")[0].query["currencies"] == "XAU,XAG,XPT,XPD"
    assert api.calls("latest")[0].query["base"] == "USD"


def test_bare_keys_alone_are_inverted(spot_settings, api):
    api.default_latest = Reply(body=latest_body({"gold": 5000.0, "silver": 80.0, "platinum": 2000.0,
                                                 "palladium": 1500.0}, prefixed=False))
    settings = spot_settings()
    with open_store(settings) as store:
        seed_previous(store, {"gold": 4990.0, "silver": 79.5, "platinum": 2010.0, "palladium": 1490.0})
        run_spot(settings, store, client_factory=fast_client, now=NOW)
        assert {r["metal"]: r["spot"] for r in spot_rows(store)} == {
            "gold": 5000.0, "silver": 80.0, "platinum": 2000.0, "palladium": 1500.0}


def test_rerun_in_the_same_slot_is_idempotent_and_spends_no_call(spot_settings, api):
    settings = spot_settings()
    with open_store(settings) as store:
        seed_previous(store, TODAY_PRICES)
        run_spot(settings, store, client_factory=fast_client, now=NOW)
        api.default_latest = Reply(body=latest_body({**TODAY_PRICES, "gold": 5030.0}))
        again = run_spot(settings, store, client_factory=fast_client, now=NOW.replace(minute=44))
        rows = spot_rows(store)
    assert again.status == "already_stored"
    assert len(api.calls("latest")) == 1
    assert len(rows) == 4 and {r["metal"]: r["spot"] for r in rows}["gold"] == TODAY_PRICES["gold"]
    # the early return is a run too: it has its row (the old job wrote none)
    with open_store(settings) as store:
        run_rows = runs(store)
    assert [(r["run_id"], r["status"], r["total"]) for r in run_rows][-1] == (again.run_id, "ok", 0)
    assert again.run.status == "ok" and again.run.exit_code == 0


def test_first_run_without_reference_is_confirmed_by_a_second_fetch(spot_settings, api):
    settings = spot_settings()
    with open_store(settings) as store:
        result = run_spot(settings, store, client_factory=fast_client, now=NOW)
        assert len(spot_rows(store)) == 4
    assert result.api_calls == 2 and result.confirmed == sorted(TODAY_PRICES)


BAD_ANSWERS = {
    "success_false": (Reply(body=error_body(104, "Monthly API request volume reached.")),
                      "Monthly API request volume reached"),
    "missing_metal": (Reply(body=latest_body({k: v for k, v in TODAY_PRICES.items() if k != "palladium"})),
                      "no rate for XPD"),
    "zero_rate": (Reply(body=latest_body({**TODAY_PRICES, "gold": 0}, prefixed=False)), "XAU rate is 0"),
    "one_cent_silver": (Reply(body=latest_body({**TODAY_PRICES, "silver": 0.01})), "silver 0.01 outside the band"),
    "usd_key_inverted_bug": (Reply(body={"success": True, "timestamp": 1773601200, "base": "USD", "rates": {
        "XAU": 5018.96, "USDXAU": 5018.96, "XAG": 80.0, "USDXAG": 80.0, "XPT": 2000.0, "USDXPT": 2000.0,
        "XPD": 1500.0, "USDXPD": 1500.0}}), "disagrees with USDXAU"),
    "no_rates": (Reply(body={"success": True, "timestamp": 1773601200}), "no 'rates'"),
    "not_json": (Reply(body="<html>maintenance</html>", content_type="text/html"), "not a JSON object"),
    "http_500": (Reply(status=500, body={"success": False, "error": {"statusCode": 500, "message": "upstream"}}),
                 "HTTP 500"),
}


@pytest.mark.parametrize("case", sorted(BAD_ANSWERS))
def test_bad_answers_store_nothing_and_fail_with_the_reason(case, spot_settings, api, caplog):
    reply, reason = BAD_ANSWERS[case]
    api.default_latest = reply
    settings = spot_settings()
    with open_store(settings) as store:
        seed_previous(store, TODAY_PRICES)
        with caplog.at_level(logging.DEBUG), pytest.raises(JobFailed) as failure:
            run_spot(settings, store, client_factory=fast_client, now=NOW)
        rows = spot_rows(store)
        run_rows = runs(store)
    message = str(failure.value)
    assert reason in message and "nothing stored" in message and "\n" not in message
    ours = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("staktrakr"))
    assert API_KEY not in message and API_KEY not in ours     # httpx's own URL log is redacted by log.py
    assert rows == []
    assert [r["status"] for r in run_rows] == ["error"] and reason in run_rows[0]["error"]


def test_a_500_is_retried_once(spot_settings, api):
    api.latest_replies = [Reply(status=502, body="bad gateway", content_type="text/plain")]
    settings = spot_settings()
    with open_store(settings) as store:
        seed_previous(store, TODAY_PRICES)
        result = run_spot(settings, store, client_factory=fast_client, now=NOW)
        assert len(spot_rows(store)) == 4
    assert result.api_calls == 2


def test_timeout_fails_without_storing(spot_settings, api):
    api.default_latest = Reply(body=latest_body(), delay_s=1.5)
    settings = spot_settings(fetch_timeout_s=0.3)
    with open_store(settings) as store:
        seed_previous(store, TODAY_PRICES)
        with pytest.raises(JobFailed, match="timed out"):
            run_spot(settings, store, client_factory=fast_client, now=NOW)
        assert spot_rows(store) == []
    assert len(api.calls("latest")) == 2


def test_unconfirmed_jump_is_refused(spot_settings, api, libsql_server):
    api.latest_replies = [Reply(body=latest_body({**TODAY_PRICES, "gold": 9100.0})),
                          Reply(body=latest_body({**TODAY_PRICES, "gold": 7400.0}))]
    settings = spot_settings(libsql_server.url)
    with open_store(settings) as store:
        seed_previous(store, TODAY_PRICES)
        with pytest.raises(JobFailed, match=r"unconfirmed spot jump: gold 7400\.00 is 47% from 5018\.96 .*"
                                            "the second fetch gave 7400.00 instead of 9100.00"):
            run_spot(settings, store, client_factory=fast_client, now=NOW)
        assert spot_rows(store) == []
        assert [r["status"] for r in runs(store)] == ["error"]
    assert len(api.calls("latest")) == 2


def test_jump_with_a_failing_second_fetch_is_refused(spot_settings, api):
    api.latest_replies = [Reply(body=latest_body({**TODAY_PRICES, "platinum": 4100.0})),
                          Reply(body=error_body(105, "Rate limit reached."))]
    settings = spot_settings()
    with open_store(settings) as store:
        seed_previous(store, TODAY_PRICES)
        with pytest.raises(JobFailed, match="Rate limit reached"):
            run_spot(settings, store, client_factory=fast_client, now=NOW)
        assert spot_rows(store) == []


def test_a_glitch_the_second_fetch_does_not_repeat_is_discarded(spot_settings, api, libsql_server):
    """A one-off jump is not stored; the second answer, back in line with history, is."""
    api.latest_replies = [Reply(body=latest_body({**TODAY_PRICES, "gold": 9100.0})),
                          Reply(body=latest_body({**TODAY_PRICES, "gold": 5021.0}))]
    settings = spot_settings(libsql_server.url)
    with open_store(settings) as store:
        seed_previous(store, TODAY_PRICES)
        result = run_spot(settings, store, client_factory=fast_client, now=NOW)
        stored = {r["metal"]: r["spot"] for r in spot_rows(store)}
    assert stored["gold"] == 5021.0 and result.confirmed == []
    assert len(api.calls("latest")) == 2


def test_confirmed_jump_is_stored_from_the_second_fetch(spot_settings, api):
    api.latest_replies = [Reply(body=latest_body({**TODAY_PRICES, "silver": 95.0})),
                          Reply(body=latest_body({**TODAY_PRICES, "silver": 95.3}))]
    settings = spot_settings()
    with open_store(settings) as store:
        seed_previous(store, TODAY_PRICES)
        result = run_spot(settings, store, client_factory=fast_client, now=NOW)
        stored = {r["metal"]: r["spot"] for r in spot_rows(store)}
    assert result.confirmed == ["silver"] and stored["silver"] == 95.3


def test_jump_limit_is_configurable(spot_settings, api):
    api.default_latest = Reply(body=latest_body({**TODAY_PRICES, "silver": 95.0}))
    settings = spot_settings(spot_max_jump=0.25)
    with open_store(settings) as store:
        seed_previous(store, TODAY_PRICES)
        result = run_spot(settings, store, client_factory=fast_client, now=NOW)
    assert result.api_calls == 1 and result.prices["silver"] == 95.0


def test_old_bad_rows_are_no_jump_reference(spot_settings, api):
    """The old system stored gold 0 and silver 0.01: they must not make today's price look like a jump."""
    settings = spot_settings()
    with open_store(settings) as store:
        seed_previous(store, TODAY_PRICES, slot="2026-03-15T18:00:00Z")
        store.db.execute("INSERT INTO spot_prices (metal, spot, poller_id, timestamp, timestamp_floor) VALUES "
                         "('silver', 0.01, 'fly-spot', ?, ?)", [PREVIOUS_SLOT, PREVIOUS_SLOT])
        result = run_spot(settings, store, client_factory=fast_client, now=NOW)
    assert result.api_calls == 1 and result.status == "stored"


def test_band_override_from_settings(spot_settings, api):
    settings = spot_settings(spot_bands="gold=6000:30000")
    with open_store(settings) as store:
        seed_previous(store, TODAY_PRICES)
        with pytest.raises(JobFailed, match=r"gold 5018\.96 outside the band 6000-30000"):
            run_spot(settings, store, client_factory=fast_client, now=NOW)


def test_key_in_header_mode_stays_out_of_the_url(spot_settings, api):
    settings = spot_settings(metal_price_api_auth="header")
    with open_store(settings) as store:
        seed_previous(store, TODAY_PRICES)
        run_spot(settings, store, client_factory=fast_client, now=NOW)
    request = api.calls("latest")[0]
    assert "api_key" not in request.query and request.headers["x-api-key"] == API_KEY


def test_wrong_key_is_a_one_line_failure_without_the_key(spot_settings, api):
    settings = spot_settings(metal_price_api_key="wrong-key-123456")
    with open_store(settings) as store:
        with pytest.raises(JobFailed, match="101 Invalid API Key") as failure:
            run_spot(settings, store, client_factory=fast_client, now=NOW)
    assert "wrong-key-123456" not in str(failure.value)


def test_missing_key_is_a_config_error(spot_settings):
    settings = spot_settings(metal_price_api_key=None)
    with open_store(settings) as store, pytest.raises(ConfigError, match="METAL_PRICE_API_KEY is not set"):
        run_spot(settings, store, client_factory=fast_client, now=NOW)


def test_dry_run_writes_nothing(spot_settings, api):
    settings = spot_settings()
    with open_store(settings) as store:
        seed_previous(store, TODAY_PRICES)
        result = run_spot(settings, store, dry_run=True, client_factory=fast_client, now=NOW)
        assert spot_rows(store) == [] and runs(store) == []
    assert result.status == "dry_run" and result.prices == TODAY_PRICES


def test_database_down_queues_confirmed_rows_then_replays(spot_settings, api, libsql_server):
    settings = spot_settings(libsql_server.url)
    with open_store(settings) as store:
        seed_previous(store, TODAY_PRICES)
    libsql_server.stop()
    with Store.open(settings) as store:
        result = run_spot(settings, store, client_factory=fast_client, now=NOW)
    assert result.status == "queued" and result.api_calls == 2    # no reference readable: confirmed
    libsql_server.start()
    with Store.open(settings) as store:
        store.prepare()
        assert {r["metal"]: r["spot"] for r in spot_rows(store)} == TODAY_PRICES
