"""Page -> Finding: the price, stock status and evidence for one coin on one dealer page. No I/O.

Order of work:
1. Cut the vendor's site-wide regions (regions.py) from the HTML and/or the markdown.
2. A title naming a fractional weight for a full-ounce coin -> failure "wrong_product".
3. Price rules, most reliable first: JSON-LD offer, microdata, pricing table (HTML, then
   markdown), tier grid flattened to text, product meta tags (og product:price:amount, after
   the tables: some themes put the card or lowest price there), labelled prices, then the
   guarded prose fallback. HTML is read before markdown for each rule.
4. Sanity band (sanity.py): the first in-band candidate wins. A rule's alternatives are
   readings of the same unit price (sale vs regular label, HTML vs markdown rendering of the
   same table), so the next in-band alternative of the same rule is safe to take. An
   out-of-band reading moves on to the next rule, except the prose fallback: after an
   implausible structured/table/label price, a loose amount in the text is not trusted, and
   the result is failure "out_of_band" naming the price and the band.
5. Stock (stock.py). A price with an out-of-stock page is returned with in_stock=False (the
   last known price). A pre-order the vendor does not tolerate is also in_stock=False with
   its price, not a failure. A price with no stock signal at all counts as in stock: the
   page offers it for sale.
"""

from __future__ import annotations

from staktrakr.catalog import Coin, VendorRules
from staktrakr.extract.base import Finding, PageContent
from staktrakr.extract.labels import bulk_prices, label_candidates, prose_candidate
from staktrakr.extract.money import Candidate, evidence
from staktrakr.extract.regions import HtmlPage, TextView, markdown_view, prepare_html
from staktrakr.extract.sanity import Band, price_band
from staktrakr.extract.stock import StockReading, in_stock_for, read_stock
from staktrakr.extract.structured import StructuredOffer, read_jsonld, read_meta, read_microdata
from staktrakr.extract.tables import flat_tier_candidate, html_table_candidate, markdown_table_candidate
from staktrakr.extract.weights import fractional_weight, names_fraction_of_full_ounce

__all__ = ["Finding", "PageContent", "extract_offer"]

# Metals sold by the troy ounce, where a fractional title on a full-ounce page is a wrong product.
OUNCE_METALS = frozenset({"silver", "gold", "platinum", "palladium"})


def extract_offer(page: PageContent, coin: Coin, rules: VendorRules, spot_usd_per_oz: float | None) -> Finding:
    """Read one dealer page for one coin: a price with stock and evidence, or a failure reason."""
    band = price_band(coin, spot_usd_per_oz)
    html_page = prepare_html(page.html, rules) if page.html else None
    md_view = markdown_view(page.markdown, rules) if page.markdown else None
    views = [view for view in (html_page.view if html_page else None, md_view) if view is not None and view.lines]
    structured = _structured(html_page, coin, page.url, rules)
    if not views and not structured:  # a JS shell with JSON-LD but no visible text is still read
        return Finding(failure="no_price", detail="page is empty (no visible text)")
    wrong = _wrong_product(coin, views, structured, html_page)
    if wrong is not None:
        return wrong

    chosen, rejected = _first_in_band(_rule_groups(html_page, md_view, views, structured, rules), band)
    prose_note = ""
    if chosen is None and rejected is None:
        for view in views:
            title_index = view.main_start if view.title else None
            chosen, prose_note = prose_candidate(view.lines, title_index, rules, band)
            if chosen is not None or prose_note:
                break

    stock = _stock(structured, html_page, views)
    in_stock = in_stock_for(stock.state, rules)
    if chosen is not None:
        return Finding(
            price=round(chosen.price, 2),
            in_stock=True if in_stock is None else in_stock,
            rule=chosen.rule,
            evidence=chosen.evidence,
            stock_evidence=stock.evidence,
        )
    return _failure(coin, band, rejected, stock, in_stock, views, rules, prose_note)


def _structured(html_page: HtmlPage | None, coin: Coin, url: str, rules: VendorRules) -> list[StructuredOffer]:
    if html_page is None:
        return []
    readings = [
        read_jsonld(html_page.jsonld, coin, url, rules),
        read_microdata(html_page.tree),
        read_meta(html_page.meta),
    ]
    return [reading for reading in readings if reading is not None]


