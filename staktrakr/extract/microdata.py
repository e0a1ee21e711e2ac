"""schema.org microdata (itemscope/itemprop) and RDFa (typeof/property) product scopes in the HTML.

Both are read by one walker: a scope is an element typed Product (or an Offer outside any
Product), its properties are the `itemprop`/`property` elements whose nearest scope it is.
Which scope is the page's own product is decided by `structured.choose_scope`.

A price element often carries the amount twice: in an attribute (`content`) and as visible
text. When they disagree (a `content` in cents, a stale attribute), the visible money text is
what the buyer sees and wins; the attribute is used only when the element shows no amount.
"""

from __future__ import annotations

import re

import lxml.html

from staktrakr.extract.money import evidence, find_amounts
from staktrakr.extract.readings import Locus, Reading, Role
from staktrakr.extract.stock import BUTTON_XPATH, CART_PHRASES
from staktrakr.extract.structured import ProductScope, availability_state, currency_code, number
from staktrakr.extract.text import visible_text

SYNTAXES = (
    # (rule, scope XPath, property attribute)
    ("microdata", "//*[@itemscope][@itemtype]", "itemprop"),
    ("rdfa", "//*[@typeof]", "property"),
)
PRODUCT_TYPE = re.compile(r"(?:^|[/:\s])(?:Product|IndividualProduct|ProductModel|ProductGroup)(?:$|\s)")
OFFER_TYPE = re.compile(r"(?:^|[/:\s])(?:Offer|AggregateOffer)(?:$|\s)")


def html_scopes(tree: lxml.html.HtmlElement, title: lxml.html.HtmlElement | None) -> list[ProductScope]:
    """Product scopes of both syntaxes in the (cut) page, with their price readings."""
    scopes: list[ProductScope] = []
    order: dict[lxml.html.HtmlElement, int] | None = None
    landmarks: list[int] = []
    for rule, scope_xpath, attribute in SYNTAXES:
        type_attribute = "itemtype" if rule == "microdata" else "typeof"
        typed = [(element, element.get(type_attribute) or "") for element in tree.xpath(scope_xpath)]
        products = [element for element, kind in typed if PRODUCT_TYPE.search(kind)]
        offers = [element for element, kind in typed if OFFER_TYPE.search(kind)
                  and not any(ancestor in products for ancestor in element.iterancestors())]
        roots = products + offers
        if not roots:
            continue
        if order is None:
            order = {element: index for index, element in enumerate(tree.iter())}
            landmarks = _landmarks_after_title(tree, title, order)
        for element in roots:
            scope = _scope(element, rule, attribute, set(roots), title, order, len(scopes))
            scope.apart_from_title = any(mark < order.get(element, 0) for mark in landmarks)
            scopes.append(scope)
    return scopes


def _landmarks_after_title(tree: lxml.html.HtmlElement, title: lxml.html.HtmlElement | None,
                           order: dict[lxml.html.HtmlElement, int]) -> list[int]:
    """Positions after the title that end its product's own area: other section headings and the
    main buy button (whatever follows them with its own price is another product's)."""
    if title is None:
        return []
    start = order.get(title, 0)
    marks = [order[h] for h in tree.xpath("//h1 | //h2 | //h3 | //h4") if order.get(h, 0) > start
             and visible_text(h)]
    buttons = [order[b] for b in tree.xpath(BUTTON_XPATH) if order.get(b, 0) > start
               and any(phrase in visible_text(b).lower() for phrase in CART_PHRASES)]
    return sorted(marks[:1] + buttons[:1])


