"""`staktrakr alerts`: each rule fires on its condition and only then; through a real Apprise
notification (json://) to a local HTTP receiver, an alert goes out once across two pollers sharing
a real libSQL server, repeats after ALERT_REPEAT, sends "resolved" when it clears, and no message
holds a secret."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from staktrakr.models import GoldbackRate, PollerRun, PriceObservation, ProviderFailure, SpotPrice
from staktrakr.ops.alerts import run_alerts
from staktrakr.store import Store
from staktrakr.store.session import ops_of
from staktrakr.timeutil import iso_z, parse_time
from tests.cli_helpers import run_cli
from tests.conftest import free_port

NOW = parse_time("2026-03-16T15:00:00Z")
TOKEN = "ghp_alertsecret0123456789"


class Receiver:
    """An HTTP server on 127.0.0.1 taking Apprise's json:// POSTs; `status` is what it answers."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.status == 200:
                    receiver.messages.append(json.loads(body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook/{TOKEN[-10:]}"

    def titles(self) -> list[str]:
        return [message["title"] for message in self.messages]

    def about(self, key: str) -> list[str]:
        """Titles of the messages about one alert key (firing, repeated, resolved), in order."""
        return [m["title"] for m in self.messages if f"alert: {key}" in m["message"] or m["title"].endswith(key)]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


def window(at: datetime) -> str:
    return iso_z(at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0))[:16] + ":00Z"


def catalog_file(tmp_path: Path) -> Path:
    path = tmp_path / "providers.json"
    path.write_text(json.dumps({"coins": {"ase": {"name": "American Silver Eagle", "metal": "silver", "weight_oz": 1,
                                                  "providers": [
        {"id": "apmex", "name": "APMEX", "url": "https://www.apmex.com/ase"},
        {"id": "sdbullion", "name": "SD Bullion", "url": "https://sdbullion.com/ase"}]}}}), encoding="utf-8")
    return path


@pytest.fixture
def pollers(make_settings, libsql_server, receiver, tmp_path):
    """Settings of two pollers (api, home) on one libSQL server, each with its own var dir."""
    def make(poller: str):
        return make_settings(poller_id=poller, turso_database_url=libsql_server.url, STAKTRAKR_VAR_DIR=tmp_path / poller,
                             providers_file=catalog_file(tmp_path), alert_urls=receiver.url, github_token=TOKEN)
    return make("api"), make("home")


def price(at: datetime, vendor: str, value: float | None, coin: str = "ase") -> PriceObservation:
    return PriceObservation(scraped_at=iso_z(at), window_start=window(at), coin_slug=coin, vendor=vendor, price=value,
                            source="http", is_failed=value is None, poller_id="api", run_id=f"run-{window(at)}")


def run(job: str, started: datetime, status: str = "ok", poller: str = "api", error: str | None = None) -> PollerRun:
    return PollerRun(run_id=f"{poller}-{job}-{iso_z(started)}", poller_id=poller, job=job, started_at=iso_z(started),
                     finished_at=None if status == "running" else iso_z(started + timedelta(seconds=30)),
                     status=status, error=error)  # type: ignore[arg-type]


def healthy(now: datetime, failing: str | None = None) -> list:
    """A world with nothing to alert on: fresh prices from both vendors, spot, Goldback, publish and
    merge (with `failing`, that vendor's targets fail in every window instead)."""
    rows: list = []
    for back in range(6):
        at = now - timedelta(minutes=15 * back)
        rows += [price(at, "apmex", 80.0), price(at, "sdbullion", None if failing == "sdbullion" else 81.0)]
    rows += [SpotPrice(metal="silver", spot=75.0, poller_id="api", timestamp=window(now), timestamp_floor=window(now),
                       scraped_at=iso_z(now)),
             GoldbackRate(date=iso_z(now - timedelta(days=1))[:10], g1_usd=10.0, scraped_at=iso_z(now), poller_id="api"),
             run("publish", now - timedelta(minutes=10)), run("merge", now - timedelta(minutes=5)),
             run("publish", now - timedelta(minutes=12), poller="home")]
    return rows


def stop_pricing(settings, vendor: str) -> None:
    """The vendor's prices of the last hour gone: its windows now hold only the failures written next."""
    with Store.open(settings) as store:
        store.db.execute("DELETE FROM price_snapshots WHERE vendor = ? AND window_start > ?",
                         (vendor, window(NOW - timedelta(hours=1))))


def write(settings, rows: list) -> None:
    with Store.open(settings) as store:
        store.ensure_schema()
        store.write(rows)


def evaluate(settings, now: datetime = NOW, dry_run: bool = False):
    with Store.open(settings) as store:
        store.ensure_schema()
        return run_alerts(settings, store, dry_run=dry_run, now=now)


def spot_jump_error() -> str:
    return "unconfirmed spot jump: silver 75.00 -> 90.00 (+20.0%), more than SPOT_MAX_JUMP 10%"


CONDITIONS = {
    "feed_stale:retail": lambda now: [],   # healthy() seeded 4 h back: the newest price is too old
    "vendor_failing:sdbullion": lambda now: [price(now - timedelta(minutes=15 * back), "sdbullion", None)
                                             for back in range(4)],
    "chronic:ase/apmex": lambda now: [ProviderFailure(coin_slug="ase", vendor_id="apmex", url=None, error="blocked",
                                                      failed_at=iso_z(now - timedelta(hours=h)), run_id=f"r{h}",
                                                      poller_id="api") for h in (1, 20, 40)],
    "job_failing:scrape/home": lambda now: [run("scrape", now - timedelta(minutes=m), "error", "home", "every target failed")
                                            for m in (20, 50)],
    "run_stuck:api-publish-2026-03-16T13:00:00.000Z": lambda now: [run("publish", now - timedelta(hours=2), "running")],
    "retail_jump:ase": lambda now: [price(now + timedelta(minutes=15), "apmex", 90.0),
                                    price(now + timedelta(minutes=15), "sdbullion", 91.0)],
    "spot_rejected:api": lambda now: [run("spot", now - timedelta(minutes=5), "error", error=spot_jump_error())],
    "feed_stale:merge": lambda now: [],    # the merge run of healthy() is moved 2 h back below
}


@pytest.mark.parametrize("key", list(CONDITIONS))
def test_each_rule_fires_on_its_condition_only(pollers, key):
    api, _ = pollers
    write(api, healthy(NOW - timedelta(hours=4) if key == "feed_stale:retail" else NOW))
    if key != "feed_stale:retail":
        assert [a["key"] for a in evaluate(api, dry_run=True).active] == []
    if key == "feed_stale:merge":
        write(api, [run("merge", NOW - timedelta(hours=2))])
        with Store.open(api) as store:
            store.db.execute("DELETE FROM poller_runs WHERE job = 'merge' AND started_at > ?",
                             (iso_z(NOW - timedelta(hours=1)),))
    if key == "vendor_failing:sdbullion":
        stop_pricing(api, "sdbullion")
    write(api, CONDITIONS[key](NOW))
    active = [a["key"] for a in evaluate(api, dry_run=True).active]
    if key == "feed_stale:retail":
        assert set(active) >= {key} and not any(k.startswith(("vendor", "chronic", "job", "retail_jump")) for k in active)
    else:
        assert active == [key]


def test_outbox_waiting_an_hour_alerts_its_own_host_only(pollers):
    api, home = pollers
    write(api, healthy(NOW))
    with Store.open(home) as store:
        store.outbox.append(ops_of([price(NOW, "apmex", 80.0)]), reason="database unreachable")
    outbox = home.outbox_path
    lines = outbox.read_text(encoding="utf-8").splitlines()
    entry = json.loads(lines[0])
    entry["queued_at"] = iso_z(NOW - timedelta(hours=2))
    outbox.write_text(json.dumps(entry) + "\n", encoding="utf-8")
    with Store.open(home) as store:
        from staktrakr.ops.alert_rules import evaluate as rules

        assert [a.key for a in rules(home, store, None, NOW)] == ["outbox_growing:home"]
    with Store.open(api) as store:
        from staktrakr.ops.alert_rules import evaluate as rules

        assert [a.key for a in rules(api, store, None, NOW)] == []


def test_fires_once_across_two_pollers_repeats_and_resolves(pollers, receiver):
    api, home = pollers
    write(api, healthy(NOW))
    stop_pricing(api, "sdbullion")
    write(api, CONDITIONS["vendor_failing:sdbullion"](NOW))
    results: dict[str, Any] = {}
    barrier = threading.Barrier(2)

    def evaluate_on(settings) -> None:
        barrier.wait()
        results[settings.poller_id] = evaluate(settings)

    threads = [threading.Thread(target=evaluate_on, args=(s,)) for s in (api, home)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert receiver.titles() == ["[staktrakr] vendor sdbullion failing"]
    assert sorted(results["api"].sent + results["home"].sent) == ["vendor_failing:sdbullion"]
    assert sorted(results["api"].held + results["home"].held) == ["vendor_failing:sdbullion"]
    assert "no price in its last 4 windows" in receiver.messages[0]["message"]

    key = "vendor_failing:sdbullion"
    write(api, healthy(NOW + timedelta(hours=3), failing="sdbullion"))
    evaluate(home, NOW + timedelta(hours=3))                       # within ALERT_REPEAT (6 h): nothing
    assert receiver.about(key) == ["[staktrakr] vendor sdbullion failing"]
    write(api, healthy(NOW + timedelta(hours=6, minutes=1), failing="sdbullion"))
    evaluate(home, NOW + timedelta(hours=6, minutes=1))            # past it: sent again, by either poller
    evaluate(api, NOW + timedelta(hours=6, minutes=2))
    assert receiver.about(key)[1:] == ["[staktrakr] vendor sdbullion failing (still)"]

    later = NOW + timedelta(hours=6, minutes=5)
    write(api, healthy(later))                                      # sdbullion prices again
    cleared = evaluate(api, later)
    assert key in cleared.resolved and key not in [a["key"] for a in cleared.active]
    assert key not in evaluate(home, later).resolved
    assert receiver.about(key)[2:] == [f"[staktrakr] resolved: {key}"]
    resolved = [m for m in receiver.messages if m["title"].endswith(key)]
    assert resolved[0]["type"] == "success" and receiver.messages[0]["type"] == "failure"


def test_failed_delivery_is_retried_on_the_next_run(pollers, receiver):
    api, _ = pollers
    write(api, healthy(NOW))
    write(api, CONDITIONS["spot_rejected:api"](NOW))
    receiver.status = 500
    assert evaluate(api).failed == ["spot_rejected:api"]
    receiver.status = 200
    assert evaluate(api, NOW + timedelta(minutes=15)).sent == ["spot_rejected:api"]
    assert receiver.titles() == ["[staktrakr] spot value rejected on api"]


def test_messages_hold_no_secret(pollers, receiver):
    api, _ = pollers
    write(api, healthy(NOW))
    write(api, [run("publish", NOW - timedelta(minutes=m), "error", error=f"push refused for {TOKEN} at remote")
                for m in (3, 8)])
    assert evaluate(api).sent == ["job_failing:publish/api"]
    text = json.dumps(receiver.messages)
    assert TOKEN not in text and TOKEN[-10:] not in text and "push refused for" in text


def test_cli_dry_run_reports_and_records_nothing(pollers, receiver, tmp_path):
    api, _ = pollers
    write(api, healthy(NOW - timedelta(hours=4)))
    env = {"TURSO_DATABASE_URL": api.turso_database_url, "PROVIDERS_FILE": str(api.providers_file),
           "ALERT_URLS": receiver.url, "POLLER_ID": "api"}
    result = run_cli(["alerts", "--dry-run", "--json"], env=env, var_dir=tmp_path / "cli")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert "feed_stale:retail" in answer["sent"] and answer["dry_run"] is True
    assert receiver.messages == [] and receiver.url not in result.output
    with Store.open(api) as store:
        assert store.db.query("SELECT COUNT(*) AS n FROM alert_state")[0]["n"] == 0
    sent = run_cli(["alerts"], env=env, var_dir=tmp_path / "cli")
    assert sent.exit_code == 0, sent.output
    assert "feed_stale:retail" in sent.stdout and "[sent]" in sent.stdout and receiver.messages


def test_database_unreachable_is_this_hosts_own_alert_then_resolved(make_settings, libsql_server, receiver, tmp_path):
    def settings(url: str):
        return make_settings(poller_id="home", turso_database_url=url, STAKTRAKR_VAR_DIR=tmp_path / "home",
                             providers_file=catalog_file(tmp_path), alert_urls=receiver.url, db_connect_timeout_s=1,
                             db_statement_timeout_s=1)
    dead = settings(f"http://127.0.0.1:{free_port()}")
    down = evaluate_without_schema(dead, NOW)
    assert down.database_error and down.sent == ["database_unreachable:home"]
    assert evaluate_without_schema(dead, NOW + timedelta(minutes=15)).held == ["database_unreachable:home"]
    assert receiver.titles() == ["[staktrakr] database unreachable from home"]
    back = settings(libsql_server.url)
    write(back, healthy(NOW + timedelta(minutes=30)))
    assert evaluate(back, NOW + timedelta(minutes=30)).resolved == ["database_unreachable:home"]
    assert receiver.titles()[1:] == ["[staktrakr] resolved: database_unreachable:home"]
    assert evaluate(back, NOW + timedelta(minutes=45)).resolved == []


def evaluate_without_schema(settings, now: datetime):
    with Store.open(settings) as store:
        return run_alerts(settings, store, now=now)


def test_retail_feed_with_nothing_in_its_lookback_says_so(pollers, receiver):
    """Prices 40 days old exist: the message says none in the 30 days searched, not none at all."""
    api, _ = pollers
    write(api, [price(NOW - timedelta(days=40), "apmex", 80.0)])
    result = evaluate(api)
    assert "feed_stale:retail" in result.sent
    text = json.dumps(receiver.messages)
    assert "no retail data in the last 30 days" in text and "no retail data at all" not in text
