"""Visible text of an HTML tree that keeps element boundaries.

Minified themes put no whitespace between inline elements, so naive text reads
"Regular price$869.00Sale price$849.50" or "$5,16342". `mark_tree` annotates the tree once:
- every inline element boundary gets a marker that `resolve` turns into a space, except where
  a number continues ("$" + "5,163", "86" + ".39") so an amount split across spans is whole;
- a `<sup>` of two digits right after a whole-dollar amount is its cents ("$5,163" "42" -> "$5,163.42");
- struck-out prices (`s`, `del`, `strike`, a line-through style, "old price"/"compare-at"/"rrp"
  classes) are wrapped in "~~", the same mark GFM markdown uses, so money.py reads them as "was" prices;
- block elements start a new line.
Readers then take text through `visible_text(element)` (one cell, one button) or the page's lines.
"""

from __future__ import annotations

import re

import lxml.html

from staktrakr.extract.money import STRUCK_MARK

BOUNDARY = "\ue001"  # private-use character: never in real page text
# Elements that start a new line of text when the page is read as lines.
BLOCK_TAGS = frozenset(
    "address article aside blockquote br button dd details div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr label legend li main nav ol option p pre section select summary "
    "table tbody td tfoot th thead tr ul".split()
)
STRUCK_TAGS = frozenset({"s", "del", "strike"})
UNREAD_TAGS = frozenset({"script", "style", "template", "noscript"})
PRESERVED_TAGS = frozenset({"pre", "textarea"})
# Class or id words of elements that show an old price (Magento old-price, BigCommerce price--rrp and
# price--non-sale, Shopify compare-at, WooCommerce "was").
STRUCK_CLASS = re.compile(
    r"(?:^|[\s_-])(?:old|was|compare|rrp|msrp|strike|strikethrough|crossed|non-sale)(?:$|[\s_-])"
    r"|old[-_]?price|original[-_]?price|before[-_]?discount|was[-_]?price|compare[-_]?at|line-through"
    r"|list[-_]?price|retail[-_]?price|regular[-_]price[-_]?(?:old|was|strike)",
    re.IGNORECASE,
)
REGULAR_CLASS = re.compile(r"regular[-_]?price|price[-_]?regular|price--regular|price-item--regular", re.IGNORECASE)
SALE_CLASS = re.compile(r"sale[-_]?price|price[-_]?sale|price--sale|price-item--sale|special[-_]?price", re.IGNORECASE)
LINE_THROUGH = re.compile(r"text-decoration(?:-line)?\s*:\s*[^;]*line-through", re.IGNORECASE)
CENTS = re.compile(r"^\s*\d{2}\s*$")
WHOLE_DOLLARS_AT_END = re.compile(r"\$\s?(?:\d{1,3}(?:,\d{3})+|\d{1,7})$")
# Boundary markers between two parts of one number ("$" "5,163", "5" ",163", "86" ".39") vanish, and
# whole dollars followed by a two-digit element are dollars and cents ("$86" "39"); a boundary after
# a complete amount ("$86.39" "250 in stock") and every other boundary is a space. Each boundary is
# judged on a few characters either side, so resolving is linear in the text.
BOUNDARY_RUN = re.compile(BOUNDARY + "+")
WHOLE_DOLLARS_BEFORE = re.compile(r"\$\s?[\d,]*\d$")
TWO_DIGITS_AFTER = re.compile(r"^\d{2}(?:" + BOUNDARY + r"|\s|$)")
NUMBER_CHAR = re.compile(r"[\d.,]")
COMPLETE_AMOUNT = re.compile(r"\d\.\d{2}$")
CONTEXT_CHARS = 24
SUP_CONTEXT_CHARS = 24
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def is_struck(element: lxml.html.HtmlElement) -> bool:
    """An element that shows a price no longer asked: <s>, <del>, line-through, an "old price" class,
    or a "regular price" class beside a "sale price" one (the theme strikes it with CSS)."""
    if element.tag in STRUCK_TAGS:
        return True
    if LINE_THROUGH.search(element.get("style") or ""):
        return True
    names = f"{element.get('class') or ''} {element.get('data-price-type') or ''}"
    if STRUCK_CLASS.search(names):
        return not element.xpath(".//button | .//input")
    parent = element.getparent()
    return bool(REGULAR_CLASS.search(names)) and parent is not None and any(
        SALE_CLASS.search(sibling.get("class") or "") for sibling in parent if sibling is not element)


# Elements that may show a struck price (cheap XPath, no string functions) before `is_struck` confirms them.
STRUCK_CANDIDATES_XPATH = "//s | //del | //strike | //*[@style] | //*[@data-price-type] | //*[@class]"


