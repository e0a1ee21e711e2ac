"""schema.org JSON-LD: the products a page's `<script type="application/ld+json">` blocks describe.

Products are read at the top level, in `@graph` and as a page's `mainEntity`, never inside
ItemLists (those are listings of other products). Which one is the page's own is decided by
`structured.choose_scope`, like every structured reader.

Offers of one product: AggregateOffer `lowPrice` counts only when it is the single price (no
`highPrice`, or the same, and no `offerCount` above one); a real range is a bulk/variant spread
("as low as"), not the unit price, so it gives no price (its availability still counts).
Several Offers: the one for the
smallest quantity, preferring check/wire payment; if they still disagree the product is
ambiguous. An Offer without `price` takes its `priceSpecification` entry that is not a
strikethrough/list/MSRP price (schema.org PriceTypeEnumeration).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from staktrakr.catalog import VendorRules
from staktrakr.extract.money import evidence
from staktrakr.extract.readings import Locus, Reading, Role
from staktrakr.extract.regions import JsonLdBlock
from staktrakr.extract.structured import (
    ProductScope,
    availability_state,
    currency_code,
    number,
    price_type_role,
)
from staktrakr.rules.bands import Band

PRODUCT_TYPES = frozenset({"product", "individualproduct", "productmodel", "productgroup"})


def jsonld_scopes(blocks: list[JsonLdBlock], rules: VendorRules, band: Band | None = None) -> list[ProductScope]:
    """Every product the page's JSON-LD describes, with its offers read as readings. With a band,
    offers priced outside it (a tube, a box, a cents figure) are not candidates for the unit price."""
    scopes: list[ProductScope] = []
    for block_index, block in enumerate(blocks):
        data = _load_json(block.text)
        if data is None:
            continue
        for product in _products(data):
            scopes.append(_scope(product, block.in_cut_region, len(scopes), block_index, rules, band))
    return scopes


def _scope(product: dict[str, Any], in_cut: bool, position: int, block_index: int, rules: VendorRules,
           band: Band | None) -> ProductScope:
    name = product.get("name") if isinstance(product.get("name"), str) else None
    offers = list(_offers(product.get("offers")))
    urls = [url for url in [product.get("url")] + [offer.get("url") for offer in offers] if isinstance(url, str)]
    scope = ProductScope("jsonld", name, urls=urls, in_cut_region=in_cut, position=position)
    group = f"jsonld#{block_index}.{position}"
    priced = []
    for offer in offers:
        for amount, currency, role, shown in _offer_prices(offer):
            reading = Reading(amount, currency, role, Locus.MAIN, "jsonld", evidence(f"{name or 'Product'}: {shown}"),
                              group)
            if role.may_be_unit_price:
                priced.append((offer, reading))
            else:
                scope.readings.append(reading)
    scope.availability = next(
        (state for offer in offers if (state := availability_state(offer.get("availability"))) is not None),
        availability_state(product.get("availability")),
    )
    if not priced:
        return scope
    plausible = [(offer, reading) for offer, reading in priced if band is None or band.contains(reading.amount)]
    best_key = min(_preference(offer, rules) for offer, _ in plausible or priced)
    best = [(offer, reading) for offer, reading in plausible or priced if _preference(offer, rules) == best_key]
    states = [state for offer, _ in best if (state := availability_state(offer.get("availability")))]
    if len({reading.cents for _, reading in best}) > 1:
        scope.ambiguous = f"{len(best)} offers with different prices"
        scope.availability = states[0] if len(set(states)) == 1 else None
    else:
        # Offers of one price (years, finishes): buyable when any of them is.
        scope.availability = "in_stock" if "in_stock" in states else (states[0] if states else scope.availability)
        scope.readings.insert(0, best[0][1])
        every_state = {state for offer, _ in priced if (state := availability_state(offer.get("availability")))}
        scope.per_variant_availability = bool(states) and len(every_state) > 1
    for offer, reading in priced:
        if (offer, reading) not in best:
            role = Role.CARD if _payment_rank(offer, rules) == 2 else Role.BULK
            scope.readings.append(Reading(reading.amount, reading.currency, role, Locus.MAIN, "jsonld",
                                          reading.evidence, group))
    return scope


def _load_json(text: str) -> Any:
    cleaned = text.strip()
    for wrapper in ("<!--", "-->", "//<![CDATA[", "//]]>", "<![CDATA[", "]]>"):
        cleaned = cleaned.replace(wrapper, "")
    try:
        return json.loads(cleaned, strict=False)
    except (ValueError, RecursionError):
        return None


def _types(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {value.split("/")[-1].split(":")[-1].lower() for value in values if isinstance(value, str)}


def _products(node: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Top-level Products, those in @graph and a page's mainEntity; never inside ItemLists."""
    if depth > 20:
        return
    if isinstance(node, list):
        for item in node:
            yield from _products(item, depth + 1)
    elif isinstance(node, dict):
        if _types(node) & PRODUCT_TYPES:
            yield node
            return
        if "@graph" in node:
            yield from _products(node["@graph"], depth + 1)
        if "mainEntity" in node:
            yield from _products(node["mainEntity"], depth + 1)


