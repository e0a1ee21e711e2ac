"""One generated page: its spec, the right answer, the HTML and/or markdown a fetcher returns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from staktrakr.extract import PageContent
from tests.pagegen.base import CoinKind, Part
from tests.pagegen.displays import Display
from tests.pagegen.jsonld import JsonLd, MetaTags
from tests.pagegen.layout import minify, pretty_print
from tests.pagegen.markdown import to_markdown
from tests.pagegen.money import Currency, MoneyStyle
from tests.pagegen.stock import Stock


@dataclass(frozen=True)
class Answer:
    """The right outcome: a USD unit price and stock flag, or price None (must fail; `reason` preferred)."""

    price: float | None
    in_stock: bool | None
    reason: str | None = None


@dataclass(frozen=True, repr=False)
class PageSpec(Part):
    """One generated dealer page for `coin` (spot in USD per troy oz of its metal).

    `layout`: "plain", "minified" (no whitespace between tags) or "pretty" (indented, text on
    its own lines); `content`: what the fetcher returns: "html", "markdown" (Firecrawl's main
    content as markdown only) or "both"."""

    coin: CoinKind
    vendor: str
    spot: float
    currency: Currency
    title: str
    display: Display
    stock: Stock
    jsonld: JsonLd | None = None
    meta: MetaTags | None = None
    distractors: tuple[Part, ...] = ()
    money: MoneyStyle = field(default_factory=MoneyStyle)
    layout: str = "plain"
    content: str = "html"

    @property
    def site(self) -> str:
        return f"https://www.{self.vendor}.com"

    @property
    def url(self) -> str:
        return f"{self.site}/{self.coin.slug}"

    def url_for(self, name: str) -> str:
        """Another product's page on this site."""
        return f"{self.site}/{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"

    @property
    def vendor_name(self) -> str:
        return self.vendor.title()

    def __repr__(self) -> str:
        return "PageSpec(" + "; ".join(self.parts()) + ")"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """hypothesis prints a falsifying page as its parts, one per line."""
        printer.text("PageSpec:\n    " + "\n    ".join(self.parts()))

    def parts(self) -> list[str]:
        """The page's parts, one short line each (for reports)."""
        head = (f"{self.coin.slug} @ {self.vendor}, spot {self.spot}, {self.currency.code} {self.currency.template!r}, "
                f"stock {self.stock.state}, title {self.title!r}, money {self.money.label() or 'plain'}, "
                f"layout {self.layout}, content {self.content}")
        lines = [head, self.display.short(), self.stock.short()]
        lines += [self.jsonld.short()] if self.jsonld else []
        lines += [self.meta.short()] if self.meta else []
        return lines + [part.short() for part in self.distractors]


def answer(spec: PageSpec) -> Answer:
    """What a careful human reads: the display's unit price and the control's stock (as the
    vendor's catalog rules count a pre-order), in US dollars only."""
    if spec.currency.code != "USD":
        return Answer(None, None, "wrong_currency")
    return Answer(round(spec.display.answer(), 2), spec.stock.in_stock_for(spec.vendor))


def page_content(spec: PageSpec) -> PageContent:
    """What a fetcher hands to extraction for this page."""
    html = render(spec)
    return PageContent(url=spec.url, html=html if spec.content != "markdown" else None,
                       markdown=to_markdown(html) if spec.content != "html" else None)


def render(spec: PageSpec) -> str:
    """The page as HTML, laid out as `spec.layout` says."""
    def slot(where: str) -> str:
        return "\n".join(part.render(spec) for part in spec.distractors if part.where == where)

    head = [f"<title>{spec.title} | {spec.vendor_name}</title>"]
    if spec.jsonld and not spec.jsonld.in_body:
        head.append(spec.jsonld.render(spec))
    if spec.meta:
        head += spec.meta.render(spec)
    main_attrs, name_attr = spec.display.scope_attrs()
    aside_before, aside_after = slot("sidebar_before"), slot("sidebar_after")
    badge = f'<div class="stock-status">{spec.stock.badge}</div>' if spec.stock.badge else ""
    metal = spec.coin.metal
    body = f"""<header class="site-header"><a class="logo" href="/">{spec.vendor_name}</a>
<nav><a href="/gold">Gold</a> <a href="/silver">Silver</a> <a href="/platinum">Platinum</a>
<a href="/fractional-gold">1/10 oz Gold</a></nav>
{slot("header")}
</header>
{slot("top")}
<div class="page">
{f'<aside class="sidebar">{aside_before}</aside>' if aside_before else ""}
<main class="product-main"{main_attrs}>
<div class="breadcrumbs"><a href="/">Home</a> / <a href="/{metal}">{metal.title()}</a> / {spec.title}</div>
<h1 class="product-title"{name_attr}>{spec.title}</h1>
{spec.display.render(spec)}
{slot("near")}
{badge}
<form class="product-form" action="/cart/add" method="post">
<label>Qty <input type="number" name="quantity" value="1" min="1"></label>
{spec.stock.render()}
</form>
{slot("after_form")}
<div class="product-description"><h2>Description</h2>
<p>Each {spec.coin.unit_word} contains {spec.coin.weight_oz:g} troy oz of .999 fine {metal}.</p></div>
</main>
{f'<aside class="sidebar">{aside_after}</aside>' if aside_after else ""}
</div>
{slot("after_main")}
<footer class="site-footer"><p>&copy; 2026 {spec.vendor_name}. Prices move with the metals market.</p>
{slot("footer")}
</footer>
{spec.jsonld.render(spec) if spec.jsonld and spec.jsonld.in_body else ""}"""
    head_html = "\n".join(head)
    html = (f'<!doctype html>\n<html><head><meta charset="utf-8">\n{head_html}\n</head>\n'
            f'<body>\n{body}\n</body></html>\n')
    html = re.sub(r"\n{2,}", "\n", html)
    if spec.layout == "minified":
        return minify(html)
    return pretty_print(html) if spec.layout == "pretty" else html
