"""Drawing the parts around the product: which kinds a page gets, where they sit, what they say.

Amounts near the answer are the dangerous ones, so notes quote them (a bulk price a little
under the unit price, a list price a little over, melt value inside the band...); every
wording still says what its amount is. Kinds that do not fit a page are not drawn: a bundle
only on an in-stock page, option stock words only where they contradict the page's own stock
state harmlessly, a converted price only beside amounts marked USD.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.pagegen.base import SPOT_RANGES, Part, leading_number
from tests.pagegen.displays import Display, percent_off
from tests.pagegen.distractors import Card, Note, Options, OtherProducts, Reviews, SpotTicker
from tests.pagegen.money import CONVERTED_CURRENCIES, Currency
from tests.pagegen.tiers import TierGrid
from tests.pagegen.widgets import Bundle, CurrencySwitcher, MiniCart, PriceAlert, StickyBar

if TYPE_CHECKING:
    from tests.pagegen.strategy import Drawer, Market

THRESHOLDS = (99, 149, 199, 249, 299, 499, 999, 4999)
SHIPPING_COSTS = (7.95, 9.95, 12.5, 24.95, 29.95, 39.95)
REVIEW_TEXTS = ("Sold out last time I tried, glad they are back.", "These were out of stock for weeks. Worth the wait!",
                "Paid {0} each last month. Beautiful coins.", "Got the back in stock email and ordered right away.",
                "Arrived fast and well packed.", "Out of stock again? Hope they restock soon.",
                "Bought at {0} and the price is up since.")
REVIEW_CSS = (("reviews", "review"), ("jdgm-widget", "jdgm-rev"), ("okeWidget", "okeItem"),
              ("bv-content-list", "bv-content-item"))
OTHER_HEADINGS = {
    "after_main": ("Related Products", "You May Also Like", "Customers Also Purchased", "Similar Products You May Like",
                   "Popular Products", "Frequently Bought Together", "Shop Similar Items",
                   "Customers Who Bought This Also Bought", "People Also Viewed", "More From This Series",
                   "Trending Now", "Add on Items", "Recently Viewed Products"),
    "after_form": ("You May Also Like", "Customers Who Bought This Also Bought", "Related Items",
                   "Complete Your Collection"),
    "top": ("Recently Viewed", "Recently Viewed Items"),
    "sidebar_before": ("Best Sellers", "Top Sellers", "On Sale Now", "Featured Products", "New Arrivals"),
}
OTHER_HEADINGS["sidebar_after"] = OTHER_HEADINGS["sidebar_before"]
OTHER_CSS = ("product-carousel", "related-products", "upsell", "products-grid", "product-grid", "swiper-wrapper",
             "collection-list", "featured-products", "block-content")
TICKER_CSS = ("spot-ticker", "spot-prices", "market-bar", "live-prices", "metals-ticker", "live-spot", "header-rates")
BUNDLE_HEADINGS = ("Frequently Bought Together", "Complete the Set", "Bundle & Save", "Often Bought Together")
OPTION_CSS = ("", "pack-sizes", "product-options", "size-selector")
# Note kinds: where each may sit and its wordings (amounts from note_amounts(); {pct}, {metal},
# {points}, {unit} are filled in when drawn).
NOTES = {
    "shipping": (("top", "near", "footer"), ("Free shipping on orders {0}+", "Orders {0}+ ship free",
                                             "FREE SHIPPING ON ORDERS OVER {0}", "Free insured shipping over {0}")),
    "coupon": (("top", "near"), ("Use code STACK10 for {0} off orders over {1}",)),
    "premium": (("near",), ("{0} over spot", "Premium: {0} over spot", "Only {0} over spot!", "Spot + {0}")),
    "savings": (("near",), ("Save {0}", "You save {0}", "You save {0} ({pct}%)", "Save {pct}% today")),
    "check_discount": (("near",), ("Save {0} when you pay by check or wire", "Pay by check or wire and save {0}")),
    "bulk": (("near",), ("As low as {0}", "Starting at {0}", "As Low As|{0}", "Buy 100+ for {0} each",
                         "Buy 20+ and pay {0} each", "{0} each when you buy 25 or more")),
    "list": (("near",), ("MSRP: {0}", "List price: <s>{0}</s>", "Was {0}", "Compare at <del>{0}</del>", "Retail: {0}",
                         "Reg. <s>{0}</s>")),
    "buyback": (("near", "sidebar_after"), ("We buy at {0}", "Sell to us: {0}", "Buyback price: {0}")),
    "per_oz": (("near",), ("{0} per oz", "{0}/oz", "Price per oz: {0}", "({0} / oz)", "{0} per troy ounce")),
    "cart": (("header", "top", "sidebar_after"), ("Cart (2) {0}", "Subtotal: {0}", "Your cart: 3 items, {0}")),
    "alert": (("after_form",), ('<a href="#price-alert" class="btn-link">Notify me when the price drops</a>',)),
    "shipping_cost": (("near", "after_form"), ("Shipping: {0}", "Flat rate shipping: {0}", "Estimated shipping {0}")),
    "melt": (("near", "after_form"), ("Melt value: {0}", "Melt Value {0}", "Current melt value: {0}",
                                      "Metal value: {0}")),
    "spot": (("near", "after_form"), ("{metal} spot: {0}", "Spot price: {0}", "Spot: {0}", "Live {metal} spot {0}")),
    "reward": (("near", "after_form"), ("Earn {points} reward points", "Earn {0} back in rewards",
                                        "Earn {0} cash back with StackRewards")),
    "financing": (("near", "after_form"), ("or 4 interest-free payments of {0} with Afterpay",
                                           "Pay over time: as low as {0}/mo with Affirm",
                                           "or 4 payments of {0} with Klarna")),
    "pack": (("near", "after_form"), ("{unit}: {0}", "Buy a {unit_lower} for {0}")),
    "converted": (("near",), ("(approx. {0})", "≈ {0}", "About {0}")),
}
TIER_BULK_WORDINGS = ("From {0}", "From {0} each in bulk")
WIDGETS = ("mini_cart", "bundle", "sticky_bar", "price_alert", "currency_switcher")
DISTRACTORS = ("related", "sidebar", "recently_viewed", "related_in_main", "ticker", "reviews", "options", *NOTES,
               *WIDGETS)


def draw_distractors(pick: Drawer, market: Market, display: Display, currency: Currency) -> tuple[Part, ...]:
    """The parts around the product: up to 12 of the kinds that fit the page (about five)."""
    kinds = pick.some(tuple(kind for kind in DISTRACTORS if fits(kind, market, display, currency)), 0, 12)
    drawn = (draw_distractor(pick, kind, market, display, currency) for kind in kinds)
    return tuple(part for part in drawn if part is not None)


def fits(kind: str, market: Market, display: Display, currency: Currency) -> bool:
    """Whether a part of `kind` can be on this page at all (see the module docstring)."""
    return {
        "savings": display.list_amount() is not None, "check_discount": display.card_amount() is not None,
        "per_oz": market.coin.weight_oz > 1, "converted": currency.marks_usd, "bundle": market.state == "in_stock",
        "options": market.state in ("in_stock", "out_of_stock"),
    }.get(kind, True)


def note_amounts(pick: Drawer, kind: str, market: Market, display: Display) -> tuple[float, ...] | None:
    """What a note of `kind` quotes on this page, or None when the kind does not fit it."""
    price, card, listed = market.price, display.card_amount(), display.list_amount()
    near = {  # kind -> (base, low, high permille): amounts near the answer are the dangerous ones
        "bulk": (price, 950, 995), "list": (price, 1030, 1300), "buyback": (market.melt, 920, 990),
        "cart": (price, 900, 2800), "check_discount": (price, 20, 50), "melt": (market.melt, 1000, 1000),
        "spot": (market.spot, 985, 1015), "reward": (price, 10, 20),
    }
    if kind in ("shipping", "coupon", "shipping_cost"):
        return {"shipping": (pick.pick(THRESHOLDS),), "coupon": (10, pick.pick(THRESHOLDS)),
                "shipping_cost": (pick.pick(SHIPPING_COSTS),)}[kind]
    if kind == "premium":
        return (round(price - market.melt, 2),)
    if kind == "savings":
        return (round(listed - price, 2),) if listed else None
    if kind == "check_discount" and card:
        return (round(card - price, 2),)
    if kind == "check_discount":
        return None
    if kind == "bulk" and isinstance(display, TierGrid):  # the largest tier's check/wire price
        return (min(display.column("check")),)
    if kind == "per_oz":
        return (round(price / market.coin.weight_oz, 2),) if market.coin.weight_oz > 1 else None
    if kind == "financing":
        return (round(price / pick.pick((4, 12)), 2),)
    if kind == "pack":
        return None  # drawn with its unit in draw_note
    if kind in ("alert", "converted"):
        return () if kind == "alert" else (price,)
    return (market.unlike(pick.scaled(*near[kind])),)


def draw_note(pick: Drawer, kind: str, market: Market, display: Display, currency: Currency) -> Note | None:
    """A note of `kind` (see Note) with its wording and where it sits, or None when it does not fit."""
    wheres, wordings = NOTES[kind]
    if kind == "converted":
        if not currency.marks_usd:
            return None
        return Note(kind, "near", pick.pick(wordings), (market.price,), currency=pick.pick(CONVERTED_CURRENCIES))
    if kind == "pack":
        unit = pick.pick(market.coin.units[1:])
        quantity = leading_number(unit)
        template = pick.pick(wordings).replace("{unit}", unit).replace("{unit_lower}", unit.lower())
        return Note(kind, pick.pick(wheres), template, (round(market.price * quantity * 0.985, 2),))
    amounts = note_amounts(pick, kind, market, display)
    if amounts is None:
        return None
    if kind == "bulk" and isinstance(display, TierGrid) and pick.flag():
        wordings = TIER_BULK_WORDINGS
    template = pick.pick(wordings)
    listed = display.list_amount()
    fills = {"pct": percent_off(listed, market.price) if listed else 0, "metal": market.coin.metal.title(),
             "points": round(market.price)}
    template = template.replace("{pct}", str(fills["pct"])).replace("{metal}", fills["metal"])
    template = template.replace("{points}", str(fills["points"]))
    return Note(kind, pick.pick(wheres), template, amounts, kind in ("shipping", "coupon"))


def draw_distractor(pick: Drawer, kind: str, market: Market, display: Display, currency: Currency) -> Part | None:
    """One part of `kind` for this page, or None when the kind does not fit it."""
    price, coin = market.price, market.coin
    if kind in NOTES:
        return draw_note(pick, kind, market, display, currency)
    if kind in ("related", "sidebar", "recently_viewed", "related_in_main"):
        where = {"related": "after_main", "recently_viewed": "top", "related_in_main": "after_form"}.get(kind)
        where = where or pick.pick(("sidebar_before", "sidebar_after"))
        names = pick.some(coin.others, 1, 4)
        share = {name: (100, 130) if name.startswith("1/") else (800, 1350) for name in names}  # 1/10 oz: a tenth
        cards = tuple(Card(name, market.unlike(pick.scaled(price, *share[name])), pick.flag()) for name in names)
        markup = pick.pick(("plain", "microdata", "rdfa", "jsonld"))
        related_prop = where == "after_form" and markup == display.markup and bool(display.scope_attrs()[0])
        return OtherProducts(where, pick.pick(OTHER_HEADINGS[where]), cards, markup, pick.pick(OTHER_CSS), related_prop)
    if kind == "ticker":
        quotes = tuple((metal.title(), pick.scaled(market.spot, 985, 1015) if metal == coin.metal
                        else pick.integer(SPOT_RANGES[metal][0] * 100, SPOT_RANGES[metal][1] * 100) / 100)
                       for metal in ("gold", "silver", "platinum", "palladium"))
        style = pick.pick(("plain", "ask", "colon", "bidask"))
        return SpotTicker(pick.pick(("header", "top", "sidebar_after")), pick.pick(TICKER_CSS), style, quotes)
    if kind == "reviews":
        texts = pick.some(REVIEW_TEXTS, 1, 3)
        return Reviews(texts, tuple(market.unlike(pick.scaled(price, 850, 1200)) for _ in texts), "after_form",
                       pick.pick(REVIEW_CSS))
    if kind == "options":
        return draw_options(pick, market)
    if kind == "mini_cart":
        items = tuple((name, pick.integer(1, 5), market.unlike(pick.scaled(price, 800, 1350)))
                      for name in pick.some(coin.others))
        css = pick.pick(("mini-cart", "minicart-wrapper", "header-cart", "offcanvas-drawer", "cart-summary"))
        return MiniCart(pick.pick(("header", "top")), css, items)
    if kind == "bundle" and market.state == "in_stock":
        others = tuple((name, market.unlike(pick.scaled(price, 800, 1350))) for name in pick.some(coin.others))
        heading = pick.pick(BUNDLE_HEADINGS)
        return Bundle(pick.pick(("after_form", "after_main")), heading, others)
    if kind == "sticky_bar":
        return StickyBar()
    if kind == "price_alert":
        return PriceAlert(pick.pick(("near", "after_form")), pick.scaled(price, 900, 980), pick.flag())
    if kind == "currency_switcher":
        return CurrencySwitcher(pick.pick(("header", "top", "near")), pick.pick(("select", "list")))
    return None


def draw_options(pick: Drawer, market: Market) -> Options | None:
    """Pack-size options with a stock word on another option: "Sold out" on an in-stock page,
    "In stock" on an out-of-stock one (none on pre-order or back-order pages)."""
    if market.state not in ("in_stock", "out_of_stock"):
        return None
    units = market.coin.units
    marked = pick.integer(1, len(units) - 1)
    words = ("Out of stock", "Sold out", "Unavailable") if market.state == "in_stock" else ("In stock", "Available")
    return Options(units, marked, pick.pick(words), pick.pick(("list", "select", "radios", "swatches")), "near",
                   pick.pick(OPTION_CSS))
