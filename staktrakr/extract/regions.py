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

# Elements whose text never shows on the page (or is a script's source).
INVISIBLE_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "head")
HIDDEN_XPATH = (
    "//*[@hidden] | //*[contains(translate(@style, ' ', ''), 'display:none')]"
    " | //*[contains(translate(@style, ' ', ''), 'visibility:hidden')]"
)
# Elements that start a new line of text when the page is read as lines.
BLOCK_TAGS = frozenset(
    "address article aside blockquote br button dd details div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr label legend li main nav ol option p pre section select summary "
    "table tbody td tfoot th thead tr ul".split()
)
# A cut_after marker must be a heading-like text, not a sentence that happens to mention it.
MARKER_MAX_EXTRA_CHARS = 40
TITLE_MARK = "\ue000"  # private-use character: never in real page text


@dataclass
class TextView:
    """A page read as lines of visible text (one source: "html" or "markdown").

    `main_start` is the index of the product title line (first H1) or 0: price labels,
    prose and stock words are read from there on, so breadcrumbs and leftovers of the
    header above the title cannot be mistaken for the product's price.
    """

    source: str
    lines: list[str]
    title: str | None = None
    main_start: int = 0
    cut_markers: list[str] = field(default_factory=list)

    @property
    def main_lines(self) -> list[str]:
        return self.lines[self.main_start :]


@dataclass
class JsonLdBlock:
    """One `<script type="application/ld+json">`; `in_cut_region` when it sat in a cut region."""

    text: str
    in_cut_region: bool


@dataclass
class HtmlPage:
    """The parsed page: JSON-LD and product meta tags (read before cutting), the cut tree, its lines."""

    jsonld: list[JsonLdBlock]
    meta: dict[str, str]
    tree: lxml.html.HtmlElement
    view: TextView
    head_title: str | None


def parse_html(html: str) -> lxml.html.HtmlElement | None:
    """Parse HTML leniently; None for an empty or unparseable document."""
    if not html or not html.strip():
        return None
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        return lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError):
        return None


def prepare_html(html: str, rules: VendorRules) -> HtmlPage | None:
    """Parse, note the JSON-LD and meta tags, drop hidden parts and the vendor's cut regions, read lines."""
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
    head_title = _collapse(head_title_el.text_content()) if head_title_el is not None else None
    for element in root.xpath(HIDDEN_XPATH):
        _drop(element)
    for selector in rules.cut_selectors:
        try:
            matched = root.cssselect(selector)
        except SelectorError:  # a typo in the catalog must not stop the scrape
            continue
        for element in matched:
            _drop(element)
    markers = _cut_after_html(root, rules.cut_after)
    jsonld = [JsonLdBlock(script.text_content(), not _attached(script, root)) for script in scripts]
    for element in list(root.iter(*INVISIBLE_TAGS)):
        _drop(element)
    view = _html_view(root, rules)
    view.cut_markers = markers
    return HtmlPage(jsonld=jsonld, meta=meta, tree=root, view=view, head_title=head_title)


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


