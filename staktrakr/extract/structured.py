"""schema.org offers: JSON-LD, microdata and product meta tags, the most reliable signals on a page.

A page often carries JSON-LD for OTHER products too (related items, "customers also bought").
The product read is chosen by, in order: its script was not inside a cut region, its URL is
the page's URL, its name does not name a fractional weight when a full ounce is expected, its
name is the most similar to the coin's name (shared words over all words), and it comes first.

AggregateOffer: `lowPrice` is used only when it is the single price (no `highPrice` or the
same). A real range is a bulk/variant spread ("as low as"), not the unit price, so it gives
no price here (its availability still counts) and the tier table or labels decide.
Several Offers: the one for the smallest quantity, preferring check/wire payment; if they
still disagree the offer list is ambiguous and gives no price.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import urlsplit

import lxml.html

from staktrakr.catalog import Coin, VendorRules
from staktrakr.extract.money import evidence
from staktrakr.extract.regions import JsonLdBlock
from staktrakr.extract.weights import names_fraction_of_full_ounce

PRODUCT_TYPES = frozenset({"product", "individualproduct", "productmodel"})
OFFER_TYPES = frozenset({"offer", "aggregateoffer"})
# schema.org ItemAvailability -> our stock states.
AVAILABILITY_STATES = {
    "instock": "in_stock",
    "instoreonly": "in_stock",
    "onlineonly": "in_stock",
    "limitedavailability": "in_stock",
    "outofstock": "out_of_stock",
    "soldout": "out_of_stock",
    "discontinued": "out_of_stock",
    "oos": "out_of_stock",
    "preorder": "preorder",
    "presale": "preorder",
    "backorder": "backorder",
}
NAME_STOPWORDS = frozenset({"oz", "coin", "coins", "the", "of", "random", "year", "bu", "troy", "a", "and"})


@dataclass(frozen=True)
class StructuredOffer:
    """What a structured block says: a price (None if ambiguous/absent) and a stock state."""

    price: float | None
    availability: str | None  # "in_stock" | "out_of_stock" | "preorder" | "backorder" | None
    rule: str  # "jsonld" | "microdata" | "meta"
    evidence: str
    product_name: str | None = None


def availability_state(value: Any) -> str | None:
    """'https://schema.org/InStock', 'InStock', 'in stock', 'oos' -> a stock state (or None)."""
    if not isinstance(value, str) or not value.strip():
        return None
    last = re.split(r"[/#]", value.strip())[-1]
    return AVAILABILITY_STATES.get(re.sub(r"[^a-z]", "", last.lower()))


def number(value: Any) -> float | None:
    """A schema.org price: 95.49, "95.49", "$1,234.56" -> float; anything else -> None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value > 0 else None
    if isinstance(value, str):
        cleaned = re.sub(r"[^\d.]", "", value.replace(",", ""))
        try:
            parsed = float(cleaned)
        except ValueError:
            return None
        return parsed if parsed > 0 else None
    return None


# JSON-LD ---------------------------------------------------------------------------------


def read_jsonld(blocks: list[JsonLdBlock], coin: Coin, page_url: str, rules: VendorRules) -> StructuredOffer | None:
    """The offer of the page's own product from its JSON-LD, or None when there is none."""
    products = []
    for block_index, block in enumerate(blocks):
        data = _load_json(block.text)
        if data is None:
            continue
        for product in _products(data):
            products.append((product, block.in_cut_region, block_index))
    if not products:
        return None
    product, _, _ = max(
        enumerate(products), key=lambda item: _product_rank(item[1][0], item[1][1], item[0], coin, page_url)
    )[1]
    name = product.get("name") if isinstance(product.get("name"), str) else None
    offers = list(_offers(product.get("offers")))
    price, availability, offer_text = _choose_offer(offers, rules)
    if price is None and availability is None:
        return None
    shown = f"{name or 'Product'}: {offer_text}"
    return StructuredOffer(price, availability, "jsonld", evidence(shown), name)


def _load_json(text: str) -> Any:
    cleaned = text.strip()
    for wrapper in ("<!--", "-->", "//<![CDATA[", "//]]>", "<![CDATA[", "]]>"):
        cleaned = cleaned.replace(wrapper, "")
    try:
        return json.loads(cleaned, strict=False)
    except ValueError:
        return None


