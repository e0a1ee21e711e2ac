"""Page -> Finding: the price, stock status and evidence for one coin on one dealer page. No I/O.

Readings, then a decision:
1. Prepare the page (regions.py, text.py): visible text that keeps element boundaries (glued
   inline elements, cents in superscript, struck-out "was" prices), with other products'
   containers, site furniture and the vendor's cut regions set aside (their amounts are kept as
   readings of another locus, for the record).
2. A title naming a fractional weight for a full-ounce coin -> failure "wrong_product".
3. Every reader reports readings (readings.py): JSON-LD, microdata and RDFa product scopes
   (the page's own product chosen the same way for all, structured.py), product meta tags, the
   pricing table (HTML, markdown, flattened text), labelled prices, bulk labels and the prose
   near the title.
4. One decision (decide.py) picks the unit price in US dollars, or fails with the reason:
   "wrong_currency", "conflicting_prices", "out_of_band", "no_price".
5. Stock (stock.py) from the main product's structured availability and buy button. A price
   with an out-of-stock page is returned with in_stock=False (the last known price). A
   pre-order the vendor does not tolerate is also in_stock=False with its price, not a failure.
   A price with no stock signal at all counts as in stock: the page offers it for sale.
"""

from __future__ import annotations

import re

import lxml.html

from staktrakr.catalog import Coin, VendorRules
from staktrakr.extract.base import Finding, PageContent
from staktrakr.extract.decide import Decision, PageFacts, decide
from staktrakr.extract.jsonld import jsonld_scopes
from staktrakr.extract.labels import (
    bulk_readings,
    card_price_statements,
    check_discount_statement,
    label_readings,
    prose_readings,
)
from staktrakr.extract.microdata import html_scopes
from staktrakr.extract.money import evidence, find_amounts, roles_in, stated_currency
from staktrakr.extract.readings import Locus, Reading, Role
from staktrakr.extract.regions import HtmlPage, prepare_html
from staktrakr.extract.stock import StockReading, in_stock_for, phrase_reading, read_stock
from staktrakr.extract.structured import ProductScope, choose_scope, other_product_readings, read_meta
from staktrakr.extract.tables import div_grid_readings, html_table_readings, markdown_table_readings
from staktrakr.extract.tier_text import bare_tier_readings, flat_tier_readings, payment_line_readings
from staktrakr.extract.views import PURCHASE_LINE, TextView, markdown_view
from staktrakr.extract.weights import (
    fractional_weight,
    names_fraction_of_full_ounce,
    other_goldback_denomination,
    other_weight,
)
from staktrakr.rules.bands import Band, price_band

__all__ = ["Finding", "PageContent", "extract_offer"]

# Metals sold by the troy ounce, where a fractional title on a full-ounce page is a wrong product.
OUNCE_METALS = frozenset({"silver", "gold", "platinum", "palladium"})
OTHER_REGION_AMOUNTS_MAX = 12
NOT_BUYABLE_LINE = re.compile(r"sold out|out of stock|unavailable|notify me", re.IGNORECASE)


def extract_offer(page: PageContent, coin: Coin, rules: VendorRules, spot_usd_per_oz: float | None) -> Finding:
    """Read one dealer page for one coin: a unit price in USD with stock and evidence, or a
    failure reason ("no_price", "out_of_band", "wrong_product", "wrong_currency",
    "conflicting_prices", "out_of_stock", "preorder")."""
    band = price_band(coin, spot_usd_per_oz)
    html_page = prepare_html(page.html, rules) if page.html else None
    md_view = markdown_view(page.markdown, rules) if page.markdown else None
    views = [view for view in (html_page.view if html_page else None, md_view) if view is not None and view.lines]
    scopes = _structured_scopes(html_page, rules, band)
    if not views and not any(scope.readings or scope.availability for scope in scopes):
        return Finding(failure="no_price", detail="page is empty (no visible text)")
    wrong = _wrong_product(coin, views, scopes, html_page)
    if wrong is not None:
        return wrong

    readings, own_scopes, notes = _readings(html_page, md_view, views, scopes, coin, page.url, rules)
    decision = decide(readings, band, notes, _page_facts(html_page, views, rules))
    stock = _stock(own_scopes, html_page, views)
    in_stock = in_stock_for(stock.state, rules)
    recorded = [reading.to_json() for reading in decision.readings]
    if decision.chosen is not None:
        return Finding(
            price=round(decision.chosen.amount, 2),
            in_stock=True if in_stock is None else in_stock,
            rule=decision.chosen.rule,
            evidence=decision.chosen.evidence,
            stock_evidence=stock.evidence,
            decision=decision.summary,
            readings=recorded,
        )
    failed = _failure(coin, band, decision, stock, in_stock, readings, rules)
    return failed.model_copy(update={"decision": decision.summary or f"{failed.failure}: {failed.detail}",
                                     "readings": recorded})