def mark_tree(root: lxml.html.HtmlElement) -> None:
    """Annotate `root` in place: line breaks at blocks, boundary markers at inline elements,
    "~~" around struck prices, cents in superscript joined to their dollars."""
    struck: set[lxml.html.HtmlElement] = set()
    for element in root.xpath(STRUCK_CANDIDATES_XPATH):  # document order: an outer struck element comes first
        if is_struck(element) and not any(ancestor in struck for ancestor in element.iterancestors()):
            struck.add(element)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        _source_breaks_to_spaces(element)
        if element.tag in UNREAD_TAGS:  # never shown; its tail still follows a boundary
            element.tail = BOUNDARY + (element.tail or "")
            continue
        if element.tag == "input" and (element.get("type") or "").lower() in ("submit", "button"):
            # A button input shows its value: the page reads "Add to Cart" there, on a line of its own.
            element.tail = "\n" + " ".join((element.get("value") or "").split()) + "\n" + (element.tail or "")
            continue
        if element.tag == "sup" and CENTS.match(element.text_content() or "") and _after_whole_dollars(element):
            element.text = "." + (element.text or "").strip()
            element.tail = BOUNDARY + (element.tail or "")
            continue
        if element.tag in BLOCK_TAGS:
            element.text = "\n" + (element.text or "")
            element.tail = "\n" + (element.tail or "")
        else:
            element.text = BOUNDARY + (element.text or "")
            element.tail = BOUNDARY + (element.tail or "")
        if element in struck:
            element.text = STRUCK_MARK + element.text
            element.tail = STRUCK_MARK + element.tail


def _source_breaks_to_spaces(element: lxml.html.HtmlElement) -> None:
    """A line break in the HTML source is white space as a browser shows it (outside <pre>): only
    block elements break lines, so an amount struck inside a pretty-printed <s> stays on the line
    of its "~~" marks."""
    if element.text and "\n" in element.text and element.tag not in PRESERVED_TAGS \
            and not any(ancestor.tag in PRESERVED_TAGS for ancestor in element.iterancestors()):
        element.text = element.text.replace("\n", " ")
    parent = element.getparent()
    if element.tail and "\n" in element.tail and (parent is None or (
            parent.tag not in PRESERVED_TAGS
            and not any(ancestor.tag in PRESERVED_TAGS for ancestor in parent.iterancestors()))):
        element.tail = element.tail.replace("\n", " ")


def _after_whole_dollars(sup: lxml.html.HtmlElement) -> bool:
    """The text just before this <sup> (within its parent, or its grandparent) ends with a dollar
    amount without cents ("$5,163")."""
    before = _text_before(sup)
    parent = sup.getparent()
    if "$" not in before and parent is not None:
        before = _text_before(parent) + before
    before = before.replace(BOUNDARY, "").rstrip(" \t")
    return bool(WHOLE_DOLLARS_AT_END.search(before[-20:]))


def _text_before(element: lxml.html.HtmlElement) -> str:
    """The last few characters of `element`'s parent before `element` (walking back over its
    previous siblings only as far as needed, so many <sup>s in one parent stay linear)."""
    parts: list[str] = []
    size = 0
    sibling = element.getprevious()
    while sibling is not None and size < SUP_CONTEXT_CHARS:
        for text in (sibling.tail or "", sibling.text_content() or ""):
            parts.append(text[-SUP_CONTEXT_CHARS:])
            size += len(parts[-1])
        sibling = sibling.getprevious()
    if size < SUP_CONTEXT_CHARS:
        parent = element.getparent()
        parts.append((parent.text or "") if parent is not None else "")
    return "".join(reversed(parts))


def resolve(text: str) -> str:
    """Text with boundary markers resolved (number parts joined, other boundaries spaces) and
    zero-width characters removed."""
    text = text.translate(ZERO_WIDTH)
    if BOUNDARY not in text:
        return text
    parts, last = [], 0
    for run in BOUNDARY_RUN.finditer(text):
        parts.append(text[last : run.start()])
        left = text[max(0, run.start() - CONTEXT_CHARS) : run.start()].replace(BOUNDARY, "")
        parts.append(_joint(left, text[run.end() : run.end() + 4]))
        last = run.end()
    parts.append(text[last:])
    return "".join(parts).replace(BOUNDARY, " ")


def _joint(left: str, right: str) -> str:
    """What a run of boundary markers between `left` and `right` becomes."""
    right_first = right.lstrip(" ")[:1]
    if left.endswith("$") and right_first.isdigit():
        return ""                                   # "$" + "5,163"
    if WHOLE_DOLLARS_BEFORE.search(left) and TWO_DIGITS_AFTER.match(right):
        return "."                                  # "$86" + "39": dollars and cents
    if left[-1:] and NUMBER_CHAR.match(left[-1]) and right[:1] and NUMBER_CHAR.match(right[:1]):
        return " " if COMPLETE_AMOUNT.search(left) else ""   # "5" + ",163", "86" + ".39"
    return " "


def collapse(text: str) -> str:
    return " ".join(text.split())


def visible_text(element: lxml.html.HtmlElement) -> str:
    """One element's text as a reader should see it: boundaries resolved, whitespace collapsed."""
    return collapse(resolve(element.text_content() or ""))


def plain(text: str) -> str:
    """Text without struck marks, for labels and evidence."""
    return text.replace(STRUCK_MARK, "")