def _types(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {value.split("/")[-1].lower() for value in values if isinstance(value, str)}


def _products(node: Any) -> Iterator[dict[str, Any]]:
    """Top-level Products, those in @graph and a page's mainEntity; never inside ItemLists."""
    if isinstance(node, list):
        for item in node:
            yield from _products(item)
    elif isinstance(node, dict):
        if _types(node) & PRODUCT_TYPES:
            yield node
            return
        if "@graph" in node:
            yield from _products(node["@graph"])
        if "mainEntity" in node:
            yield from _products(node["mainEntity"])


def _product_rank(product: dict[str, Any], in_cut: bool, position: int, coin: Coin, page_url: str) -> tuple:
    name = product.get("name") if isinstance(product.get("name"), str) else ""
    urls = [product.get("url")] + [offer.get("url") for offer in _offers(product.get("offers"))]
    url_match = any(isinstance(url, str) and _same_page(url, page_url) for url in urls)
    fraction_mismatch = bool(name) and names_fraction_of_full_ounce(name, coin.weight_oz)
    return (not in_cut, url_match, not fraction_mismatch, _name_overlap(name, coin.name), -position)


def _same_page(url: str, page_url: str) -> bool:
    left, right = urlsplit(url), urlsplit(page_url)
    return bool(left.path.strip("/")) and left.path.rstrip("/") == right.path.rstrip("/")


def _name_overlap(name: str, coin_name: str) -> float:
    words = set(re.findall(r"[a-z0-9/]+", name.lower())) - NAME_STOPWORDS
    wanted = set(re.findall(r"[a-z0-9/]+", coin_name.lower())) - NAME_STOPWORDS
    return len(words & wanted) / len(words | wanted) if wanted else 0.0  # Jaccard: extra words ("Proof") cost


def _offers(node: Any) -> Iterator[dict[str, Any]]:
    """Offers under a product's `offers`, flattening AggregateOffer.offers."""
    if isinstance(node, list):
        for item in node:
            yield from _offers(item)
    elif isinstance(node, dict):
        nested = node.get("offers")
        if "aggregateoffer" in _types(node) and nested:
            yield from _offers(nested)
            if availability_state(node.get("availability")) is None:
                return
        yield node


def _offer_price(offer: dict[str, Any]) -> float | None:
    currency = offer.get("priceCurrency")
    if isinstance(currency, str) and currency.strip() and currency.strip().upper() != "USD":
        return None
    if "aggregateoffer" in _types(offer):
        low, high = number(offer.get("lowPrice")), number(offer.get("highPrice"))
        if low is not None and (high is None or abs(high - low) < 0.005):
            return low
        return number(offer.get("price"))
    price = number(offer.get("price"))
    if price is None:
        spec = offer.get("priceSpecification")
        for item in spec if isinstance(spec, list) else [spec]:
            if isinstance(item, dict) and number(item.get("price")) is not None:
                return number(item.get("price"))
    return price


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


def _choose_offer(offers: list[dict[str, Any]], rules: VendorRules) -> tuple[float | None, str | None, str]:
    priced = [(offer, _offer_price(offer)) for offer in offers]
    priced = [(offer, price) for offer, price in priced if price is not None]
    availability = next(
        (state for offer in offers if (state := availability_state(offer.get("availability"))) is not None), None
    )
    if not priced:
        return None, availability, f"availability {availability or 'unknown'}, no single price"

    def preference(offer: dict[str, Any]) -> tuple[float, int]:
        return (_min_quantity(offer), _payment_rank(offer, rules))

    best_key = min(preference(offer) for offer, _ in priced)
    best = [(offer, price) for offer, price in priced if preference(offer) == best_key]
    if len({round(price, 2) for _, price in best}) > 1:
        return None, availability, f"{len(best)} offers with different prices"
    offer, price = best[0]
    state = availability_state(offer.get("availability")) or availability
    return price, state, f"price {price:.2f} {state or ''}".strip()


# Microdata and meta tags ---------------------------------------------------------------------


def read_microdata(tree: lxml.html.HtmlElement) -> StructuredOffer | None:
    """itemprop=price / availability inside the first schema.org Product scope (cut tree)."""
    scopes = tree.xpath("//*[@itemscope][contains(@itemtype, 'schema.org/Product')]")
    scope = scopes[0] if scopes else tree
    prices = scope.xpath(".//*[@itemprop='price']")
    values = {number(el.get("content") or el.text_content()) for el in prices} - {None}
    stock_nodes = scope.xpath(".//*[@itemprop='availability']")
    availability = None
    for node in stock_nodes:
        availability = availability_state(node.get("href") or node.get("content") or node.text_content())
        if availability:
            break
    if not scopes and len(values) > 1:
        values = set()
    if not values and availability is None:
        return None
    price = next(iter(values)) if len(values) == 1 else None
    names = scope.xpath(".//*[@itemprop='name']")
    name = " ".join(names[0].text_content().split()) if names else None
    shown = f"itemprop price {price:.2f}" if price is not None else "itemprop price ambiguous"
    return StructuredOffer(price, availability, "microdata", evidence(f"{shown} {availability or ''}"), name)


META_PRICE_KEYS = ("product:price:amount", "og:price:amount")
META_AVAILABILITY_KEYS = ("product:availability", "og:availability")


def read_meta(meta: dict[str, str]) -> StructuredOffer | None:
    """OpenGraph product meta tags (product:price:amount, product:availability)."""
    currency = meta.get("product:price:currency") or meta.get("og:price:currency") or "USD"
    price = next((number(meta[key]) for key in META_PRICE_KEYS if key in meta), None)
    if currency.strip().upper() != "USD":
        price = None
    availability = next((availability_state(meta[key]) for key in META_AVAILABILITY_KEYS if key in meta), None)
    if price is None and availability is None:
        return None
    shown = f"meta product:price:amount {meta.get('product:price:amount') or meta.get('og:price:amount')}"
    return StructuredOffer(price, availability, "meta", evidence(shown), meta.get("og:title"))