def _structured_scopes(html_page: HtmlPage | None, rules: VendorRules, band: Band) -> list[ProductScope]:
    if html_page is None:
        return []
    title = _title_element(html_page)
    return [*jsonld_scopes(html_page.jsonld, rules, band), *html_scopes(html_page.tree, title)]


def _title_element(html_page: HtmlPage) -> lxml.html.HtmlElement | None:
    return next((h for h in html_page.tree.iter("h1") if h.text_content().strip(" \n\t\ue001")), None)


def _readings(html_page: HtmlPage | None, md_view: TextView | None, views: list[TextView],
              scopes: list[ProductScope], coin: Coin, url: str, rules: VendorRules
              ) -> tuple[list[Reading], list[ProductScope], list[str]]:
    """Every reading of the page (own product and elsewhere), the own product's scopes, notes."""
    readings: list[Reading] = []
    own_scopes: list[ProductScope] = []
    notes: list[str] = []
    title = next((view.title for view in views if view.title), None)
    for rule in ("jsonld", "microdata", "rdfa"):
        choice = choose_scope([scope for scope in scopes if scope.rule == rule], coin, url, title)
        if choice.own is not None:
            own_scopes.append(choice.own)
            readings += choice.own.readings
            if choice.own.ambiguous:
                notes.append(f"{rule}: {choice.own.ambiguous}")
        readings += other_product_readings(choice.others)
        if choice.note:
            notes.append(f"{rule}: {choice.note}")
    if html_page is not None:
        meta = read_meta(html_page.meta)
        if meta is not None:
            own_scopes.append(meta)
            readings += meta.readings
        readings += html_table_readings(html_page.tree, rules) or div_grid_readings(html_page.tree, rules)
    if md_view is not None:
        readings += markdown_table_readings(md_view.main_lines, rules)
    for view in views:
        main_lines = view.price_lines[view.main_start :]
        readings += flat_tier_readings(main_lines, rules, f"tier_text@{view.source}") or bare_tier_readings(
            main_lines, rules, f"tier_text@{view.source}")
        readings += label_readings(main_lines, rules, f"label@{view.source}")
        readings += payment_line_readings(main_lines, rules)
        readings += bulk_readings(main_lines, rules)
        readings += card_price_statements(main_lines)
    for view in views:
        readings += prose_readings(view.price_lines, view.main_start if view.title else None, rules)
    readings += _elsewhere(html_page, views)
    return readings, own_scopes, notes


def _page_facts(html_page: HtmlPage | None, views: list[TextView], rules: VendorRules) -> PageFacts:
    currency = html_page.currency_choice if html_page is not None else None
    card_only = None
    for view in views:
        # A site-wide statement of the currency counts wherever it sits (an announcement bar too).
        currency = currency or stated_currency(view.lines)
        card_only = card_only or check_discount_statement(view.price_lines[view.main_start :], rules)
    if currency is None and html_page is not None:
        currency = stated_currency([line for _, text in html_page.cut_texts for line in text.split("\n")])
    return PageFacts(currency=currency, card_only=card_only)


def _elsewhere(html_page: HtmlPage | None, views: list[TextView]) -> list[Reading]:
    """Amounts outside the product region (cut regions, lines above the title), for the record."""
    texts: list[tuple[Locus, str]] = list(html_page.cut_texts) if html_page is not None else []
    for view in views:
        texts += [(Locus.HEADER, line) for line in view.lines[: view.main_start]]
        texts += [(Locus.OTHER_PRODUCT, line) for line in view.after_area]
    found = []
    for locus, text in texts:
        for line in text.split("\n"):
            amounts = find_amounts(line, include_struck=True, include_foreign=True)
            for amount, role in zip(amounts, roles_in(line, amounts), strict=True):
                found.append(Reading(amount.value, amount.currency, role or Role.UNIT, locus, "text",
                                     evidence(line.replace("~~", "")), locus.value))
                if len(found) >= OTHER_REGION_AMOUNTS_MAX:
                    return found
    return found


