"""Per-vendor circuit breaker: N connection-level failures in a row and the vendor's other targets
fail fast as `vendor_unreachable` (no request, no gap, no retry); an answer resets the count.
The time a dead-network cycle takes is measured by bench/dead_network.py, not here."""

from __future__ import annotations

import socket
import threading

import pytest

from staktrakr.jobs.scrape import ScrapeOptions, run_scrape
from staktrakr.store import Store
from tests.farm import Page, make_target, page_text
from tests.scrape_fixtures import rows

BREAKER = 3


class Hangup:
    """A dealer host that accepts each TCP connection and closes it at once (connection reset
    before any answer): a connection-level failure we can count."""

    def __init__(self) -> None:
        self.accepts = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.accepts += 1
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            conn.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self._stop = True
        self._sock.close()


@pytest.fixture
def hangup():
    host = Hangup()
    yield host
    host.close()


def distinct(targets):
    return [t.model_copy(update={"coin": t.coin.model_copy(update={"slug": f"{t.coin.slug}-{n}"})})
            for n, t in enumerate(targets)]


def test_dns_down_166_targets_fail_fast_after_three_failures_per_vendor(farm_settings):
    settings = farm_settings(scrape_attempts=3, scrape_breaker_failures=BREAKER)
    targets = distinct([make_target("ase", f"vendor{n % 9}", f"https://vendor{n % 9}.invalid/p{n}")
                        for n in range(166)])
    with Store.open(settings) as store:
        result = run_scrape(settings, store, targets, ScrapeOptions())
    assert result.total == 166 and result.captured == 0
    by_vendor: dict[str, list] = {}
    for outcome in result.outcomes:
        by_vendor.setdefault(outcome.vendor_id, []).append(outcome)
    for vendor, outcomes in by_vendor.items():
        first, *rest = outcomes
        # the real failure: DNS (connection), or a resolver that did not answer in time (timeout)
        assert first.reason.startswith(("connection:", "timeout:")), first.reason
        assert all(o.reason.startswith("vendor_unreachable: 3 connection failures in a row") for o in rest), vendor
        assert len(first.attempts) == 1                                     # one fetch, its retries inside
        assert all(len(o.attempts) == 1 and o.attempts[0].elapsed_ms == 0 for o in rest)
    failures = rows(settings, "SELECT error FROM provider_failures")
    assert len(failures) == 166 and sum(f["error"].startswith("vendor_unreachable") for f in failures) == 166 - 9


def test_after_the_breaker_trips_the_vendor_gets_no_more_requests(farm_settings, hangup):
    settings = farm_settings(scrape_attempts=3, scrape_breaker_failures=BREAKER)
    targets = distinct([make_target("ase", "deadvendor", hangup.url(f"/p{n}")) for n in range(12)])
    with Store.open(settings) as store:
        result = run_scrape(settings, store, targets, ScrapeOptions())
    assert hangup.accepts == BREAKER                       # three attempts on the first target, then nothing
    assert [o.reason.split(":")[0] for o in result.outcomes] == ["connection"] + ["vendor_unreachable"] * 11


def test_an_answer_resets_the_count(farm, farm_settings, hangup):
    """Two failures, then a vendor page that answers (even a 404): the vendor is reachable, and the
    next failures start counting from zero."""
    settings = farm_settings(scrape_attempts=1, scrape_breaker_failures=BREAKER)
    host = farm.host("flaky")
    good = host.add("/ok", page_text("jsonld_instock.html"))
    gone = host.add("/gone", Page("<html>gone</html>", status=404))
    urls = [hangup.url("/a"), hangup.url("/b"), gone, hangup.url("/c"), hangup.url("/d"), good]
    targets = distinct([make_target("ase", "flaky", url) for url in urls])
    with Store.open(settings) as store:
        result = run_scrape(settings, store, targets, ScrapeOptions())
    assert [o.reason.split(":")[0] if o.reason else "ok" for o in result.outcomes] == [
        "connection", "connection", "not_found", "connection", "connection", "ok"]
    assert hangup.accepts == 4


def test_the_breaker_is_per_vendor(farm, farm_settings, hangup):
    settings = farm_settings(scrape_attempts=1, scrape_breaker_failures=2)
    host = farm.host("healthy")
    dead = [make_target("ase", "dead", hangup.url(f"/p{n}")) for n in range(4)]
    alive = [make_target("ase", "healthy", host.add(f"/p{n}", page_text("jsonld_instock.html"))) for n in range(4)]
    with Store.open(settings) as store:
        result = run_scrape(settings, store, distinct(dead + alive), ScrapeOptions())
    reasons = {(o.vendor_id, o.reason.split(":")[0] if o.reason else "ok") for o in result.outcomes}
    assert reasons == {("dead", "connection"), ("dead", "vendor_unreachable"), ("healthy", "ok")}
    assert host.total_hits == 4 and hangup.accepts == 2
