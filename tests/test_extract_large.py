"""Big pages: 5 MB of HTML or markdown is read correctly and in linear time (lxml, no
backtracking regexes). The timeout is a hang guard, not a timing assertion."""

from __future__ import annotations

import pytest

from staktrakr.extract import PageContent, extract_offer
from tests.extract_fixtures import CATALOG, PAGES

FIVE_MB = 5 * 1024 * 1024


def _menu_items(count: int) -> str:
    return "".join(
        f'<li class="menu-item"><a href="/p/{index}">1/{index % 20 + 2} oz Gold Coin #{index} '
        f"from ${index % 900 + 100}.99 Sold Out</a></li>\n"
        for index in range(count)
    )


def _big_dom_page() -> str:
    """A real product page whose nav menu, related carousel and inline data blow it up to 5 MB."""
    page = (PAGES / "jmbullion_age.html").read_text(encoding="utf-8")
    menu = f"<nav><ul>{_menu_items(30_000)}</ul></nav>"
    carousel = "".join(f'<div class="product-card">1/10 oz Eagle <span>${i % 500 + 500}.99</span> Sold Out</div>\n'
                       for i in range(15_000))
    page = page.replace('<div class="top-bar">', menu + '<div class="top-bar">')
    page = page.replace("<h2>Similar Products You May Like</h2>", "<h2>Similar Products You May Like</h2>" + carousel)
    filler = "<script>window.__STATE__ = \"" + ("$1,0" * 700_000) + "\";</script>"
    page = page.replace("</body>", filler + "</body>")
    assert len(page.encode()) >= FIVE_MB
    return page


@pytest.mark.timeout(60)
def test_five_megabyte_page_with_a_huge_dom():
    finding = extract_offer(
        PageContent(url="https://www.jmbullion.com/age", html=_big_dom_page()),
        CATALOG.coins["age"], CATALOG.rules_for("jmbullion"), 5019.50,
    )
    assert (finding.price, finding.in_stock, finding.rule) == (5219.87, True, "grid")


@pytest.mark.timeout(60)
def test_five_megabyte_single_line_of_dollar_noise():
    """One 5 MB text node full of '$' and digits: the money pattern must stay linear."""
    noise = "$" + "1," * (FIVE_MB // 2) + " $9.9.9.9 " + "$,$" * 1000
    html = (
        "<html><body><h1>2026 1 oz American Silver Eagle</h1><div>Price: $88.10</div>"
        f"<p>{noise}</p><button>Add to Cart</button></body></html>"
    )
    finding = extract_offer(PageContent(url="https://x.test/ase", html=html), CATALOG.coins["ase"],
                            CATALOG.rules_for("sdbullion"), 80.59)
    assert (finding.price, finding.in_stock, finding.rule) == (88.10, True, "label")


@pytest.mark.timeout(60)
def test_five_megabyte_markdown():
    table_rows = "".join(f"| 1/{i % 20 + 2} oz Coin {i} | ${i % 900 + 100}.99 |\n" for i in range(160_000))
    markdown = (PAGES / "apmex_ase.md").read_text(encoding="utf-8")
    markdown = markdown.replace("## Customers Also Purchased", table_rows + "\n## Customers Also Purchased")
    assert len(markdown.encode()) >= FIVE_MB
    finding = extract_offer(PageContent(url="https://www.apmex.com/ase", markdown=markdown), CATALOG.coins["ase"],
                            CATALOG.rules_for("apmex"), 80.59)
    assert (finding.price, finding.in_stock, finding.rule) == (88.49, True, "table")