def _wrong_product(
    coin: Coin, views: list[TextView], structured: list[StructuredOffer], html_page: HtmlPage | None
) -> Finding | None:
    """The page's product title names a fractional weight while the coin is a full ounce or more."""
    if coin.metal not in OUNCE_METALS:
        return None
    titles = [view.title for view in views if view.title]
    titles += [reading.product_name for reading in structured if reading.rule == "jsonld" and reading.product_name]
    if html_page is not None and html_page.head_title:
        titles.append(html_page.head_title)
    if not titles or not names_fraction_of_full_ounce(titles[0], coin.weight_oz):
        return None
    fraction = fractional_weight(titles[0])
    named = fraction[1] if fraction else "a fraction"
    return Finding(
        failure="wrong_product",
        rule="title",
        evidence=evidence(titles[0]),
        detail=f"page title names {named} but {coin.slug} is {coin.weight_oz:g} oz: {evidence(titles[0])}",
    )


def _rule_groups(
    html_page: HtmlPage | None,
    md_view: TextView | None,
    views: list[TextView],
    structured: list[StructuredOffer],
    rules: VendorRules,
) -> list[list[Candidate]]:
    """Candidates per rule in trust order; within a group, alternative readings of one price."""
    def priced(rule: str) -> list[Candidate]:
        return [Candidate(r.price, r.rule, r.evidence) for r in structured if r.rule == rule and r.price is not None]

    groups: list[list[Candidate]] = [priced("jsonld"), priced("microdata")]
    tables = []
    if html_page is not None:
        tables.append(html_table_candidate(html_page.tree, rules))
    if md_view is not None:
        tables.append(markdown_table_candidate(md_view.main_lines, rules))
    groups.append([found for found in tables if found is not None])
    groups.append([found for view in views if (found := flat_tier_candidate(view.main_lines, rules)) is not None])
    groups.append(priced("meta"))
    groups.append([found for view in views for found in label_candidates(view.main_lines, rules)])
    return [group for group in groups if group]


def _first_in_band(groups: list[list[Candidate]], band: Band) -> tuple[Candidate | None, Candidate | None]:
    """(first in-band candidate, first out-of-band one seen before it)."""
    rejected = None
    for group in groups:
        for candidate in group:
            if band.contains(candidate.price):
                return candidate, rejected
        rejected = rejected or group[0]
    return None, rejected


def _stock(structured: list[StructuredOffer], html_page: HtmlPage | None, views: list[TextView]) -> StockReading:
    with_state = next((reading for reading in structured if reading.availability), None)
    lines = views[0].main_lines if views else []
    return read_stock(
        with_state.availability if with_state else None,
        f"{with_state.rule} {with_state.availability}" if with_state else None,
        html_page.tree if html_page is not None else None,
        lines,
    )


def _failure(
    coin: Coin,
    band: Band,
    rejected: Candidate | None,
    stock: StockReading,
    in_stock: bool | None,
    views: list[TextView],
    rules: VendorRules,
    prose_note: str,
) -> Finding:
    common = {"in_stock": in_stock, "stock_evidence": stock.evidence}
    if rejected is not None:
        return Finding(
            failure="out_of_band",
            rule=rejected.rule,
            evidence=rejected.evidence,
            detail=f"price {rejected.price:,.2f} ({rejected.rule}) outside band {band.describe()} for {coin.slug}",
            **common,
        )
    if stock.state in ("out_of_stock", "backorder"):
        return Finding(failure="out_of_stock", rule="stock", evidence=stock.evidence,
                       detail=f"out of stock, no price shown ({stock.evidence})", **common)
    if stock.state == "preorder" and not rules.preorder_ok:
        return Finding(failure="preorder", rule="stock", evidence=stock.evidence,
                       detail=f"pre-order, no price shown ({stock.evidence})", **common)
    bulk = next((found for view in views for found in bulk_prices(view.main_lines, rules)), None)
    if bulk is not None:
        return Finding(
            failure="no_price",
            rule="bulk",
            evidence=bulk.evidence,
            detail=f"only a bulk price ({bulk.evidence}) found; not a unit price",
            **common,
        )
    detail = prose_note or "no price found (structured data, tables, labels, text near the title)"
    return Finding(failure="no_price", detail=detail, **common)
