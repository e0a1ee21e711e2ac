"""Stock status: structured availability first, then the purchase button, then stock phrases.

Order of trust:
1. schema.org availability (JSON-LD, microdata, product meta) of the product read, unless the
   visible buy button says the product cannot be bought now (a stale "InStock" loses to it);
   an availability stated per variant (offers that differ) is the chosen offer's and stands.
2. The page's first purchase button after the title (HTML, not a variant swatch): a button reading "Sold Out" /
   "Notify Me" / "Pre-Order", or a disabled "Add to Cart", says not buyable; an enabled
   "Add to Cart" says buyable and outweighs out-of-stock phrases elsewhere (themes keep
   hidden-by-CSS "Sold out" badges on in-stock pages), but not pre-order/back-order phrases
   (those items are bought through the same button).
3. Phrases on short lines of the product region (after the title, cut regions removed):
   out of stock, sold out, currently unavailable, back order, pre-order, and wait-list
   phrases ("notify me when available", "email when in stock", a bare "Notify Me" control line in
   markdown). Wait-list phrases count only
   without an add-to-cart on the page: a back-in-stock form can sit on an in-stock page.
   Long lines are skipped: a shipping policy saying "if an item is out of stock..." is not
   this product's status, and so are the lines of controls (variant swatches, option lists,
   reviews, questions): "Tube of 20 - Out of stock" on a pack-size option says nothing about
   the coin's own buy button. Without any of these, "In Stock" or a bare "Add to Cart" line
   (markdown) is the evidence for in stock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.html

from staktrakr.catalog import VendorRules
from staktrakr.extract.money import evidence
from staktrakr.extract.regions import is_control
from staktrakr.extract.text import visible_text

OUT_OF_STOCK_PHRASES = (
    "out of stock", "sold out", "currently unavailable", "temporarily unavailable", "not in stock",
    "temporarily out of stock", "no longer available", "not available for purchase",
)
WAIT_LIST_PHRASES = (
    "notify me when available", "notify me when in stock", "notify me when back in stock",
    "email when in stock", "email me when in stock", "email me when available", "email when available",
    "notify when available", "join the waitlist", "join waitlist",
)
BACKORDER_PHRASES = ("back order", "backorder", "back-order", "backordered", "back-ordered", "on backorder")
PREORDER_PHRASES = ("pre-order", "preorder", "pre order", "presale", "pre-sale")
IN_STOCK_PHRASES = ("in stock", "available now", "ready to ship", "ships today")
CART_PHRASES = ("add to cart", "add to bag", "add to basket", "buy now")
NOTIFY_BUTTON_WORDS = ("notify me", "sold out", "out of stock", "unavailable", "email me", "waitlist")
STOCK_LINE_MAX_CHARS = 80
BUTTON_XPATH = (
    "//button | //input[@type='submit' or @type='button'] "
    "| //a[contains(@class, 'btn') or contains(@class, 'button') or contains(@class, 'cart')"
    " or contains(@href, 'cart') or contains(@id, 'cart') or contains(@id, 'add')]"
)
# Words that make a stock phrase part of a policy, a review or a variant, not the product's status.
NOT_STATUS_WORDS = frozenset(
    "if items orders may will policy any all we you your our was were last everywhere got mine again hope "
    "some these those other tube box roll option options size sizes variant faq faqs info information details "
    "terms questions question learn about".split()
)
STATUS_FILLER_MAX_WORDS = 4
BUTTON_FILLER_MAX_WORDS = 8
SHIPS_CLAUSE = re.compile(r"\b(?:ships?|shipping|expected|available|arrives?|releases?|est\.?|estimated|due)\b.*$")


@dataclass(frozen=True)
class StockReading:
    """state: "in_stock" | "out_of_stock" | "preorder" | "backorder" | None (unknown)."""

    state: str | None
    evidence: str | None = None


def in_stock_for(state: str | None, rules: VendorRules) -> bool | None:
    """A stock state as the in_stock flag: pre-order is in stock only where the vendor tolerates it."""
    if state is None:
        return None
    if state == "preorder":
        return rules.preorder_ok
    return state == "in_stock"


def button_reading(tree: lxml.html.HtmlElement) -> StockReading | None:
    """What the first purchase button after the title says, or None when there is none."""
    title = next((h for h in tree.iter("h1") if visible_text(h)), None)
    order = {element: index for index, element in enumerate(tree.iter())} if title is not None else {}
    title_position = order.get(title, -1)
    for button in tree.xpath(BUTTON_XPATH):
        if order and order.get(button, -1) < title_position:
            continue
        if is_control(button) or any(is_control(ancestor) for ancestor in button.iterancestors()):
            continue  # a variant swatch or option: its "Sold out" is that option's
        label = (visible_text(button) or " ".join((button.get("value") or "").split())).lower()
        if not label:
            label = " ".join((button.get("value") or button.get("aria-label") or "").split()).lower()
        preorder = next((phrase for phrase in PREORDER_PHRASES if phrase in label), None)
        if preorder is not None and _button_status(label, preorder):
            return StockReading("preorder", evidence(f"button: {label}"))
        backorder = next((phrase for phrase in BACKORDER_PHRASES if phrase in label), None)
        if backorder is not None and _status(label, backorder, BUTTON_FILLER_MAX_WORDS):
            return StockReading("backorder", evidence(f"button: {label}"))
        notify = next((word for word in NOTIFY_BUTTON_WORDS if word in label), None)
        if notify is not None and _button_status(label, notify):
            return StockReading("out_of_stock", evidence(f"button: {label}"))
        if any(phrase in label for phrase in CART_PHRASES):
            if _disabled(button) and SELECTION_NEEDED.search(button.get("class") or ""):
                return None  # disabled only until a variant is chosen
            if _disabled(button):
                return StockReading("out_of_stock", evidence(f"disabled button: {label}"))
            return StockReading("in_stock", evidence(f"button: {label}"))
    return None


def _disabled(button: lxml.html.HtmlElement) -> bool:
    classes = (button.get("class") or "").lower().split()
    return (
        button.get("disabled") is not None
        or (button.get("aria-disabled") or "").lower() == "true"
        or "disabled" in classes
    )


def phrase_reading(lines: list[str], button: StockReading | None,
                   control_lines: frozenset[int] = frozenset()) -> StockReading | None:
    """Stock phrases on the short lines of the product region (not controls); None when none is found."""
    cart_on_page = (button is not None and button.state == "in_stock") or any(
        phrase in line.lower() for line in lines for phrase in CART_PHRASES if len(line) <= STOCK_LINE_MAX_CHARS
    )
    for index, line in enumerate(lines):
        if len(line) > STOCK_LINE_MAX_CHARS or index in control_lines:
            continue
        lowered = line.lower()
        for state, phrases in (("out_of_stock", OUT_OF_STOCK_PHRASES), ("backorder", BACKORDER_PHRASES),
                               ("preorder", PREORDER_PHRASES)):
            phrase = _has_phrase(lowered, phrases)
            if phrase is not None and _status(lowered, phrase):
                return StockReading(state, evidence(f"page text: {line}"))
        phrase = _has_phrase(lowered, WAIT_LIST_PHRASES)
        if not cart_on_page and phrase is not None and _status(lowered, phrase):
            return StockReading("out_of_stock", evidence(f"page text: {line}"))
        if not cart_on_page and _is_notify_control(lowered):
            return StockReading("out_of_stock", evidence(f"page text: {line}"))
    for index, line in enumerate(lines):
        lowered = line.lower()
        if index in control_lines:
            continue
        if len(line) <= STOCK_LINE_MAX_CHARS and (_has_phrase(lowered, IN_STOCK_PHRASES) is not None
                                                  or lowered in CART_PHRASES):
            return StockReading("in_stock", evidence(f"page text: {line}"))
    return None


def _is_notify_control(lowered_line: str) -> bool:
    """A purchase control's text in markdown ("Notify Me", "Qty Notify Me"): the label is a
    notify button's, with only a quantity field or filler beside it ("Notify me of price drops" is not)."""
    if _has_phrase(lowered_line, ("notify me",)) is None:
        return False
    rest = re.findall(r"[a-z0-9']+", lowered_line.replace("notify me", " ", 1))
    return all(word in BUTTON_FILLER_WORDS or word in QUANTITY_WORDS for word in rest)