def _wrong_product(
    coin: Coin, views: list[TextView], scopes: list[ProductScope], html_page: HtmlPage | None
) -> Finding | None:
    """The page's product title names a fractional weight while the coin is a full ounce or more,
    another whole weight, or (Goldbacks) another denomination."""
    if coin.metal == "goldback":
        title = next((view.title for view in views if view.title), None)
        denomination = other_goldback_denomination(title, coin.weight_oz) if title else None
        if title is None or denomination is None:
            return None
        return Finding(failure="wrong_product", rule="title", evidence=evidence(title),
                       detail=f"page title names {denomination} but {coin.slug} is {coin.weight_oz:g} G: "
                              f"{evidence(title)}")
    if coin.metal not in OUNCE_METALS:
        return None
    titles = [view.title for view in views if view.title]
    named = [scope.name for scope in scopes if scope.rule == "jsonld" and scope.name and not scope.in_cut_region]
    if named and all(names_fraction_of_full_ounce(name, coin.weight_oz) for name in named):
        titles.append(named[0])
    if html_page is not None and html_page.head_title:
        titles.append(html_page.head_title)
    if not titles:
        return None
    named_weight: str | None
    if names_fraction_of_full_ounce(titles[0], coin.weight_oz):
        fraction = fractional_weight(titles[0])
        named_weight = fraction[1] if fraction else "a fraction"
    else:
        named_weight = other_weight(titles[0], coin.weight_oz)
        if named_weight is None:
            return None
    return Finding(
        failure="wrong_product",
        rule="title",
        evidence=evidence(titles[0]),
        detail=f"page title names {named_weight} but {coin.slug} is {coin.weight_oz:g} oz: {evidence(titles[0])}",
    )


def _stock(own_scopes: list[ProductScope], html_page: HtmlPage | None, views: list[TextView]) -> StockReading:
    with_state = next((scope for scope in own_scopes if scope.availability), None)
    view = views[0] if views else None
    lines = view.lines[view.main_start : view.area_end] if view else []
    controls = frozenset(index - view.main_start for index in view.control_lines) if view else frozenset()
    structured = with_state.availability if with_state else None
    if view is not None and structured in (None, "in_stock"):
        own = _title_section_status(view, controls)
        if own is not None:
            return own  # "Sold Out" under the title, before any buy button: a later button is another section's
    return read_stock(
        structured,
        f"{with_state.rule} {with_state.availability}" if with_state else None,
        html_page.tree if html_page is not None else None,
        lines,
        controls,
        per_variant=with_state.per_variant_availability if with_state else False,
    )


def _title_section_status(view: TextView, controls: frozenset[int]) -> StockReading | None:
    """The not-buyable status the title's own section states when a section heading comes before
    any purchase control (so the first buy button on the page belongs to another section)."""
    heading = min((index for index in view.heading_lines if index > view.main_start), default=None)
    if heading is None:
        return None
    section = view.lines[view.main_start : heading]
    if any(PURCHASE_LINE.search(line) and not NOT_BUYABLE_LINE.search(line) for line in section):
        return None
    status = phrase_reading(section, None, controls)
    return status if status is not None and status.state != "in_stock" else None


def _failure(coin: Coin, band: Band, decision: Decision, stock: StockReading, in_stock: bool | None,
             readings: list[Reading], rules: VendorRules) -> Finding:
    def fail(failure: str, detail: str, rule: str | None = None, shown: str | None = None) -> Finding:
        return Finding(failure=failure, detail=detail, rule=rule, evidence=shown, in_stock=in_stock,
                       stock_evidence=stock.evidence)

    if decision.failure == "out_of_band" and decision.rejected is not None:
        rejected = decision.rejected
        return fail("out_of_band", f"price {rejected.amount:,.2f} ({rejected.rule}) outside band {band.describe()} "
                    f"for {coin.slug}", rejected.rule, rejected.evidence)
    if decision.failure is not None:
        return fail(decision.failure, decision.detail)
    if stock.state in ("out_of_stock", "backorder"):
        return fail("out_of_stock", f"out of stock, no price shown ({stock.evidence})", "stock", stock.evidence)
    if stock.state == "preorder" and not rules.preorder_ok:
        return fail("preorder", f"pre-order, no price shown ({stock.evidence})", "stock", stock.evidence)
    bulk = next((r for r in readings if r.role is Role.BULK and r.locus is Locus.MAIN and r.rule == "label"), None)
    if bulk is not None:
        return fail("no_price", f"only a bulk price ({bulk.evidence}) found; not a unit price", "bulk", bulk.evidence)
    return fail("no_price", decision.detail or "no price found (structured data, tables, labels, text near the title)")
