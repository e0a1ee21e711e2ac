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
# Class or id words of elements that show an old price (Magento old-price, BigCommerce price--rrp and
# price--non-sale, Shopify compare-at, WooCommerce "was").
STRUCK_CLASS = re.compile(
    r"(?:^|[\s_-])(?:old|was|compare|compare-at|compareat|rrp|msrp|strike|strikethrough|crossed|"
    r"non-sale|list-price|retail-price)(?:$|[\s_-])",
    re.IGNORECASE,
)
LINE_THROUGH = re.compile(r"text-decoration(?:-line)?\s*:\s*[^;]*line-through", re.IGNORECASE)
CENTS = re.compile(r"^\s*\d{2}\s*$")
WHOLE_DOLLARS_AT_END = re.compile(r"\$\s?(?:\d{1,3}(?:,\d{3})+|\d{1,7})$")
# Boundary markers between two parts of one number ("$" "5,163", "5" ",163", "86" ".39") vanish;
# every other boundary is a space.
NUMBER_JOIN = re.compile(r"(?<=[\d$.,])" + BOUNDARY + r"+(?=[\d.,])|(?<=\$)" + BOUNDARY + r"+(?=\s?\d)")


def is_struck(element: lxml.html.HtmlElement) -> bool:
    """An element that shows a price no longer asked: <s>, <del>, line-through, an "old price" class."""
    if element.tag in STRUCK_TAGS:
        return True
    if LINE_THROUGH.search(element.get("style") or ""):
        return True
    names = f"{element.get('class') or ''} {element.get('data-price-type') or ''}"
    return bool(STRUCK_CLASS.search(names)) and not element.xpath(".//button | .//input")


# Elements that may show a struck price (cheap XPath, no string functions) before `is_struck` confirms them.
STRUCK_CANDIDATES_XPATH = "//s | //del | //strike | //*[@style] | //*[@data-price-type] | //*[@class]"


def mark_tree(root: lxml.html.HtmlElement) -> None:
    """Annotate `root` in place: line breaks at blocks, boundary markers at inline elements,
    "~~" around struck prices, cents in superscript joined to their dollars."""
    struck = {element for element in root.xpath(STRUCK_CANDIDATES_XPATH) if is_struck(element)}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in UNREAD_TAGS:  # never shown; its tail still follows a boundary
            element.tail = BOUNDARY + (element.tail or "")
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
    """The text of `element`'s parent that comes before `element`."""
    parent = element.getparent()
    if parent is None:
        return ""
    parts = [parent.text or ""]
    for sibling in parent:
        if sibling is element:
            break
        parts.append(sibling.text_content() or "")
        parts.append(sibling.tail or "")
    return "".join(parts)


def resolve(text: str) -> str:
    """Text with boundary markers resolved (number parts joined, other boundaries spaces)."""
    if BOUNDARY not in text:
        return text
    return NUMBER_JOIN.sub("", text).replace(BOUNDARY, " ")


def collapse(text: str) -> str:
    return " ".join(text.split())


def visible_text(element: lxml.html.HtmlElement) -> str:
    """One element's text as a reader should see it: boundaries resolved, whitespace collapsed."""
    return collapse(resolve(element.text_content() or ""))


def plain(text: str) -> str:
    """Text without struck marks, for labels and evidence."""
    return text.replace(STRUCK_MARK, "")
