"""What diagnose's probes mean: the outcome the catalog's rules give, and the change that fixes it.

Each suggestion is checked before it is offered: a proxy rule only when the same fetcher got the
page through the proxy after a block; a fetcher order only when another fetcher priced the page
the vendor's first one could not; a price column only when reading the page again with that
column added gives a price. Suggestions are printed as the `staktrakr providers` command that
applies them (cli/providers.py), so the operator pastes one line and verifies with
`staktrakr scrape --coin SLUG --vendor ID`.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

import lxml.html

from staktrakr.catalog import Target, VendorRules
from staktrakr.extract import extract_offer
from staktrakr.extract.money import find_amounts
from staktrakr.extract.tables import is_payment_header
from staktrakr.jobs.diagnose import Probe, Suggestion, proxy_worthy, settled

# Header cells that name the quantity tier, not a payment method.
NOT_PAYMENT_HEADERS = re.compile(r"^(qty|quantity|quantities|tier|tiers|units?|amount|pricing|price|prices|"
                                 r"buy|order|per coin|each|\W*)$", re.IGNORECASE)
HEADER_MAX_CHARS = 40


def simulate_walk(probes: list[Probe], rules: VendorRules) -> str:
    """The scrape's outcome with the catalog's rules, replayed over the probes (fetch/walk.py order:
    URLs, then the vendor's fetchers, direct then the proxy fallback): a price or the reason."""
    first_failure: str | None = None
    first_read: str | None = None
    for url in dict.fromkeys(probe.url for probe in probes):
        for name in rules.fetchers:
            direct = _find(probes, url, name, via_proxy=False)
            proxied = _find(probes, url, name, via_proxy=True)
            chosen = proxied if rules.proxy == "always" and proxied is not None else direct
            if chosen is not None and proxy_worthy(chosen) and rules.proxy == "fallback" and proxied is not None:
                chosen = proxied
            if chosen is None:
                continue
            where = f"{name}{' through the proxy' if chosen.via_proxy else ''} at {url}"
            if chosen.priced:
                return f"price {chosen.result_line()} via {where}"
            if settled(chosen):
                return f"fails: {chosen.result_line()} ({where})"
            if chosen.finding is not None:
                first_read = first_read or f"{chosen.result_line()} ({where})"
            elif chosen.failure != "disabled":
                first_failure = first_failure or f"{chosen.result_line()} ({where})"
    return f"fails: {first_read or first_failure or 'no fetcher ran'}"


def suggest(probes: list[Probe], target: Target, spot_usd: float | None) -> list[Suggestion]:
    """Catalog changes the probes justify, most decisive first (empty when the cause is unclear)."""
    found = [*_proxy_first(probes, target), *_price_column(probes, target, spot_usd), *_fetcher_order(probes, target)]
    if not found:
        found += _page_gone(probes, target)
    return found


def _find(probes: list[Probe], url: str, fetcher: str, via_proxy: bool) -> Probe | None:
    return next((p for p in probes if p.url == url and p.fetcher == fetcher and p.via_proxy == via_proxy), None)


def _rule_command(target: Target, field: str, value: str, append: bool = False) -> str:
    return (f"staktrakr providers set-rule {target.vendor_id} {field} {shlex.quote(value)}"
            + (" --append" if append else ""))


def _proxy_first(probes: list[Probe], target: Target) -> list[Suggestion]:
    if target.rules.proxy == "always":
        return []
    for direct in probes:
        if direct.via_proxy or not direct.blocked:
            continue
        proxied = _find(probes, direct.url, direct.fetcher, via_proxy=True)
        if proxied is not None and proxied.failure is None:
            status = f"HTTP {direct.status}" if direct.status else direct.detail
            return [Suggestion(f"{direct.fetcher}: {status} direct, {proxied.status or 'a page'} through the proxy "
                               f"({proxied.result_line()}): put the proxy first",
                               _rule_command(target, "proxy", "always"))]
    return []


def _fetcher_order(probes: list[Probe], target: Target) -> list[Suggestion]:
    """Another fetcher priced the first URL that the vendor's first fetcher could not."""
    configured = list(target.rules.fetchers)
    first_url = probes[0].url if probes else None
    firsts = [p for p in probes if p.url == first_url and p.fetcher == configured[0]]
    if not firsts or any(p.priced for p in firsts):
        return []
    winner = next((p for p in probes if p.url == first_url and p.priced and p.fetcher != configured[0]), None)
    if winner is None:
        return []
    order = [winner.fetcher, *(name for name in configured if name != winner.fetcher)]
    return [Suggestion(f"{configured[0]} gets no price ({firsts[0].result_line()}) but {winner.fetcher} reads "
                       f"{winner.result_line()}: put {winner.fetcher} first",
                       _rule_command(target, "fetchers", ",".join(order)))]


def _price_column(probes: list[Probe], target: Target, spot_usd: float | None) -> list[Suggestion]:
    """A pricing table header naming no known payment column that, added to price_columns, gives the
    price. Of several such headers the one giving the lowest price wins: the check/wire column is
    the dealer's cash discount."""
    for probe in probes:
        finding = probe.finding
        if probe.content is None or finding is None or finding.ok or finding.failure == "wrong_product":
            continue
        priced: list[tuple[float, str]] = []
        for header in unknown_headers(probe.content.html, probe.content.markdown, target.rules):
            rules = target.rules.model_copy(update={"price_columns": [*target.rules.price_columns, header.lower()]})
            finding = extract_offer(probe.content, target.coin, rules, spot_usd)
            if finding.ok and finding.price is not None:
                priced.append((finding.price, header))
        if priced:
            price, header = min(priced)
            return [Suggestion(f"the price table's check/wire column is {header!r}, not a known payment column: "
                               f"add it to price_columns (then {probe.fetcher} reads ${price:,.2f})",
                               _rule_command(target, "price_columns", header.lower(), append=True))]
    return []


def unknown_headers(html: str | None, markdown: str | None, rules: VendorRules) -> list[str]:
    """Header cells of the page's tables (HTML first rows, markdown pipe-table headers) that name
    neither a payment column the rules know nor the quantity tier."""
    headers: list[str] = []
    if html:
        tree = lxml.html.fromstring(html)
        for table in tree.iter("table"):
            first: list[Any] = table.xpath("(./tr | ./thead/tr | ./tbody/tr)[1]")  # type: ignore[assignment]
            if first:
                cells: list[Any] = first[0].xpath("./th | ./td")
                headers += [" ".join(cell.text_content().split()) for cell in cells]
    for line in (markdown or "").splitlines():
        if line.strip().startswith("|") and not find_amounts(line):
            headers += [cell.strip(" *_") for cell in line.strip().strip("|").split("|")]
    return list(dict.fromkeys(
        header for header in headers
        if header and len(header) <= HEADER_MAX_CHARS and not re.search(r"\d", header) and not set(header) <= set("-: ")
        and not NOT_PAYMENT_HEADERS.match(header) and not is_payment_header(header, rules)))


def _page_gone(probes: list[Probe], target: Target) -> list[Suggestion]:
    tried = [p for p in probes if p.failure != "disabled"]
    if tried and all(p.failure == "not_found" for p in tried):
        return [Suggestion(f"every fetcher gets {tried[0].result_line()}: the page moved; find the new URL and run "
                           f"`staktrakr providers set-url {target.coin.slug} {target.vendor_id} NEW_URL`, or take the "
                           "target out of the scrape",
                           f"staktrakr providers disable {target.coin.slug} {target.vendor_id}")]
    return []
