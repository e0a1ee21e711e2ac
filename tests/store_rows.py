"""Row factories for store tests."""

from __future__ import annotations

from staktrakr.models import GoldbackRate, PollerRun, PriceObservation, ProviderFailure, SpotPrice

WINDOW = "2026-03-15T20:00:00Z"


def cycle_rows(poller: str = "api", run_id: str = "api-run-1", n: int = 5, window: str = WINDOW) -> list:
    """One scrape cycle's worth of rows: n prices, one failure, the finished run."""
    rows: list = [
        PriceObservation(scraped_at=f"2026-03-15T20:00:0{i % 10}.000Z", window_start=window, coin_slug=f"coin-{i}",
                         vendor="apmex", price=90.0 + i, source="http", confidence=80, poller_id=poller, run_id=run_id,
                         evidence='{"rule": "jsonld"}')
        for i in range(n)
    ]
    rows.append(PriceObservation(scraped_at="2026-03-15T20:00:09.000Z", window_start=window, coin_slug="ase",
                                 vendor="jmbullion", price=None, source="browser", is_failed=True, poller_id=poller,
                                 run_id=run_id))
    rows.append(ProviderFailure(coin_slug="ase", vendor_id="jmbullion", url="https://www.jmbullion.com/x",
                                error="blocked: HTTP 403", failed_at="2026-03-15T20:00:09.000Z", run_id=run_id,
                                poller_id=poller))
    rows.append(PollerRun(run_id=run_id, poller_id=poller, job="scrape", started_at="2026-03-15T20:00:00.000Z",
                          finished_at="2026-03-15T20:01:00.000Z", status="ok", total=n + 1, captured=n, failures=1))
    return rows


def spot_row(metal: str = "gold", spot: float = 5019.5, slot: str = "2026-03-15T19:45:00Z") -> SpotPrice:
    return SpotPrice(metal=metal, spot=spot, poller_id="api", timestamp=slot, timestamp_floor=slot,
                     scraped_at="2026-03-15T19:46:01.123Z")


def goldback_row(date: str = "2026-03-15", g1: float = 10.06) -> GoldbackRate:
    return GoldbackRate(date=date, g1_usd=g1, scraped_at="2026-03-15T17:05:00.000Z", poller_id="api")


def count(store, table: str) -> int:
    return store.db.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]
