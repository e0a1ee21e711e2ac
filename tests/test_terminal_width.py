"""Human output at 80 and 200 columns (rich's console width): scrape, status and providers list never
cut an identifier (coin slug, vendor id, fetcher name, URL), never print a Python repr, and group
a cycle's many failures by reason."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from staktrakr.catalog import load_catalog
from staktrakr.cli.providers import render_targets
from staktrakr.cli.scrape import render_result
from staktrakr.cli.status import render
from staktrakr.jobs.scrape import ScrapeResult
from staktrakr.jobs.scrape_target import TargetOutcome
from staktrakr.jobs.status import ChronicFailure, Coverage, RunLine, StatusReport
from staktrakr.ops.health import FeedAge, Freshness
from tests.conftest import REPO

WIDTHS = (80, 200)
LONG_COINS = ("goldback-new-hampshire-g1", "maple-silver", "ase")
LONG_VENDORS = ("gainesvillecoins", "monumentmetals", "providentmetals")
DNS_DOWN = "connection: net::ERR_NAME_NOT_RESOLVED at https://www.example-dealer.com/product/123"


def _console(width: int) -> Console:
    return Console(width=width, record=True, file=io.StringIO(), color_system=None)


def _whole(identifier: str, text: str) -> bool:
    """The identifier appears with no letter, digit, '-' or '/' glued on either side (not cut, not folded)."""
    return re.search(rf"(?<![\w-]){re.escape(identifier)}(?![\w-])", text) is not None


def _assert_readable(text: str, width: int, identifiers: list[str]) -> None:
    assert "…" not in text and "None" not in text and "False" not in text and "True" not in text
    for identifier in identifiers:
        assert _whole(identifier, text), f"{identifier!r} cut at {width} columns:\n{text}"


def _outcome(coin: str, vendor: str, ok: bool, reason: str | None = None, fetcher: str = "browser") -> TargetOutcome:
    return TargetOutcome(coin_slug=coin, vendor_id=vendor, vendor_name=vendor.title(), url="https://x.test/p",
                         scraped_at="2026-03-15T17:30:02.913Z", price=3112.4 if ok else None,
                         in_stock=True if ok else None, fetcher=fetcher, reason=None if ok else reason,
                         confidence=90 if ok else None, elapsed_ms=2300)


def _result(outcomes: list[TargetOutcome]) -> ScrapeResult:
    return ScrapeResult(job="scrape", run_id="home-scrape-20260315T1730-ab12cd", poller_id="home",
                        window_start="2026-03-15T17:30:00Z", started_at="2026-03-15T17:30:00.000Z",
                        duration_s=42.0, planned=len(outcomes), outcomes=outcomes, stored_rows=12)


@pytest.mark.parametrize("width", WIDTHS)
def test_scrape_table_keeps_every_identifier(width):
    outcomes = [_outcome(coin, vendor, ok=index % 2 == 0,
                         reason="wrong_product: page title names 1/10 oz but the coin is 1 oz, read by the browser")
                for index, (coin, vendor) in enumerate(zip(LONG_COINS, LONG_VENDORS, strict=True))]
    console = _console(width)
    render_result(_result(outcomes), console)
    text = console.export_text()
    _assert_readable(text, width, [*LONG_COINS, *LONG_VENDORS, "browser", "$3,112.40", "home-scrape-20260315T1730-ab12cd"])
    assert "playwright" not in text  # the fetcher's one name, as --fetcher takes it
    table_lines = [line for line in text.splitlines() if "scrape: captured" not in line]
    assert max(len(line) for line in table_lines) <= width
    assert "database rows stored" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_many_failures_are_grouped_by_reason_and_all_lists_them(width):
    vendors = [f"{vendor}{index}" for index in range(40) for vendor in ("apmex",)]
    outcomes = [_outcome("ase", vendor, ok=False, reason=DNS_DOWN.replace("123", str(index)))
                for index, vendor in enumerate(vendors)]
    outcomes += [_outcome("goldback-new-hampshire-g1", "gainesvillecoins", ok=False, reason="blocked: HTTP 403")]
    outcomes += [_outcome("maple-silver", "monumentmetals", ok=True)]
    console = _console(width)
    render_result(_result(outcomes), console)
    text = console.export_text()
    lines = [line.rstrip() for line in text.splitlines()]
    assert len(lines) < 12, text  # not one line per target
    assert "  40 x connection: net::ERR_NAME_NOT_RESOLVED at <url>" in lines
    assert "   1 x blocked: HTTP 403" in lines
    assert "priced 1, failed 41 (2 reasons); --all lists every target" in text
    _assert_readable(text, width, ["apmex0", "apmex1", "apmex2", "goldback-new-hampshire-g1", "gainesvillecoins"])

    everything = _console(width)
    render_result(_result(outcomes), everything, show_all=True)
    full = everything.export_text()
    _assert_readable(full, width, [*vendors, "goldback-new-hampshire-g1", "gainesvillecoins", "monumentmetals"])


def test_grouped_failure_reasons_wrap_with_an_indent_on_the_cli_console():
    """The CLI's console soft-wraps (one message a line in cron logs): a long reason must still wrap
    at 80 columns, under itself."""
    reason = ("vendor_unreachable: 3 connection failures in a row (connection: net::ERR_CONNECTION_REFUSED "
              "at <url>); not tried")
    outcomes = [_outcome("ase", f"apmex{index}", ok=False, reason=reason) for index in range(76)]
    console = Console(width=80, record=True, file=io.StringIO(), color_system=None, soft_wrap=True)
    render_result(_result(outcomes), console)
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    assert lines[0].startswith("  76 x vendor_unreachable:")
    assert all(len(line) <= 80 for line in lines[:4]), lines
    assert lines[1].startswith(" " * 7) and "not tried" in " ".join(lines[:3])


def _status_report() -> StatusReport:
    feeds = [FeedAge("retail", "2026-03-15T17:30:00Z", 240.0, 7200.0), FeedAge("spot", "2026-03-15T17:30:00Z",
             10800.0, 4500.0), FeedAge("goldback", "2026-03-14", 30000.0, 360000.0), FeedAge("publish", None, None, 2700.0)]
    runs = {"home": [RunLine("scrape", "2026-03-15T17:30:00.000Z", "ok", 150, 166, 312.0, None),
                     RunLine("publish", "2026-03-15T17:20:00.000Z", "error", None, None, 4.0,
                             "git push to origin (branch home) failed: remote rejected the push, protected branch")]}
    chronic = [ChronicFailure("goldback-new-hampshire-g1", "monumentmetals", 14, "2026-03-15T17:31:00.000Z",
                              "connection: net::ERR_NAME_NOT_RESOLVED while loading the product page"),
               ChronicFailure("maple-silver", "gainesvillecoins", 3, "2026-03-14 10:00:00", "blocked: HTTP 403")]
    missing = [f"{coin}/{vendor}" for coin in LONG_COINS for vendor in LONG_VENDORS]
    return StatusReport(generated_at="2026-03-15T17:34:00.000Z", poller_id="home", database="libsql://db.turso.io",
                        database_error=None, freshness=Freshness(feeds, None),
                        outbox={"entries": 0, "rows": 0, "path": "/var/lib/staktrakr/outbox.jsonl"}, runs=runs,
                        coverage=Coverage("2026-03-15T17:00:00Z", 157, 166, missing), chronic=chronic)


@pytest.mark.parametrize("width", WIDTHS)
def test_status_keeps_identifiers_and_timestamps_whole(width):
    console = _console(width)
    render(_status_report(), console)
    text = console.export_text()
    missing = [f"{coin}/{vendor}" for coin in LONG_COINS for vendor in LONG_VENDORS]
    _assert_readable(text, width, [*LONG_COINS, *LONG_VENDORS, *missing, "2026-03-15T17:30:00Z", "scrape", "publish"])
    assert "4 min ago" in text and "3.0 h ago" in text and "150/166" in text
    assert max(len(line) for line in text.splitlines()) <= width
    lines = text.splitlines()
    first = next(index for index, line in enumerate(lines) if line.startswith("  missing: "))
    if width == 80:  # the list goes on under itself, not at the left edge
        assert lines[first + 1].startswith(" " * len("  missing: ")), lines[first:first + 3]


@pytest.mark.parametrize("width", WIDTHS)
def test_providers_list_prints_whole_urls(width):
    targets = load_catalog(REPO / "providers.json").targets()
    console = _console(width)
    render_targets(targets, console)
    text = console.export_text()
    identifiers = {t.coin.slug for t in targets} | {t.vendor_id for t in targets}
    _assert_readable(text, width, sorted(identifiers))
    for target in targets:
        assert target.urls[0] in text.splitlines() or any(line.strip() == target.urls[0] or
                                                          line.rstrip().endswith(" " + target.urls[0])
                                                          for line in text.splitlines()), target.urls[0]
