"""Cut site-wide regions off a page before any rule reads it, and turn what is left into lines.

Spot tickers in headers, nav menus linking fractional coins, footers, popups and "related
products" carousels carry prices and stock words that are not this product's. They are
removed first (per-vendor data: `cut_selectors`, `cut_after`, `cut_patterns`), so every rule
downstream reads only the product's own region. Works on HTML (lxml) and on markdown.

A `cut_after` marker only counts after the product title (the first H1) when the page has
one: a "Recently Viewed" strip above the title must not cut the product away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.html
from cssselect import SelectorError
from lxml import etree

from staktrakr.catalog import VendorRules
from staktrakr.extract.readings import Locus
from staktrakr.extract.text import collapse, mark_tree, resolve
from staktrakr.extract.views import CONTROL_MARK, MARKER_MAX_EXTRA_CHARS, TextView, first_h1, html_view

# Elements whose text never shows on the page (or is a script's source).
INVISIBLE_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "head")
# Utility classes that hide an element (Bootstrap, Tailwind, Shopify); not "visually-hidden" or
# "sr-only", whose text screen readers read out (Shopify's "Sale price" labels).
HIDING_CLASSES = frozenset({"hidden", "d-none", "hide", "is-hidden", "u-hidden", "display-none", "js-hidden"})
HIDDEN_XPATH = (
    "//*[@hidden] | //*[contains(translate(@style, ' ', ''), 'display:none')]"
    " | //*[contains(translate(@style, ' ', ''), 'visibility:hidden')]"
)
# Containers that hold another product or site furniture on any dealer's page, cut before the
# vendor's own rules (never an ancestor of the product title). Matched on tag, ARIA role and
# class/id words.
OTHER_REGION_TAGS = {"aside": Locus.SIDEBAR, "nav": Locus.NAVIGATION, "header": Locus.HEADER,
                     "footer": Locus.FOOTER, "dialog": Locus.OVERLAY}
OTHER_REGION_ROLES = {"complementary": Locus.SIDEBAR, "navigation": Locus.NAVIGATION, "banner": Locus.HEADER,
                      "contentinfo": Locus.FOOTER, "dialog": Locus.OVERLAY, "alertdialog": Locus.OVERLAY}
OTHER_REGION_WORDS = (
    (Locus.OTHER_PRODUCT, re.compile(
        r"(?:^|[\s_-])(?:related|upsells?|up-sells?|cross-?sells?|recommend(?:ed|ations?)?|similar|recently|"
        r"also|carousel|you-may|youmay|more-products|product-slider|frequently|pairs|complementary)(?:$|[\s_-])"
        r"|products?[-_]?(?:grid|list|listing|carousel|cards?)|collection[-_]?(?:grid|list)|productGrid"
        r"|(?:^|\s)products(?:$|\s)", re.IGNORECASE)),
    (Locus.SIDEBAR, re.compile(r"(?:^|[\s_-])sidebar(?:$|[\s_-])", re.IGNORECASE)),
    (Locus.TICKER, re.compile(r"(?:^|[\s_-])(?:ticker|spot-prices?|spotprices?|metal-prices?)(?:$|[\s_-])",
                              re.IGNORECASE)),
    (Locus.OVERLAY, re.compile(r"(?:^|[\s_-])(?:modal|popup|mini-?cart|cart-drawer|newsletter)(?![-_]?price)"
                               r"(?:$|[\s_-])", re.IGNORECASE)),
)
# Candidates for `other_region` (cheap XPath, no string functions) before tag/role/word checks.
OTHER_REGION_XPATH = " | ".join([f"//{tag}" for tag in OTHER_REGION_TAGS] + ["//*[@role] | //*[@class] | //*[@id]"])
# Stock words inside these say nothing about the product's own buy button: variant swatches,
# option lists, reviews, questions.
CONTROL_TAGS = frozenset({"option", "select", "datalist"})
CONTROL_WORDS = re.compile(
    r"(?:^|[\s_-])(?:variants?|swatch(?:es)?|reviews?|testimonials?|comments?|questions?|ratings?)(?:$|[\s_-])",
    re.IGNORECASE,
)
OTHER_TEXT_MAX_CHARS = 4_000
# libxml2 drops what follows </body></html>; the parser closes both at the end anyway.
CLOSING_BODY = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)
# A cut_after marker must be a heading-like text, not a sentence that happens to mention it.


@dataclass
class JsonLdBlock:
    """One `<script type="application/ld+json">`; `in_cut_region` when it sat in a cut region."""

    text: str
    in_cut_region: bool


@dataclass
class HtmlPage:
    """The parsed page: JSON-LD and product meta tags (read before cutting), the cut tree, its
    lines, and the text of the regions that were cut (read for the record, never for the price)."""

    jsonld: list[JsonLdBlock]
    meta: dict[str, str]
    tree: lxml.html.HtmlElement
    view: TextView
    head_title: str | None
    cut_texts: list[tuple[Locus, str]] = field(default_factory=list)
    currency_choice: tuple[str, str] | None = None  # (code, evidence) of a currency selector's choice


def parse_html(html: str) -> lxml.html.HtmlElement | None:
    """Parse HTML leniently (deep nesting and huge text nodes included; content after a stray
    </body></html> kept); None for an empty or unparseable document."""
    if not html or not html.strip():
        return None
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True)
    source = CLOSING_BODY.sub("", html)
    try:
        return lxml.html.document_fromstring(source.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError):
        return None


def prepare_html(html: str, rules: VendorRules) -> HtmlPage | None:
    """Parse, note the JSON-LD and meta tags, drop hidden parts, other products' and site-wide
    regions and the vendor's cut regions, and read the rest as lines."""
    root = parse_html(html)
    if root is None:
        return None
    scripts = [
        script
        for script in root.iter("script")
        if (script.get("type") or "").strip().lower() == "application/ld+json"
    ]
    meta = {}
    for tag in root.iter("meta"):
        key = (tag.get("property") or tag.get("name") or tag.get("itemprop") or "").strip().lower()
        if key and tag.get("content") is not None and key not in meta:
            meta[key] = tag.get("content").strip()
    head_title_el = root.find(".//title")
    head_title = collapse(head_title_el.text_content()) if head_title_el is not None else None
    for element in root.xpath(HIDDEN_XPATH):
        _drop(element)
    currency_choice = _currency_choice(root)  # a site-wide selector, read before the header is cut
    title = first_h1(root)
    cut: list[tuple[Locus, lxml.html.HtmlElement]] = [
        (locus, element) for element in root.xpath(OTHER_REGION_XPATH) if (locus := other_region(element)) is not None
    ]
    for selector in rules.cut_selectors:
        try:
            matched = root.cssselect(selector)
        except SelectorError:  # a typo in the catalog must not stop the scrape
            continue
        cut += [(other_region(element) or Locus.ELSEWHERE, element) for element in matched]
    script_texts = [script.text_content() for script in scripts]
    mark_tree(root)
    cut_texts = _cut_regions(cut, title, root)
    markers, after_text = _cut_after_html(root, rules.cut_after)
    if after_text:
        cut_texts.append((Locus.OTHER_PRODUCT, after_text))
    jsonld = [JsonLdBlock(text, not _attached(script, root))
              for script, text in zip(scripts, script_texts, strict=True)]
    for element in list(root.iter(*INVISIBLE_TAGS)):
        _drop(element)
    _mark_controls(root)
    view = html_view(root, rules, title)
    view.cut_markers = markers
    return HtmlPage(jsonld=jsonld, meta=meta, tree=root, view=view, head_title=head_title, cut_texts=cut_texts,
                    currency_choice=currency_choice)


