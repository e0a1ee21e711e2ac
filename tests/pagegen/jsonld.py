"""schema.org JSON-LD and product meta tags for the page's own product (and other products' data
beside it). None of it changes the answer: the display's visible unit price is what a reader
takes, and structured data only ever agrees with it or repeats an amount the page explains
(issue 10: a card column, a list price, a bulk range)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from tests.pagegen.base import Part

if TYPE_CHECKING:
    from tests.pagegen.page import PageSpec

PRODUCT_TYPES = ("Product", ["Product", "IndividualProduct"], "https://schema.org/Product")
# acceptedPaymentMethod forms for (card offer, check/wire offer).
PAYMENT_METHODS = (
    (["http://purl.org/goodrelations/v1#VISA", "http://purl.org/goodrelations/v1#MasterCard"],
     "http://purl.org/goodrelations/v1#CheckInAdvance"),
    ({"@type": "CreditCard", "name": "Visa / Mastercard"}, {"@type": "PaymentMethod", "name": "Bank wire or check"}),
    ("http://purl.org/goodrelations/v1#PayPal", "http://purl.org/goodrelations/v1#ByBankTransferInAdvance"),
)


@dataclass(frozen=True)
class JsonLd(Part):
    """The page's own Product in JSON-LD (`wrapper`: bare, inside @graph, or in a top-level list).
    `source` says what its offer holds:
    - "answer": the unit price; `shape` "price" (Offer.price), "spec" (a priceSpecification list
      with the unit price and a strikethrough/list/MSRP/SRP entry `strike`, either order) or
      "price+spec" (Offer.price plus that entry);
    - "card": the visible card-column first-tier price (a labelled check/wire price is shown);
    - "list": the visible regular/was/MSRP amount (a sale or check/wire price is shown);
    - "aggregate": an AggregateOffer lowPrice..highPrice range over the visible tier table;
    - "aggregate_range": an AggregateOffer over a real range `price_range` (bulk to pack sizes);
    - "aggregate_single": an AggregateOffer whose lowPrice and highPrice are the unit price;
    - "payments": one Offer per payment method (card, check) with acceptedPaymentMethod;
    - "quantity": one Offer per quantity tier (eligibleQuantity), `tiers` ascending: the smallest
      quantity's offer is the first tier's price (of the check/wire column, or of the card
      column beside a labelled check/wire table);
    - "group": a ProductGroup whose hasVariant Products are pack sizes, the page's unit first.
    `siblings`: other Products (their own names and URLs) in the same @graph/list, or in their own
    script blocks; `related`: Products nested under isRelatedTo/isSimilarTo, with offers.
    The page's own Product is always named exactly as the page's title."""

    source: str
    name: str
    shape: str = "price"
    wrapper: str = "product"
    strike: float | None = None
    strike_role: str = ""
    strike_first: bool = False
    numbers: bool = False  # prices as JSON numbers rather than strings
    currency: bool = False
    availability: bool = False
    url: bool = False
    in_body: bool = False
    tiers: tuple[tuple[int, float], ...] = ()
    reverse_offers: bool = False
    price_range: tuple[float, float] | None = None
    variants: tuple[tuple[str, float], ...] = ()
    siblings: tuple[tuple[str, float], ...] = ()
    own_last: bool = False
    related: tuple[tuple[str, float], ...] = ()
    related_key: str = "isRelatedTo"
    valid_until: bool = False
    type_form: int = 0
    offers_list: bool = False
    payment_form: int = 0

    def _price(self, spec: PageSpec, usd: float) -> object:
        number = spec.currency.number(usd)
        return number if self.numbers else f"{number:.2f}"

    def _offer(self, spec: PageSpec, usd: float | None = None, **extra: object) -> dict:
        node: dict = {"@type": "Offer"}
        if usd is not None:
            node["price"] = self._price(spec, usd)
        if self.currency or spec.currency.code != "USD":
            node["priceCurrency"] = spec.currency.code
        if self.valid_until:
            node["priceValidUntil"] = "2026-12-31"
        if self.availability:
            node["availability"] = "https://schema.org/" + spec.stock.schema
        if self.url:
            node["url"] = spec.url
        return {**node, **extra}

    def offers(self, spec: PageSpec) -> object:
        display = spec.display
        if self.source == "card":
            return self._offer(spec, display.card_amount())
        if self.source == "list":
            return self._offer(spec, display.list_amount())
        if self.source == "aggregate":
            amounts = [amount for row in display.grid for amount in row]
            return {**self._offer(spec), "@type": "AggregateOffer", "lowPrice": self._price(spec, min(amounts)),
                    "highPrice": self._price(spec, max(amounts)), "offerCount": len(amounts)}
        if self.source in ("aggregate_range", "aggregate_single"):
            low, high = self.price_range or (display.answer(), display.answer())
            return {**self._offer(spec), "@type": "AggregateOffer", "lowPrice": self._price(spec, low),
                    "highPrice": self._price(spec, high), "offerCount": 1 if low == high else 3}
        if self.source == "payments":
            card_method, check_method = PAYMENT_METHODS[self.payment_form]
            offers = [self._offer(spec, display.card_amount(), acceptedPaymentMethod=card_method),
                      self._offer(spec, display.answer(), acceptedPaymentMethod=check_method)]
            return offers[::-1] if self.reverse_offers else offers
        if self.source == "quantity":
            offers = []
            for index, (quantity, usd) in enumerate(self.tiers):
                eligible: dict = {"@type": "QuantitativeValue", "minValue": quantity, "unitCode": "C62"}
                if index + 1 < len(self.tiers):
                    eligible["maxValue"] = self.tiers[index + 1][0] - 1
                offers.append(self._offer(spec, usd, eligibleQuantity=eligible))
            return offers[::-1] if self.reverse_offers else offers
        if self.shape == "price":
            offer: object = self._offer(spec, display.answer())
        else:
            strike = {"@type": "UnitPriceSpecification", "priceType": self.strike_role,
                      "price": self._price(spec, self.strike), "priceCurrency": spec.currency.code}
            if self.shape == "price+spec":
                offer = self._offer(spec, display.answer(), priceSpecification=strike)
            else:
                unit = {"@type": "UnitPriceSpecification", "price": self._price(spec, display.answer()),
                        "priceCurrency": spec.currency.code}
                offer = self._offer(spec, priceSpecification=[strike, unit] if self.strike_first else [unit, strike])
        return [offer] if self.offers_list else offer

    def _other(self, spec: PageSpec, name: str, usd: float) -> dict:
        offer = {"@type": "Offer", "price": self._price(spec, usd), "priceCurrency": spec.currency.code,
                 "availability": "https://schema.org/InStock"}
        return {"@type": "Product", "name": name, "url": spec.url_for(name), "offers": offer}

    def product(self, spec: PageSpec) -> dict:
        """The page's own product node."""
        node: dict = {"@context": "https://schema.org", "@type": PRODUCT_TYPES[self.type_form], "name": self.name}
        if self.source == "group":
            node["@type"] = "ProductGroup"
            node["hasVariant"] = [{"@type": "Product", "name": f"{self.name} - {unit}",
                                   "url": f"{spec.url}?variant={index + 1}", "offers": self._offer(spec, usd)}
                                  for index, (unit, usd) in enumerate(self.variants)]
        else:
            node["offers"] = self.offers(spec)
        if self.url:
            node["url"] = spec.url
        if self.related:
            node[self.related_key] = [self._other(spec, name, usd) for name, usd in self.related]
        return node

    def render(self, spec: PageSpec) -> str:
        product = self.product(spec)
        others = [self._other(spec, name, usd) for name, usd in self.siblings]
        products = [*others, product] if self.own_last else [product, *others]
        organization = {"@type": "Organization", "name": spec.vendor_name, "url": spec.site}
        if self.wrapper == "graph":
            graph = [organization, {"@type": "WebPage", "url": spec.url}, *products]
            blocks: list[object] = [{"@context": "https://schema.org", "@graph": graph}]
        elif self.wrapper == "list":
            blocks = [[organization, *products]]
        else:
            blocks = [{"@context": "https://schema.org", **node} if node is not product else node for node in products]
        return "\n".join(f'<script type="application/ld+json">{json.dumps(data)}</script>' for data in blocks)

    def variant(self) -> str:
        extras = [self.wrapper if self.wrapper != "product" else "",
                  f"{len(self.siblings)} siblings{' own last' if self.own_last else ''}" if self.siblings else "",
                  self.related_key if self.related else ""]
        return f"{self.source}/{self.shape}" + "".join(f", {extra}" for extra in extras if extra)


@dataclass(frozen=True)
class MetaTags(Part):
    """Product meta tags in the head: `prefix`:price:amount (the unit price), maybe
    `prefix`:price:currency, og:availability. Rule: they agree with the visible price."""

    prefix: str = "product"  # "product" | "og"
    currency: bool = True
    availability: bool = True

    AVAILABILITY: ClassVar[dict[str, str]] = {"InStock": "instock", "OutOfStock": "oos", "PreOrder": "preorder", "BackOrder": "backorder"}

    def render(self, spec: PageSpec) -> list[str]:
        amount = spec.currency.number(spec.display.answer())
        tags = ['<meta property="og:type" content="product">',
                f'<meta property="{self.prefix}:price:amount" content="{amount:.2f}">']
        if self.currency:
            tags.append(f'<meta property="{self.prefix}:price:currency" content="{spec.currency.code}">')
        if self.availability:
            tags.append(f'<meta property="og:availability" content="{self.AVAILABILITY[spec.stock.schema]}">')
        return tags