def _scope(element: lxml.html.HtmlElement, rule: str, attribute: str, roots: set[lxml.html.HtmlElement],
           title: lxml.html.HtmlElement | None, order: dict[lxml.html.HtmlElement, int], position: int
           ) -> ProductScope:
    props = [node for node in element.xpath(f".//*[@{attribute}]") if _owner(node, roots) is element]
    name = next((visible_text(node) or node.get("content") for node in props if _prop(node, attribute) == "name"), None)
    urls = [node.get("href") or node.get("content") or "" for node in props if _prop(node, attribute) == "url"]
    currency = next((currency_code(node.get("content") or visible_text(node)) for node in props
                     if _prop(node, attribute) == "pricecurrency"), None)
    holds_title = title is not None and (title is element or element in set(title.iterancestors()))
    last = max((order.get(node, 0) for node in element.iter()), default=order.get(element, 0))
    before_title = title is not None and not holds_title and last < order.get(title, 0)
    scope = ProductScope(rule, name, urls=urls, holds_title=holds_title, before_title=before_title, position=position)
    group = f"{rule}#{position}"
    asking: list[Reading] = []
    for node in props:
        if _prop(node, attribute) != "price":
            continue
        reading = _price_reading(node, rule, currency, group, name)
        if reading is None:
            continue
        (asking if reading.role.may_be_unit_price else scope.readings).append(reading)
    if len({reading.cents for reading in asking}) > 1:
        scope.ambiguous = f"{len(asking)} price properties with different amounts"
    elif asking:
        scope.readings.insert(0, asking[0])
    for node in props:
        if _prop(node, attribute) == "availability":
            state = availability_state(node.get("href") or node.get("content") or visible_text(node))
            if state:
                scope.availability = state
                break
    return scope


def _prop(node: lxml.html.HtmlElement, attribute: str) -> str:
    """The property name without a vocabulary prefix ("schema:price" -> "price"), lower case."""
    return (node.get(attribute) or "").strip().split()[0].rsplit(":", 1)[-1].rsplit("/", 1)[-1].lower() \
        if (node.get(attribute) or "").strip() else ""


def _owner(node: lxml.html.HtmlElement, roots: set[lxml.html.HtmlElement]) -> lxml.html.HtmlElement | None:
    """The nearest product/offer scope around a property element."""
    return next((ancestor for ancestor in node.iterancestors() if ancestor in roots), None)


def _price_reading(node: lxml.html.HtmlElement, rule: str, currency: str | None, group: str,
                   name: str | None = None) -> Reading | None:
    """The amount a price property states. The visible money text is what the buyer sees: when it
    disagrees with the `content` attribute the text counts; when it shows several amounts the one
    the attribute names counts (none if it names none); an element whose visible text is words
    and no amount ("Call for price") states no price. The attribute alone counts only for an
    element that shows nothing (a <meta>, an empty span)."""
    attribute_value = number(node.get("content")) if node.get("content") is not None else None
    shown = visible_text(node)
    amounts = find_amounts(shown, include_struck=True, include_foreign=True)
    label = f"{name}: " if name else ""
    if len(amounts) > 1:
        matching = [amount for amount in amounts if attribute_value is not None
                    and abs(amount.value - attribute_value) < 0.005]
        if not matching:
            return None
        amounts = matching
    if amounts:
        amount = amounts[0]
        role = Role.WAS if amount.struck else Role.UNIT
        text_currency = amount.currency or currency
        if attribute_value is not None and abs(attribute_value - amount.value) >= 0.005:
            note = f"{label}{rule} price: text {shown} (content={node.get('content')} disagrees: the text counts)"
        else:
            note = f"{label}{rule} price {amount.value:.2f} {text_currency or ''}".strip()
        return Reading(amount.value, text_currency, role, Locus.MAIN, rule, evidence(note), group)
    if attribute_value is None:
        value = number(shown) if shown and not re.search(r"[A-Za-z]{4,}", shown) else None
        if value is None:
            return None
        attribute_value = value
    elif re.search(r"[A-Za-z]{3,}", shown):
        return None  # "Call for price": the page shows no price, whatever the attribute says
    return Reading(attribute_value, currency, Role.UNIT, Locus.MAIN, rule,
                   evidence(f"{label}{rule} price {attribute_value:.2f} {currency or ''}".strip()), group)