def _currency_choice(root: lxml.html.HtmlElement) -> tuple[str, str] | None:
    """The currency a selector (a <select> named or id'd "currency") has chosen, as an ISO code."""
    for select in root.xpath("//select[@name or @id]"):
        if "currency" not in f"{select.get('name') or ''} {select.get('id') or ''}".lower():
            continue
        chosen = select.xpath(".//option[@selected]")
        if chosen:
            shown = collapse(resolve(chosen[0].text_content()))
            code = re.search(r"\b([A-Z]{3})\b", f"{chosen[0].get('value') or ''} {shown}")
            if code:
                return code.group(1), f"currency selector: {shown or code.group(1)}"
    return None


def other_region(element: lxml.html.HtmlElement) -> Locus | None:
    """The locus of a container that is not the page's own product (by tag, role, class/id words),
    or HIDDEN for an element a hiding class keeps off the screen."""
    if not isinstance(element.tag, str):
        return None
    if HIDING_CLASSES & set((element.get("class") or "").split()):
        return Locus.HIDDEN
    locus = OTHER_REGION_TAGS.get(element.tag) or OTHER_REGION_ROLES.get((element.get("role") or "").lower())
    if locus is not None:
        return locus
    names = f"{element.get('class') or ''} {element.get('id') or ''}"
    if "-" in element.tag:  # a custom element's name says what it holds (<product-recommendations>)
        names = f"{names} {element.tag}"
    if not names.strip():
        return None
    return next((locus for locus, words in OTHER_REGION_WORDS if words.search(names)), None)


