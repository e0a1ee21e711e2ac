"""schema.org product data (JSON-LD, microdata, RDFa, product meta tags): what every structured
reader shares.

A page often carries structured data for OTHER products too (related items, a sidebar card,
"customers also bought"). Every structured reader reports the products it finds as
`ProductScope`s and one function, `choose_scope`, decides which is the page's own product, the
same way for all of them:
- a scope is the page's own when its URL is the page's, it holds the product title (H1), or
  its name matches the title or the coin's name (shared words over all words >= OWN_NAME_FIT);
- an HTML scope under another section heading than the title, or after the main buy button, is
  another product's unless its name is the page's title;
- it is another product's when it names a fractional weight for a full-ounce coin, names a URL
  that is not this page's (unless its name is the page's title), sat in a cut region (unless
  its name is the page's title: JSON-LD scripts often sit at the end of the body), or has a
  name that matches neither (< OTHER_NAME_FIT);
- among the candidates the best ranked wins (outside cut regions, URL, title, name fit, after
  the title, first);
  two candidates that rank the same and disagree on the price are not guessed between.

Prices: `number` parses schema.org price values ("95.49", 95.49, "1,234.56", "1.234,56") with
`price-parser`. schema.org `priceSpecification` entries whose `priceType` is a strikethrough,
list, MSRP/SRP or invoice price are "was" prices, never the price (schema.org
PriceTypeEnumeration).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from price_parser import Price

from staktrakr.catalog import Coin
from staktrakr.extract.money import evidence
from staktrakr.extract.readings import Locus, Reading, Role
from staktrakr.extract.weights import names_fraction_of_full_ounce

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
# schema.org PriceTypeEnumeration members that are not the asking price.
NOT_ASKING_PRICE_TYPES = ("strikethrough", "listprice", "msrp", "srp", "invoiceprice", "minimumadvertised")
NAME_STOPWORDS = frozenset({"oz", "coin", "coins", "the", "of", "random", "year", "bu", "troy", "a", "and", "1"})
# A price no dealer page states: larger is a misread (or an attack on the parser), never a price.
MAX_PRICE_USD = 1e8
MAX_PRICE_CHARS = 40
OWN_NAME_FIT = 0.5
OTHER_NAME_FIT = 0.34


@dataclass
class ProductScope:
    """One product a structured reader found on the page.

    readings:     its price readings (the asking price first; "was" prices, other offers)
    availability: its stock state ("in_stock", "out_of_stock", "preorder", "backorder") or None
    per_variant_availability: the offers (variants) state their own, differing availability, so
                  `availability` is the chosen offer's, not a page-wide flag
    ambiguous:    why it gives no single price (e.g. "2 offers with different prices"), or None
    holds_title / before_title: where its element sits relative to the product title (HTML scopes)
    """

    rule: str
    name: str | None
    urls: list[str] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)
    availability: str | None = None
    per_variant_availability: bool = False
    ambiguous: str | None = None
    in_cut_region: bool = False
    holds_title: bool = False
    before_title: bool = False
    position: int = 0
    # HTML scopes: another section heading, or the main buy button, stands between the title and it
    apart_from_title: bool = False

    @property
    def asking(self) -> Reading | None:
        """The scope's asking price reading (None when it has none or is ambiguous)."""
        if self.ambiguous:
            return None
        return next((reading for reading in self.readings if reading.role.may_be_unit_price), None)


@dataclass(frozen=True)
class ScopeChoice:
    """The page's own product among a reader's scopes (None when there is none or it is not clear)."""

    own: ProductScope | None
    others: list[ProductScope]
    note: str = ""


def availability_state(value: Any) -> str | None:
    """'https://schema.org/InStock', 'InStock', 'in stock', 'oos' -> a stock state (or None)."""
    if not isinstance(value, str) or not value.strip():
        return None
    last = re.split(r"[/#:]", value.strip())[-1]
    return AVAILABILITY_STATES.get(re.sub(r"[^a-z]", "", last.lower()))


def number(value: Any) -> float | None:
    """A schema.org price value as a positive float: 95.49, "95.49", "$1,234.56", "1.234,56"; else None."""
    if isinstance(value, bool):
        return None
    parsed: float | None = None
    scientific = isinstance(value, str) and re.fullmatch(r"\s*\d+(?:\.\d+)?[eE][+-]?\d+\s*", value)
    if isinstance(value, (int, float)) or scientific:
        parsed = float(value)
    elif isinstance(value, str) and re.search(r"\d", value) and len(value) <= MAX_PRICE_CHARS:
        parsed = Price.fromstring(value.strip(), decimal_separator="." if re.fullmatch(r"\s*\d+\.\d{3}\s*", value)
                                  else None).amount_float
    if parsed is None or not math.isfinite(parsed) or not 0 < parsed < MAX_PRICE_USD:
        return None
    return parsed


def currency_code(value: Any) -> str | None:
    """A priceCurrency value as an ISO code ("usd", "US$", "US Dollar" -> "USD"); None when absent or a bare "$"."""
    if not isinstance(value, str) or not value.strip() or value.strip() == "$":
        return None
    code = value.strip().upper()
    return "USD" if code in ("US$", "US DOLLAR", "US DOLLARS", "DOLLAR", "DOLLARS", "U.S. DOLLAR") else code


def price_type_role(price_type: Any) -> Role:
    """The role of a priceSpecification entry by its schema.org priceType."""
    text = re.sub(r"[^a-z]", "", str(price_type or "").lower())
    if any(kind in text for kind in NOT_ASKING_PRICE_TYPES):
        return Role.WAS
    if "saleprice" in text:
        return Role.SALE
    return Role.UNIT