def _first_h1(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    for heading in root.iter("h1"):
        if heading.text_content().strip():
            return heading
    return None


def _cut_after_html(root: lxml.html.HtmlElement, markers: list[str]) -> list[str]:
    """Remove the first marker element after the title and everything after it in document order.

    One pass over the text nodes; nodes longer than any marker allows are skipped unread, so a
    5 MB page costs one walk, not one lowercase copy per marker.
    """
    if not markers:
        return []
    lowered = [(marker.lower(), marker) for marker in markers]
    longest = max(len(marker) for marker in markers) + MARKER_MAX_EXTRA_CHARS
    title = _first_h1(root)
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
                if len(_collapse(owner.text_content())) <= len(marker) + MARKER_MAX_EXTRA_CHARS:
                    _remove_from(owner)
                    return [marker]
    return []


def _remove_from(element: lxml.html.HtmlElement) -> None:
    """Remove `element` and everything after it in document order (siblings, ancestors' tails)."""
    node = element
    while node is not None and node.getparent() is not None:
        parent = node.getparent()
        for sibling in list(node.itersiblings()):
            parent.remove(sibling)
        node.tail = None
        node = parent
    parent = element.getparent()
    if parent is not None:
        parent.remove(element)


def _html_view(root: lxml.html.HtmlElement, rules: VendorRules) -> TextView:
    """Visible text as lines: a line break at every block element; title line marked."""
    title = _first_h1(root)
    title_text = _collapse(title.text_content()) if title is not None else None
    if title is not None:
        title.text = TITLE_MARK + (title.text or "")
    for element in root.iter(*BLOCK_TAGS):
        element.text = "\n" + (element.text or "")
        element.tail = "\n" + (element.tail or "")
    body = root.find("body")
    text = (body if body is not None else root).text_content()
    lines, main_start = [], 0
    for raw_line in text.split("\n"):
        line = _collapse(raw_line)
        if not line or line == TITLE_MARK:
            if line == TITLE_MARK:
                main_start = len(lines)
            continue
        if line.startswith(TITLE_MARK):
            main_start = len(lines)
            line = line[1:].strip()
        lines.append(line)
    # Undo the mark so later readers of the tree see the real title.
    if title is not None and title.text is not None:
        title.text = title.text.replace(TITLE_MARK, "", 1)
    lines, main_start = _drop_pattern_lines(lines, main_start, rules.cut_patterns)
    return TextView(source="html", lines=lines, title=title_text, main_start=main_start)


MD_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)")
MD_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def markdown_view(markdown: str, rules: VendorRules) -> TextView | None:
    """Markdown (e.g. from Firecrawl) as lines: links to text, images dropped, title = first '# '.

    Lines before the first H1 are the site header (tickers, menus) and are not part of the
    main region; cut_after truncates at the first short marker line after the title.
    """
    if not markdown or not markdown.strip():
        return None
    lines: list[str] = []
    title, main_start = None, 0
    for raw_line in markdown.splitlines():
        line = MD_IMAGE.sub("", raw_line)
        line = MD_LINK.sub(r"\1", line)
        line = _collapse(MD_EMPHASIS.sub("", line))
        if not line or set(line) <= set("-=*_ "):
            continue
        heading = MD_HEADING.match(line)
        if heading:
            line = heading.group(2).strip()
            if len(heading.group(1)) == 1 and title is None and line:
                title, main_start = line, len(lines)
        if line:
            lines.append(line)
    lines, main_start = _drop_pattern_lines(lines, main_start, rules.cut_patterns)
    lines, markers = _cut_after_lines(lines, main_start, rules.cut_after)
    return TextView(source="markdown", lines=lines, title=title, main_start=main_start, cut_markers=markers)


def _drop_pattern_lines(lines: list[str], main_start: int, patterns: list[str]) -> tuple[list[str], int]:
    """Drop lines matching any cut pattern, keeping the title index pointing at the title."""
    if not patterns:
        return lines, main_start
    compiled = [re.compile(pattern, re.IGNORECASE) for pattern in patterns]
    kept, new_start = [], 0
    for index, line in enumerate(lines):
        if index == main_start:
            new_start = len(kept)
        if any(pattern.search(line) for pattern in compiled):
            continue
        kept.append(line)
    return kept, min(new_start, max(len(kept) - 1, 0))


def _cut_after_lines(lines: list[str], main_start: int, markers: list[str]) -> tuple[list[str], list[str]]:
    lowered = [marker.lower() for marker in markers]
    for index in range(main_start + 1, len(lines)):
        line = lines[index].lower()
        for marker, original in zip(lowered, markers):
            if marker in line and len(line) <= len(marker) + MARKER_MAX_EXTRA_CHARS:
                return lines[:index], [original]
    return lines, []


def _collapse(text: str) -> str:
    return " ".join(text.split())