def is_control(element: lxml.html.HtmlElement) -> bool:
    """A variant/option list, a review or a question: its stock words are not the product's."""
    if element.tag in CONTROL_TAGS or (element.get("itemprop") or "").lower() == "review":
        return True
    names = f"{element.get('class') or ''} {element.get('id') or ''}"
    return bool(names.strip()) and bool(CONTROL_WORDS.search(names))


def _mark_controls(root: lxml.html.HtmlElement) -> None:
    """Put CONTROL_MARK on every line of text inside a control (outermost controls only)."""
    candidates = root.xpath("//option | //select | //datalist | //*[@itemprop] | //*[@class] | //*[@id]")
    controls = [element for element in candidates if is_control(element)]
    marked: set[lxml.html.HtmlElement] = set()
    for control in controls:
        if any(ancestor in marked for ancestor in control.iterancestors()):
            continue
        marked.add(control)
        for node in control.iter():
            node.text = _control_text(node.text)
            if node is not control:
                node.tail = _control_text(node.tail)


def _control_text(text: str | None) -> str | None:
    if not text or not text.strip():
        return text
    return "\n".join(CONTROL_MARK + part if part.strip() else part for part in text.split("\n"))


def _cut_regions(cut: list[tuple[Locus, lxml.html.HtmlElement]], title: lxml.html.HtmlElement | None,
                 root: lxml.html.HtmlElement) -> list[tuple[Locus, str]]:
    """Drop the cut regions (never one holding the title); keep their text for the record."""
    holds_title = set(title.iterancestors()) | {title} if title is not None else set()
    texts, budget = [], OTHER_TEXT_MAX_CHARS
    for locus, element in cut:
        if element in holds_title or not _attached(element, root):
            continue
        if budget > 0:
            text = resolve((element.text_content() or "")[: budget * 2])[:budget]
            budget -= len(text)
            texts.append((locus, text))
        _drop(element)
    return texts


def _attached(element: lxml.html.HtmlElement, root: lxml.html.HtmlElement) -> bool:
    """True when `element` is still inside `root` (not inside a removed region)."""
    node = element
    while node.getparent() is not None:
        node = node.getparent()
    return node is root


def _drop(element: lxml.html.HtmlElement) -> None:
    """Remove an element but keep the text that follows it (its tail)."""
    if element.getparent() is not None:
        element.drop_tree()


def _cut_after_html(root: lxml.html.HtmlElement, markers: list[str]) -> tuple[list[str], str]:
    """Remove the first marker element after the title and everything after it in document order.

    Returns the marker found and the start of the text removed. One pass over the text nodes;
    nodes longer than any marker allows are skipped unread, so a 5 MB page costs one walk, not
    one lowercase copy per marker.
    """
    if not markers:
        return [], ""
    lowered = [(marker.lower(), marker) for marker in markers]
    longest = max(len(marker) for marker in markers) + MARKER_MAX_EXTRA_CHARS
    title = first_h1(root)
    after_title = title is None
    for element in root.iter():
        if element is title:
            after_title = True
            continue
        if not after_title or not isinstance(element.tag, str):
            continue
        for text, owner in ((element.text, element), (element.tail, element.getparent())):
            if not text or owner is None or len(text) > longest:
                continue
            lowered_text = text.lower()
            for needle, marker in lowered:
                if needle not in lowered_text:
                    continue
                if len(collapse(resolve(owner.text_content()))) <= len(marker) + MARKER_MAX_EXTRA_CHARS:
                    removed = _remove_from(owner)
                    return [marker], removed
    return [], ""


def _remove_from(element: lxml.html.HtmlElement) -> str:
    """Remove `element` and everything after it in document order (siblings, ancestors' tails);
    returns the start of the removed text (for the record)."""
    removed: list[str] = []
    node = element
    while node is not None and node.getparent() is not None:
        parent = node.getparent()
        for sibling in list(node.itersiblings()):
            if sum(map(len, removed)) < OTHER_TEXT_MAX_CHARS:
                removed.append(resolve((sibling.text_content() or "")[:OTHER_TEXT_MAX_CHARS]))
            parent.remove(sibling)
        node.tail = None
        node = parent
    parent = element.getparent()
    if parent is not None:
        parent.remove(element)
    return "\n".join(removed)[:OTHER_TEXT_MAX_CHARS]


