"""Drawing page specs with hypothesis: every choice shrinks to the first option or no part.

Only fair combinations are drawn: each part in forms a careful human reads one way (see the
parts' docstrings), and a page whose fetcher returns markdown only (no markup: no disabled
attribute, no <input>, no superscript, no JSON-LD) shows its price and stock in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from hypothesis import strategies as st

from tests.pagegen.base import COINS, SPOT_RANGES, VENDORS, CoinKind, leading_number
from tests.pagegen.displays import Display, LabelledSale, PaymentPrices, PlainPrice
from tests.pagegen.draw_parts import draw_distractors
from tests.pagegen.jsonld import PAYMENT_METHODS, PRODUCT_TYPES, JsonLd, MetaTags
from tests.pagegen.money import FOREIGN_CURRENCIES, USD_CURRENCIES, MoneyStyle
from tests.pagegen.page import PageSpec
from tests.pagegen.stock import (
    ADD_LABELS,
    BACKORDER_LABELS,
    BADGES,
    CONTROL_CSS,
    NOTIFY_LABELS,
    PREORDER_LABELS,
    SOLD_OUT_LABELS,
    Stock,
)
from tests.pagegen.structured import MicrodataOffer, RdfaOffer, ScriptOnlyPrice
from tests.pagegen.themes import BigCommercePrice, MagentoPriceBox, ShopifyPrice, WooPrice
from tests.pagegen.tiers import TierGrid, TierList, TierTable

MARKUPS = ("plain", "payment_lines", "magento", "shopify", "woocommerce", "bigcommerce", "tier_table", "microdata",
           "script_only", "labelled_sale", "tier_list", "rdfa")
PLAIN_LABELS = ("", "Price:", "Our Price:", "Your Price", "Price", "Today's Price:", "Now:", "Sale:", "Special Price:",
                "Price Each:", "Your Price:")
OLD_LABELS = ("Was", "Was:", "Reg.", "Regular:", "List:", "List Price:", "Retail:", "Retail Price:", "MSRP:", "MSRP",
              "Compare at", "Original Price:")
NEW_LABELS = ("Now", "Now:", "Sale", "Sale:", "Sale Price:", "Special:", "Special Price:", "Our Price:", "Your Price:",
              "Today's Price:", "Price:")
# Tier label sets; "{u}" is the coin's unit word. BARE tiers need a "Qty"/"Quantity" header.
TIER_SETS = (("1-19", "20-99", "100-499", "500+"), ("1 - 9", "10 - 49", "50 - 99", "100+"),
             ("Qty 1-24", "Qty 25-99", "Qty 100-499", "Qty 500+"), ("1+", "20+", "100+", "500+"),
             ("1-9", "10-19", "20-99", "100+"), ("1 to 9", "10 to 49", "50 to 99", "100 or more"),
             ("1-19 {u}s", "20-99 {u}s", "100-499 {u}s", "500+ {u}s"), ("1 – 24", "25 – 99", "100 – 499", "500+"),
             ("Any Qty",))
BARE_TIERS = ("1", "20", "100", "500")
COLUMN_LABELS = {"check": ("Check/Wire", "(e)Check/Wire", "eCheck / Wire", "Wire / Check", "Bank Wire", "eCheck",
                           "ACH/eCheck", "Wire Transfer", "Paper Check", "Check or Wire"),
                 "card": ("Card/PayPal", "Credit Card", "Credit/Debit Card", "Visa/MC", "Debit/Credit", "Card Payments",
                          "Visa / MasterCard / Amex"),
                 "paypal": ("PayPal", "PayPal/Affirm", "PayPal / Venmo"),
                 "crypto": ("Crypto", "Bitcoin", "BTC/Crypto", "BTC"), "ach": ("ACH", "ACH Transfer")}
CHECK_LABELS_BESIDE_ACH = ("Check/Wire", "Wire / Check", "Bank Wire", "Wire Transfer", "Paper Check", "Check or Wire")
SINGLE_COLUMN_LABELS = ("Price", "Price Each", "Check/Wire", "Price per {u}", "Each", "Per {U}", "Price/ea")
COLUMN_PERMILLE = {"check": (1000, 1000), "card": (1030, 1045), "paypal": (1035, 1050), "crypto": (985, 1000),
                   "ach": (990, 1000)}
PAYMENT_CHECK_LABELS = ("Check/Wire", "Check / Wire Price", "Pay by Check or Wire", "Bank Wire", "eCheck", "ACH/eCheck",
                        "Wire Transfer", "Paper Check", "eCheck/Wire Price")
PAYMENT_CARD_LABELS = ("Card/PayPal", "Credit Card Price", "Credit Card / PayPal", "Credit Card", "Visa/MC",
                       "Debit/Credit", "Card Payments", "PayPal/Affirm")
STRIKE_ROLES = ("https://schema.org/StrikethroughPrice", "StrikethroughPrice", "https://schema.org/ListPrice",
                "ListPrice", "https://schema.org/MSRP", "https://schema.org/SRP")


class Drawer:
    """Choices over hypothesis' `draw`; each shrinks to the first option / no part / False.
    Strategies are built once per set of options: hypothesis validates every new strategy
    object, which would cost more than the draw itself."""

    _strategies: ClassVar[dict[tuple, st.SearchStrategy]] = {}

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw

    def _drawn(self, key: tuple, make) -> object:  # type: ignore[no-untyped-def]
        strategy = self._strategies.get(key)
        if strategy is None:
            strategy = self._strategies[key] = make()
        return self.draw(strategy)

    def pick(self, options):
        return self._drawn(("pick", options), lambda: st.sampled_from(options))

    def chance(self, percent: int) -> bool:
        """True about `percent`% of the time (12, 25, 50 or 75), from chained booleans: an integer
        cut at a threshold would give hypothesis many choices for one page, and duplicate pages."""
        if percent >= 75:
            return not (self.flag() and self.flag())
        return self.flag() and (percent >= 50 or self.flag()) and (percent >= 25 or self.flag())

    def flag(self) -> bool:
        return self._drawn(("flag",), st.booleans)

    def integer(self, low: int, high: int) -> int:
        return self._drawn(("integer", low, high), lambda: st.integers(low, high))

    def bits(self, count: int) -> list[bool]:
        """`count` independent even chances from one draw (an integer's bits; shrinks to all False)."""
        mask = self.integer(0, (1 << count) - 1)
        return [bool(mask >> index & 1) for index in range(count)]

    def scaled(self, base: float, low_permille: int, high_permille: int) -> float:
        return round(base * self.integer(low_permille, high_permille) / 1000, 2)

    def some(self, options: tuple, low: int = 1, high: int = 2) -> tuple:
        """Between `low` and `high` distinct options, in drawn order."""
        return tuple(self._drawn(("some", options, low, high),
                                 lambda: st.lists(st.sampled_from(options), min_size=low, max_size=high, unique=True)))

    def permutation(self, items: tuple) -> tuple:
        return tuple(self._drawn(("permutation", items), lambda: st.permutations(items)))


@dataclass(frozen=True)
class Market:
    """What the parts drawn for one page share: the coin, its unit price (the answer), spot, stock."""

    coin: CoinKind
    price: float
    spot: float
    state: str  # Stock.state

    @property
    def melt(self) -> float:
        return round(self.spot * self.coin.weight_oz, 2)

    def unlike(self, amount: float) -> float:
        """A distractor amount, moved off the answer if it landed on it."""
        return round(amount + 0.37, 2) if abs(amount - self.price) < 0.005 else amount


@st.composite
def page_specs(draw: st.DrawFn) -> PageSpec:
    """A random dealer page for one of COINS, in US dollars seven times in eight."""
    pick = Drawer(draw)
    coin = pick.pick(COINS)
    low, high = SPOT_RANGES[coin.metal]
    spot = pick.integer(low * 100, high * 100) / 100
    content = pick.pick(("markdown", "both")) if pick.chance(25) else "html"
    money = draw_money(pick, content)
    price = pick.scaled(spot * coin.weight_oz, *coin.premium_permille)
    price = float(round(price)) if money.split == "whole" else price
    state = pick.pick(("out_of_stock", "preorder", "backorder")) if pick.chance(25) else "in_stock"
    market = Market(coin, price, spot, state)
    if pick.chance(12):
        currency = pick.pick(FOREIGN_CURRENCIES)
    else:
        currency = pick.pick(USD_CURRENCIES) if pick.chance(25) else USD_CURRENCIES[0]
    display = draw_display(pick, market, content)
    title = pick.pick(coin.titles)
    jsonld = draw_jsonld(pick, display, title, market)
    meta = MetaTags(pick.pick(("product", "og")), pick.chance(75), pick.flag()) if pick.chance(25) else None
    return PageSpec(
        coin=coin, vendor=pick.pick(VENDORS), spot=spot, currency=currency, title=title, display=display,
        stock=draw_stock(pick, state, text_only=content == "markdown"), jsonld=jsonld, meta=meta,
        distractors=draw_distractors(pick, market, display, currency), money=money,
        layout=pick.pick(("minified", "pretty")) if pick.flag() else "plain", content=content,
    )


def draw_money(pick: Drawer, content: str) -> MoneyStyle:
    """The main amount's markup; no superscript cents where only markdown is returned (it would
    read "$5,16342")."""
    if not pick.chance(25):
        return MoneyStyle()
    splits = ("plain", "whole", "sup_dot", "spans") + (("sup",) if content != "markdown" else ())
    suffix = pick.pick(("", " ea", "/ea", " each", " ea.")) if pick.chance(25) else ""
    wrap = pick.pick(("", "data", "bdi", "link")) if pick.chance(25) else ""
    return MoneyStyle(pick.pick(splits), suffix, wrap)


def draw_display(pick: Drawer, market: Market, content: str) -> Display:
    """How the page's own product shows `market.price` (never only in JSON-LD on a markdown-only page)."""
    price = market.price
    markup = pick.pick(tuple(m for m in MARKUPS if m != "script_only") if content == "markdown" else MARKUPS)

    def regular_price() -> float | None:  # half of the displays that can show a sale show one
        return pick.scaled(price, 1020, 1300) if pick.chance(50) else None

    if markup == "plain":
        return PlainPrice(price, pick.pick(PLAIN_LABELS))
    if markup == "labelled_sale":
        return LabelledSale(price, pick.scaled(price, 1020, 1300), pick.pick(OLD_LABELS), pick.pick(NEW_LABELS),
                            pick.flag(), pick.flag(), pick.pick(("lines", "inline", "dl")),
                            pick.pick(("", "amount", "badge")),
                            pick.pick(("regular-price", "price-secondary", "price--compare", "msrp-value")))
    if markup == "payment_lines":
        check_label, card_label = pick.pick(PAYMENT_CHECK_LABELS), pick.pick(PAYMENT_CARD_LABELS)
        crypto = pick.scaled(price, 985, 998) if pick.chance(25) else None
        return PaymentPrices(price, pick.scaled(price, 1030, 1045), check_label, card_label, pick.flag(), crypto,
                             pick.pick(COLUMN_LABELS["crypto"]) if crypto else "",
                             pick.pick(("lines", "dl", "table", "radios", "inline")))
    if markup == "magento":
        regular = regular_price()
        tiers = ((20, pick.scaled(price, 985, 995)), (100, pick.scaled(price, 965, 984))) if pick.chance(25) else ()
        return MagentoPriceBox(price, regular, regular is not None and pick.flag(), tiers)
    if markup == "shopify":
        regular = regular_price()
        on_sale = regular is not None
        per_oz = round(price / market.coin.weight_oz, 2) if market.coin.weight_oz > 1 and pick.chance(50) else None
        badge = pick.pick(("Sale", "Save N%", "-N%")) if on_sale else "Sale"
        return ShopifyPrice(price, regular, on_sale and pick.flag(), on_sale and pick.flag(), badge, per_oz)
    if markup == "woocommerce":
        regular = regular_price()
        suffix = pick.pick(("", f"per {market.coin.unit_word}", "each")) if pick.chance(25) else ""
        return WooPrice(price, regular, regular is not None and pick.flag(), suffix)
    if markup == "bigcommerce":
        msrp, was = (pick.scaled(price, 1310, 1450) if pick.chance(50) else None), regular_price()
        return BigCommercePrice(price, msrp, was, pick.flag(), (msrp or was) is not None and pick.flag())
    if markup == "microdata":
        content_attr = pick.pick(("decimal", "cents", "none", "meta"))
        return MicrodataOffer(price, content_attr, regular_price(), pick.flag(), pick.flag())
    if markup == "rdfa":
        return RdfaOffer(price, pick.flag(), pick.flag(), pick.flag(), pick.flag())
    if markup == "script_only":
        return ScriptOnlyPrice(price)
    return draw_tier_grid(pick, market, listed=markup == "tier_list")


def draw_tier_grid(pick: Drawer, market: Market, listed: bool) -> TierGrid:
    """Quantity tiers by payment methods, the check/wire column always present and its first tier
    `market.price`; an ACH column never beside a check label that names ACH or eCheck (which of
    the two would be check/wire is then unclear); bare numbers as tiers only under a "Qty" header."""
    price, unit = market.price, market.coin.unit_word
    qty_header = "" if listed else pick.pick(("", "Qty", "Quantity"))
    bare = bool(qty_header) and pick.chance(12)
    tier_set = BARE_TIERS if bare else tuple(tier.format(u=unit) for tier in pick.pick(TIER_SETS))
    tiers = tier_set[: pick.integer(min(2, len(tier_set)), len(tier_set))]
    extra = pick.some(("card", "paypal", "crypto", "ach"), 0, 3)
    methods = pick.permutation(("check", *extra))
    labels = tuple(pick.pick(CHECK_LABELS_BESIDE_ACH if method == "check" and "ach" in methods
                             else COLUMN_LABELS[method]) for method in methods)
    if methods == ("check",):
        single = pick.pick(SINGLE_COLUMN_LABELS).format(u=unit, U=unit.title())
        labels = ("" if listed and pick.flag() else single,)
    permille = {method: pick.integer(*COLUMN_PERMILLE[method]) for method in methods}
    grid, base = [], price
    for _ in tiers:
        grid.append(tuple(round(base * permille[method] / 1000, 2) for method in methods))
        base = round(base - pick.scaled(price, 5, 30), 2)
    if listed:
        return TierList(tiers, methods, labels, tuple(grid), pick.flag(), pick.chance(25))
    msrp = pick.scaled(price, 1100, 1300) if pick.chance(25) else None
    transposed = not bare and pick.flag()
    return TierTable(tiers, methods, labels, tuple(grid), transposed, pick.flag(), qty_header, msrp,
                     pick.pick(("Volume Pricing", "Quantity Pricing", "Bulk Discount Pricing", "Pricing", "")),
                     pick.pick(("volume-pricing", "pricing-table", "table table-striped", "tier-price-table")),
                     pick.chance(25))


def draw_jsonld(pick: Drawer, display: Display, title: str, market: Market) -> JsonLd | None:
    """The page's own product in JSON-LD, with a source the visible display explains (see JsonLd);
    always present, and holding the unit price, when the price shows nowhere else."""
    script_only, price = not display.shows_price, display.answer()
    if not script_only and not pick.chance(50):
        return None
    sources = ["answer", "aggregate_single", "quantity"]
    if not script_only:
        sources += ["aggregate_range", "group"]
        sources += ["card", "payments"] if display.card_amount() is not None else []
        sources += ["list"] if display.list_amount() is not None else []
        sources += ["aggregate"] if isinstance(display, TierGrid) else []
    source = pick.pick(tuple(sources))
    shape = pick.pick(("price", "spec", "price+spec")) if source == "answer" else "price"
    strike = (display.list_amount() or pick.scaled(price, 1030, 1250)) if shape != "price" else None
    tiers, price_range, variants = (), None, ()
    if source == "quantity" and isinstance(display, TierGrid):
        column = "card" if display.card_amount() is not None and pick.chance(25) else "check"
        tiers = tuple(zip((leading_number(tier) for tier in display.tiers), display.column(column), strict=False))
    elif source == "quantity":
        tiers = ((1, price), (20, pick.scaled(price, 985, 995)), (100, pick.scaled(price, 965, 984)))
    if source == "aggregate_range":
        price_range = (pick.scaled(price, 950, 995), price if pick.flag() else pick.scaled(price, 1005, 1100))
    if source == "group":
        variants = tuple((unit, round(price * leading_number(unit) * (1 if index == 0 else 0.985), 2))
                         for index, unit in enumerate(market.coin.units))
    siblings = related = ()
    if pick.chance(25):
        siblings = tuple((name, market.unlike(pick.scaled(price, 800, 1350))) for name in pick.some(market.coin.others))
    if pick.chance(12):
        related = tuple((name, market.unlike(pick.scaled(price, 800, 1350))) for name in pick.some(market.coin.others))
    numbers, in_currency, availability, url, in_body = pick.bits(5)
    strike_first = bool(strike) and pick.flag()
    reverse = source in ("payments", "quantity") and pick.flag()
    own_last = bool(siblings) and pick.flag()
    similar = bool(related) and pick.flag()
    return JsonLd(
        source=source, name=title, shape=shape, wrapper=pick.pick(("product", "graph", "list")), strike=strike,
        strike_role=pick.pick(STRIKE_ROLES) if strike else "", strike_first=strike_first, numbers=numbers,
        currency=in_currency, availability=availability, url=url, in_body=in_body, tiers=tiers,
        reverse_offers=reverse, price_range=price_range, variants=variants, siblings=siblings,
        own_last=own_last, related=related, related_key="isSimilarTo" if similar else "isRelatedTo",
        valid_until=pick.chance(25), type_form=pick.integer(0, len(PRODUCT_TYPES) - 1),
        offers_list=source == "answer" and pick.chance(25),
        payment_form=pick.integer(0, len(PAYMENT_METHODS) - 1) if source == "payments" else 0,
    )


def draw_stock(pick: Drawer, state: str, text_only: bool) -> Stock:
    """A purchase control for `state`; on a markdown-only page one whose label says the state."""
    badge = pick.pick(BADGES[state]) if pick.chance(50) else None
    controls = ("button", "link") if text_only else ("button", "input", "link")

    def stock(label: str, control: str, disabled: str = "", shown: str | None = badge) -> Stock:
        return Stock(state, label, control, disabled, shown, pick.integer(0, len(CONTROL_CSS[control]) - 1))

    if state == "in_stock":
        return stock(pick.pick(ADD_LABELS), pick.pick(controls))
    if state == "out_of_stock":
        way = pick.pick(("sold_out", "notify") if text_only else ("disabled", "sold_out", "notify"))
        if way == "disabled":
            return stock(pick.pick(ADD_LABELS), pick.pick(controls), pick.pick(("attr", "aria")))
        if way == "notify":
            return stock(pick.pick(NOTIFY_LABELS), pick.pick(("button", "link")))
        return stock(pick.pick(SOLD_OUT_LABELS), "button", pick.pick(("", "attr")))
    named = PREORDER_LABELS if state == "preorder" else BACKORDER_LABELS
    if text_only or pick.flag():
        return stock(pick.pick(named), pick.pick(controls))
    return stock(pick.pick(ADD_LABELS), pick.pick(controls), shown=badge or pick.pick(BADGES[state]))
