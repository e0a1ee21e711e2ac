"""Random dealer product pages built from parts, each with the outcome a careful human reads.

`PageSpec` (page.py) is plain data: the coin and spot, the page currency, how the page's own
product shows its price (`display`: displays.py, themes.py, tiers.py, structured.py), optional
JSON-LD and meta tags for it (jsonld.py), its purchase control (stock.py), the parts around it
(distractors.py, widgets.py), the main amount's money style (money.py), the whitespace layout
(layout.py) and what the fetcher returns (HTML, Firecrawl-style markdown (markdown.py), or both).
`render(spec)` is the HTML, `page_content(spec)` what extraction gets, `answer(spec)` the right
outcome, `page_specs()` the hypothesis strategy that draws specs (strategy.py, draw_parts.py).

Fairness: each part is drawn only in forms a careful human reads one way, and the answer is
what that human reads (issue 10's rules); each part's docstring states its rule:
- the unit price is the page's own product's price for one unit: the first quantity tier in
  the check/wire column; the sale/special/"now" price, never the regular, was, list, MSRP or
  struck-through price; each display class says which of its amounts that is;
- other products' prices, spot and melt quotes, shipping costs and thresholds, premiums,
  savings, cart and bundle totals, buy-back, bulk ("as low as", "from", "buy 20+"), pack and
  per-oz prices, financing instalments, rewards, price-alert targets, converted prices in
  another currency and prices quoted in reviews are never it;
- stock is what the product's purchase control says, and its structured availability when
  present (the two always agree here); a pre-order counts as in stock only where the vendor's
  catalog rules tolerate it, a back-order never; option labels, reviews and other products do
  not count;
- a page priced in another currency (every amount marked CAD, C$, A$, NZ$, HK$, S$, MX$, EUR,
  GBP, CHF...) has no US dollar price: the right outcome is a failure, ideally `wrong_currency`.
A structured price may disagree with the visible one only where issue 10 settles it: it is the
card column or the list price shown next to a labelled check/wire table or a sale price, a
bulk range (AggregateOffer), or the card column's tier offers beside a labelled table.
"""

from tests.pagegen.base import CATALOG, VENDORS
from tests.pagegen.distractors import OtherProducts
from tests.pagegen.page import Answer, PageSpec, answer, page_content, render
from tests.pagegen.strategy import page_specs
from tests.pagegen.structured import ScriptOnlyPrice

__all__ = ["CATALOG", "VENDORS", "Answer", "OtherProducts", "PageSpec", "ScriptOnlyPrice", "answer",
           "page_content", "page_specs", "render"]