def name_fit(name: str | None, *wanted: str | None) -> float:
    """How well a product name matches the best of `wanted` (shared words over all words)."""
    if not name:
        return 0.0
    words = _words(name)
    best = 0.0
    for other in wanted:
        if other:
            target = _words(other)
            if target:
                best = max(best, len(words & target) / len(words | target))
    return best


# Words naming a finish, grade or pack that makes a product another one than a page not naming it.
FINISH_WORDS = frozenset(
    "proof reverse burnished colorized gilded enameled antiqued graded ngc pcgs ms69 ms70 pf69 pf70 pr69 pr70 "
    "tube roll box monster lot set".split()
)


def _other_finish(name: str | None, title: str) -> bool:
    """The name names a finish, grade or pack the title does not."""
    if not name:
        return False
    return bool((_words(name) & FINISH_WORDS) - _words(title))


TITLE_STOPWORDS = frozenset({"the", "of", "a", "and", "oz", "ozt", "troy", "coin", "coins", "1"})


def _same_name(name: str | None, title: str) -> bool:
    """The name is the page's title (the same words, grade and year words included)."""
    if not name:
        return False
    words = set(re.findall(r"[a-z0-9/]+", name.lower())) - TITLE_STOPWORDS
    wanted = set(re.findall(r"[a-z0-9/]+", title.lower())) - TITLE_STOPWORDS
    return bool(words) and words == wanted


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9/]+", text.lower())) - NAME_STOPWORDS


def same_page(url: str, page_url: str) -> bool:
    left, right = urlsplit(url), urlsplit(page_url)
    return bool(left.path.strip("/")) and left.path.rstrip("/") == right.path.rstrip("/")


def choose_scope(scopes: list[ProductScope], coin: Coin, page_url: str, title: str | None) -> ScopeChoice:
    """The page's own product among one reader's scopes, by the rules in the module docstring."""
    own: list[ProductScope] = []
    unknown: list[ProductScope] = []
    others: list[ProductScope] = []
    for scope in scopes:
        kind = _scope_kind(scope, coin, page_url, title)
        (own if kind == "own" else unknown if kind == "unknown" else others).append(scope)
    candidates = own or unknown
    if not candidates:
        return ScopeChoice(None, others)
    ranked = sorted(candidates, key=lambda scope: _rank(scope, coin, page_url, title), reverse=True)
    best = ranked[0]
    rest = ranked[1:]
    if rest and _rank(rest[0], coin, page_url, title)[:-1] == _rank(best, coin, page_url, title)[:-1]:
        best_price, next_price = best.asking, rest[0].asking
        if best_price and next_price and best_price.cents != next_price.cents:
            note = (f"two products could be this page's ({_label(best)} {best_price.amount:,.2f}, "
                    f"{_label(rest[0])} {next_price.amount:,.2f}): not guessing")
            return ScopeChoice(None, others + ranked, note)
    return ScopeChoice(best, others + rest)


def _scope_kind(scope: ProductScope, coin: Coin, page_url: str, title: str | None) -> str:
    url_match = any(same_page(url, page_url) for url in scope.urls)
    if scope.name and names_fraction_of_full_ounce(scope.name, coin.weight_oz):
        return "other"
    if not url_match and _other_finish(scope.name, title or coin.name):
        return "other"  # "... Proof" on a page whose title names no proof: a sibling product
    fit = name_fit(scope.name, coin.name, title)
    titled = title is not None and _same_name(scope.name, title)
    if url_match or scope.holds_title:
        return "own"
    if (scope.apart_from_title or scope.before_title) and not titled:
        return "other"  # before the title, under another heading or after the buy button: a card
    if scope.urls and not titled:
        return "other"  # it names its own page, which is not this one, and not this page's title
    if scope.in_cut_region:
        return "own" if titled else "other"
    if fit >= OWN_NAME_FIT:
        return "own"
    if scope.name and fit < OTHER_NAME_FIT:
        return "other"
    return "unknown"


def _rank(scope: ProductScope, coin: Coin, page_url: str, title: str | None
          ) -> tuple[bool, bool, bool, float, bool, int]:
    url_match = any(same_page(url, page_url) for url in scope.urls)
    fit = round(name_fit(scope.name, coin.name, title), 2)
    return (not scope.in_cut_region, url_match, scope.holds_title, fit, not scope.before_title, -scope.position)


def _label(scope: ProductScope) -> str:
    return repr(scope.name) if scope.name else f"{scope.rule} scope"


def other_product_readings(scopes: list[ProductScope]) -> list[Reading]:
    """The readings of products that are not the page's own, marked as such."""
    return [
        Reading(r.amount, r.currency, r.role, Locus.OTHER_PRODUCT, r.rule, r.evidence, r.group)
        for scope in scopes for r in scope.readings
    ]


META_PRICE_KEYS = ("product:price:amount", "og:price:amount")
META_AVAILABILITY_KEYS = ("product:availability", "og:availability")


def read_meta(meta: dict[str, str]) -> ProductScope | None:
    """OpenGraph product meta tags (product:price:amount, product:price:currency, product:availability)."""
    key = next((key for key in META_PRICE_KEYS if key in meta), None)
    price = number(meta[key]) if key else None
    currency = currency_code(meta.get("product:price:currency") or meta.get("og:price:currency"))
    availability = next((availability_state(meta[k]) for k in META_AVAILABILITY_KEYS if k in meta), None)
    if price is None and availability is None:
        return None
    readings = []
    if price is not None and key is not None:
        shown = evidence(f"meta {key} {meta[key]} {currency or ''}")
        readings.append(Reading(price, currency, Role.UNIT, Locus.MAIN, "meta", shown, "meta"))
    return ProductScope("meta", meta.get("og:title"), readings=readings, availability=availability)