def _offers(node: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Offers under a product's `offers`, flattening AggregateOffer.offers."""
    if depth > 10:
        return
    if isinstance(node, list):
        for item in node:
            yield from _offers(item, depth + 1)
    elif isinstance(node, dict):
        nested = node.get("offers")
        if "aggregateoffer" in _types(node) and nested:
            yield from _offers(nested, depth + 1)
            if availability_state(node.get("availability")) is None:
                return
        yield node


def _offer_prices(offer: dict[str, Any]) -> Iterator[tuple[float, str | None, Role, str]]:
    """(amount, currency, role, shown text) of each price one offer states."""
    currency = currency_code(offer.get("priceCurrency"))
    if "aggregateoffer" in _types(offer):
        low, high = number(offer.get("lowPrice")), number(offer.get("highPrice"))
        count = number(offer.get("offerCount"))
        single = (high is None and (count is None or count <= 1)) or (high is not None and low is not None
                                                                       and abs(high - low) < 0.005)
        if low is not None and single:
            yield low, currency, Role.UNIT, f"lowPrice {low:.2f} {currency or ''}".strip()
        elif low is not None:
            top = f"{high:.2f}" if high is not None else f"{count:g} offers"
            yield low, currency, Role.BULK, f"lowPrice {low:.2f} of a range to {top}"
        elif (price := number(offer.get("price"))) is not None:
            yield price, currency, Role.UNIT, f"price {price:.2f} {currency or ''}".strip()
        return
    price = number(offer.get("price"))
    if price is not None:
        yield price, currency, Role.UNIT, f"price {price:.2f} {currency or ''}".strip()
    spec = offer.get("priceSpecification")
    for item in spec if isinstance(spec, list) else [spec]:
        if not isinstance(item, dict) or (amount := number(item.get("price"))) is None:
            continue
        role = price_type_role(item.get("priceType"))
        if price is not None and role.may_be_unit_price:
            continue  # the offer's own price is the asking price
        item_currency = currency_code(item.get("priceCurrency")) or currency
        kind = str(item.get("priceType") or "").rsplit("/", 1)[-1]
        yield amount, item_currency, role, f"priceSpecification {kind or 'price'} {amount:.2f}".strip()


def _min_quantity(offer: dict[str, Any]) -> float:
    quantity = offer.get("eligibleQuantity")
    if isinstance(quantity, dict):
        value = number(quantity.get("minValue")) or number(quantity.get("value"))
        return value if value is not None else 1.0
    return 1.0


def _payment_rank(offer: dict[str, Any], rules: VendorRules) -> int:
    """0 for a preferred payment column (check/wire), 1 unknown, 2 for card/paypal."""
    method = json.dumps(offer.get("acceptedPaymentMethod", "")).lower()
    if any(word in method for word in rules.avoid_columns):
        return 2
    if any(word in method for word in rules.price_columns):
        return 0
    return 1


def _preference(offer: dict[str, Any], rules: VendorRules) -> tuple[float, int]:
    return (_min_quantity(offer), _payment_rank(offer, rules))