QUANTITY_WORDS = frozenset({"qty", "quantity"})


def _has_phrase(lowered_line: str, phrases: tuple[str, ...]) -> str | None:
    """The first of `phrases` standing as words in the line, or None."""
    return next((phrase for phrase in phrases if phrase in lowered_line
                 and re.search(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", lowered_line)), None)


# The only words a purchase button may say besides its status ("Sold out", "Notify me when available").
BUTTON_FILLER_WORDS = frozenset(
    "currently temporarily this item is now when back in stock it's its it me us available again product".split()
)
# A cart button disabled until the buyer picks a variant: no stock evidence (WooCommerce variable products).
SELECTION_NEEDED = re.compile(r"selection-needed|select-options?|choose-options?|variation-selection", re.IGNORECASE)


def _button_status(label: str, phrase: str) -> bool:
    """The button's label is the status and filler only ("Sold out", "Notify me when back in
    stock"), not a variant's name with it ("Random Year (Sold Out)", "Email me when this goes on sale")."""
    rest = SHIPS_CLAUSE.sub("", label.replace(phrase, " ", 1))
    return all(word in BUTTON_FILLER_WORDS for word in re.findall(r"[a-z0-9']+", rest))


def _status(lowered: str, phrase: str, max_words: int = STATUS_FILLER_MAX_WORDS) -> bool:
    """The text is a stock status ("Sold out", "This item is currently out of stock", "Backordered -
    ships in 3 weeks"), not a policy, a review or a variant naming the phrase ("If an item is on
    backorder we will email you", "2024 (Out of stock)")."""
    rest = SHIPS_CLAUSE.sub("", lowered.replace(phrase, " ", 1))
    words = re.findall(r"[a-z0-9']+", rest)
    if any(word in NOT_STATUS_WORDS or any(ch.isdigit() for ch in word) for word in words):
        return False
    return len(words) <= max_words


def read_stock(
    structured_state: str | None,
    structured_evidence: str | None,
    tree: lxml.html.HtmlElement | None,
    lines: list[str],
    control_lines: frozenset[int] = frozenset(),
    *,
    per_variant: bool = False,
) -> StockReading:
    """The page's stock state by the order of trust in the module docstring.

    `per_variant`: the structured state is the chosen offer's own among variants whose
    availability differs (a tube sold out, the single coin in stock); the buy button then shows
    whichever variant the URL selected, so it does not overrule that offer's state.
    """
    button = button_reading(tree) if tree is not None else None
    if structured_state is not None:
        if (structured_state == "in_stock" and not per_variant
                and button is not None and button.state != "in_stock"):
            return button  # the visible buy button says it cannot be bought now: a stale "InStock" loses
        return StockReading(structured_state, structured_evidence)
    if button is not None and button.state != "in_stock":
        return button
    phrases = phrase_reading(lines, button, control_lines)
    if button is not None and button.state == "in_stock":
        if phrases is not None and phrases.state in ("preorder", "backorder"):
            return phrases
        return button
    if phrases is not None:
        return phrases
    return StockReading(None)
