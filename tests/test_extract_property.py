"""Random dealer pages built from parts (tests/pagegen/) read right or fail honestly (issue 10).

Every generated page has one right answer (`pagegen.answer`). An outcome is
- right: no failure, the price equal to the cent and the same in_stock flag;
- an honest failure: a failure reason and no price (the only acceptable outcome for a page
  priced in another currency);
- wrong: anything else: another number, a right price with the wrong stock flag, a price on
  a non-USD page, a failure that still carries a price, no price without a reason, a crash.

The pages are seeded (hypothesis derandomize): the same 2,200 examples, over 2,000 distinct
pages, on every run of this file and tests/pagegen/ as they stand.
`python -m tests.test_extract_property --report` reads the same pages without stopping at the
first wrong one and prints totals, honest failures by reason and markup, the display variants
and parts that honest failures on US-dollar pages still need once shrunk (coverage gaps), and
wrong outcomes by kind with minimal examples (parts dropped while the outcome stays the same);
`--html` adds each example's page as the fetcher returned it.
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace

import lxml.html
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from staktrakr.extract import Finding, extract_offer
from staktrakr.rules.bands import price_band
from tests.pagegen import CATALOG, VENDORS, Answer, OtherProducts, PageSpec, answer, page_content, page_specs, render
from tests.pagegen.distractors import Note
from tests.pagegen.layout import minify, pretty_print
from tests.pagegen.money import USD_CURRENCIES, MoneyStyle
from tests.pagegen.stock import ADD_LABELS

USD_DOLLAR_SIGN = USD_CURRENCIES[0]
PAGE_COUNT = 2200  # ~5% of hypothesis examples repeat a page: 2,200 examples are over 2,000 distinct pages
SEEDED_PAGES = settings(max_examples=PAGE_COUNT, derandomize=True, database=None, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Outcome:
    """One page read: what was right, what extraction returned, and the verdict."""

    spec: PageSpec
    expected: Answer
    finding: Finding | None  # None when extraction raised
    error: str | None = None

    @property
    def verdict(self) -> str:
        """"right", "failed" (an honest failure) or "wrong"."""
        found = self.finding
        if found is None:
            return "wrong"
        if found.failure is not None and found.price is None:
            return "failed"
        right = (self.expected.price is not None and found.failure is None and found.price is not None
                 and round(found.price, 2) == self.expected.price and found.in_stock == self.expected.in_stock)
        return "right" if right else "wrong"

    @property
    def wrong_kind(self) -> str:
        found = self.finding
        if found is None:
            return "extraction raised"
        if self.expected.price is None and found.price is not None:
            return "price on a non-USD page"
        if found.price is not None and round(found.price, 2) != self.expected.price:
            return "another number"
        if found.price is not None and found.failure is None:
            return "right price, wrong stock flag"
        return "failure with a price" if found.failure else "no price and no failure reason"

    def explain(self) -> str:
        want = self.expected
        wanted = (f"price {want.price:.2f}, in_stock {want.in_stock}" if want.price is not None
                  else f"a failure (ideally {want.reason})")
        found = self.finding
        got = (f"raised {self.error}" if found is None else
               f"price {found.price}, in_stock {found.in_stock}, failure {found.failure}, rule {found.rule}, "
               f"evidence {found.evidence!r}, detail {found.detail!r}, stock {found.stock_evidence!r}")
        parts = "\n".join(f"    {line}" for line in self.spec.parts())
        return f"  expected: {wanted}\n  got:      {got}\n  parts:\n{parts}"


def read(spec: PageSpec) -> Outcome:
    """Run the real extraction on the page as the fetcher returns it (HTML, markdown or both) with
    the vendor's catalog rules."""
    page = page_content(spec)
    try:
        finding = extract_offer(page, CATALOG.coins[spec.coin.slug], CATALOG.rules_for(spec.vendor), spec.spot)
    except Exception as exc:  # a crash is a wrong outcome, reported with the page that caused it
        return Outcome(spec, answer(spec), None, f"{type(exc).__name__}: {exc}")
    return Outcome(spec, answer(spec), finding)


_recorded: list[Outcome] | None = None  # set by report(): collect outcomes instead of asserting


@SEEDED_PAGES
@given(spec=page_specs())
def test_generated_pages_read_right_or_fail_honestly(spec: PageSpec) -> None:
    outcome = read(spec)
    event(f"{spec.display.markup}: {outcome.verdict}")
    if _recorded is not None:
        _recorded.append(outcome)
        return
    verdict = outcome.verdict
    assert verdict != "wrong", f"{outcome.wrong_kind}\n{outcome.explain()}"


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(spec=page_specs())
def test_generated_answers_are_plausible_and_shown(spec: PageSpec) -> None:
    """The generator's own promise: the answer lies in the coin's band, the content the fetcher
    returns shows it, and a markdown-only page says its price and stock in words."""
    expected, content = answer(spec), page_content(spec)
    band = price_band(CATALOG.coins[spec.coin.slug], spec.spot)
    price = spec.display.answer()
    assert band.contains(price) and spec.vendor in CATALOG.vendors
    if expected.price is None:
        assert spec.currency.code != "USD"
        return
    if not spec.display.shows_price:  # in the JSON-LD, as a string or a JSON number
        html = content.html or ""
        assert f'"{price:.2f}"' in html or f": {price}," in html or f": {price}}}" in html
    else:  # dollars and cents may sit in separate elements
        assert f"{price:,.2f}".split(".")[0] in (content.html or content.markdown)
    if content.html is None:
        assert spec.stock.says_in_words and spec.money.split != "sup"
    assert expected.in_stock == spec.stock.in_stock_for(spec.vendor)


@settings(max_examples=100, derandomize=True, database=None, deadline=None)
@given(spec=page_specs())
def test_layouts_keep_the_text(spec: PageSpec) -> None:
    """Minified and pretty-printed pages hold the same characters outside whitespace."""
    html = render(replace(spec, layout="plain"))
    texts = {re.sub(r"\s+", "", lxml.html.document_fromstring(page).text_content())
             for page in (html, minify(html), pretty_print(html))}
    assert len(texts) == 1


def test_pages_are_seeded():
    """The generator draws only through hypothesis: the same seed renders the same pages."""
    def rendered_pages() -> list[str]:
        pages: list[str] = []

        @settings(max_examples=20, derandomize=True, database=None)
        @given(data=st.data())
        def draw_pages(data: st.DataObject) -> None:
            pages.append(render(data.draw(page_specs())))

        draw_pages()
        return pages

    first = rendered_pages()
    assert first == rendered_pages() and len(set(first)) > 5
    assert set(VENDORS) <= set(CATALOG.vendors)


# Report mode -----------------------------------------------------------------------------------

SHRUNK_MAX = 200  # wrong pages, and honest failures on US-dollar pages, shrunk per report


def simpler(spec: PageSpec) -> Iterator[PageSpec]:
    """Pages with one part fewer (or plainer); each keeps the same right answer."""
    parts = spec.distractors
    for index, part in enumerate(parts):
        yield replace(spec, distractors=parts[:index] + parts[index + 1 :])
        if isinstance(part, OtherProducts) and len(part.cards) > 1:
            for card in range(len(part.cards)):
                fewer = replace(part, cards=part.cards[:card] + part.cards[card + 1 :])
                yield replace(spec, distractors=(*parts[:index], fewer, *parts[index + 1:]))
    if spec.jsonld is not None and spec.display.shows_price:
        yield replace(spec, jsonld=None)
    if spec.jsonld is not None and (spec.jsonld.siblings or spec.jsonld.related):
        yield replace(spec, jsonld=replace(spec.jsonld, siblings=(), related=()))
    if spec.meta:
        yield replace(spec, meta=None)
    if spec.layout != "plain":
        yield replace(spec, layout="plain")
    if spec.content != "html":
        yield replace(spec, content="html")
    if not spec.money.is_plain:
        yield replace(spec, money=MoneyStyle())
    converted = any(getattr(part, "kind", "") == "converted" for part in parts)
    if spec.currency.code == "USD" and spec.currency.template != "${n}" and not converted:
        yield replace(spec, currency=USD_DOLLAR_SIGN)
    if spec.stock.badge and not (spec.stock.state in ("preorder", "backorder") and spec.stock.label in ADD_LABELS):
        yield replace(spec, stock=replace(spec.stock, badge=None))


def minimal(outcome: Outcome) -> Outcome:
    """Drop parts while the outcome stays the same: wrong in the same way, or an honest failure
    for the same reason."""
    def same(tried: Outcome) -> bool:
        if tried.verdict != outcome.verdict:
            return False
        if outcome.verdict == "wrong":
            return tried.wrong_kind == outcome.wrong_kind
        return tried.finding.failure == outcome.finding.failure

    changed = True
    while changed:
        changed = False
        for candidate in simpler(outcome.spec):
            tried = read(candidate)
            if same(tried):
                outcome, changed = tried, True
                break
    return outcome


def display_variant(spec: PageSpec) -> str:
    variant = spec.display.variant()
    return f"{spec.display.markup}[{variant}]" if variant else spec.display.markup


def part_labels(spec: PageSpec) -> list[str]:
    """Short names of a page's optional parts: what a minimal wrong page still needs."""
    labels = [f"jsonld:{spec.jsonld.variant()}"] if spec.jsonld else []
    for part in spec.distractors:
        detail = getattr(part, "markup", "") or (part.template.split("{")[0].strip() if isinstance(part, Note) else "")
        labels.append(f"{getattr(part, 'kind', '')}{':' + detail if detail else ''}@{part.where}")
    labels += [f"layout:{spec.layout}"] if spec.layout != "plain" else []
    labels += [f"content:{spec.content}"] if spec.content != "html" else []
    labels += [f"money:{spec.money.label()}"] if not spec.money.is_plain else []
    labels += [f"currency:{spec.currency.template!r}"] if spec.currency.template != "${n}" else []
    labels += [f"meta:{spec.meta.prefix}"] if spec.meta else []
    labels += [f"stock:{spec.stock.state}"] if spec.stock.state != "in_stock" else []
    return labels or ["the display alone"]


def _share(count: int, total: int) -> str:
    return f"{count} ({count / total:.1%})" if total else "0"


def report(examples: int = 6, show_html: bool = False) -> list[Outcome]:
    """Read the seeded pages without stopping and print the summary; returns the outcomes."""
    global _recorded
    _recorded, started = [], time.perf_counter()
    try:
        test_generated_pages_read_right_or_fail_honestly()
    finally:
        outcomes, _recorded = _recorded or [], None
    elapsed = time.perf_counter() - started
    total, distinct = len(outcomes), len({(render(o.spec), o.spec.vendor, o.spec.spot) for o in outcomes})
    verdicts = Counter(outcome.verdict for outcome in outcomes)
    print(f"pages: {total} ({distinct} distinct) read in {elapsed:.1f} s")
    print(f"right: {_share(verdicts['right'], total)}")
    print(f"honest failures: {_share(verdicts['failed'], total)}")
    usd = [outcome for outcome in outcomes if outcome.expected.price is not None]
    usd_failures = [outcome for outcome in usd if outcome.verdict == "failed"]
    print(f"  on US-dollar pages: {_share(len(usd_failures), len(usd))} of {len(usd)}")
    for reason, count in Counter(outcome.finding.failure for outcome in usd_failures).most_common():
        print(f"    reason {reason}: {count}")
    foreign = [outcome for outcome in outcomes if outcome.expected.price is None]
    reasons = Counter(outcome.finding.failure if outcome.verdict == "failed" else "WRONG" for outcome in foreign)
    print(f"  non-USD pages: {len(foreign)} -> " + ", ".join(f"{key}: {count}" for key, count in reasons.most_common()))
    wrong = [outcome for outcome in outcomes if outcome.verdict == "wrong"]
    print(f"wrong: {_share(len(wrong), total)}")
    for kind, count in Counter(outcome.wrong_kind for outcome in wrong).most_common():
        print(f"  {kind}: {count}")
    for title, key in (("markup", lambda spec: spec.display.markup), ("content", lambda spec: spec.content)):
        print(f"US-dollar pages by {title}: {'pages':>6} {'right':>6} {'failed':>7} {'wrong':>6}  failure reasons")
        for name in sorted({key(outcome.spec) for outcome in usd}):
            rows = [outcome for outcome in usd if key(outcome.spec) == name]
            counts = Counter(outcome.verdict for outcome in rows)
            why = Counter(outcome.finding.failure for outcome in rows if outcome.verdict == "failed")
            print(f"  {name:<13} {len(rows):>5} {counts['right']:>6} {counts['failed']:>7} {counts['wrong']:>6}  "
                  + ", ".join(f"{reason} {count}" for reason, count in why.most_common()))
    usd_failed = [minimal(outcome) for outcome in usd_failures[:SHRUNK_MAX]]
    if usd_failed:
        print(f"honest failures on US-dollar pages, shrunk to the parts they need ({len(usd_failed)}):")
        print_shares(usd_failed, usd, lambda spec: [display_variant(spec)], "display variant")
        print_shares(usd_failed, usd, part_labels, "part")
        reasons = Counter((o.finding.failure, display_variant(o.spec), tuple(sorted(part_labels(o.spec))))
                          for o in usd_failed)
        print("  minimal failing pages (reason; display + parts):")
        for (reason, variant, labels), count in reasons.most_common(examples):
            print(f"  {count:>4}  {reason}; {variant} + {', '.join(labels)}")
    shrunk = [minimal(outcome) for outcome in wrong[:SHRUNK_MAX]]
    if shrunk:
        print(f"parts left in the {len(shrunk)} minimal wrong pages:")
        for label, count in Counter(label for o in shrunk for label in set(part_labels(o.spec))).most_common():
            print(f"  {label}: {count}")

    def group(outcome: Outcome) -> tuple[str, str, tuple[str, ...]]:
        return outcome.wrong_kind, outcome.spec.display.markup, tuple(sorted(part_labels(outcome.spec)))

    for key, count in Counter(group(outcome) for outcome in shrunk).most_common(examples):
        smallest = min((o for o in shrunk if group(o) == key), key=lambda o: len(render(o.spec)))
        kind, markup, labels = key
        print(f"\nexample: {kind}; {markup} + {', '.join(labels)} ({count} minimal pages like it):")
        print(smallest.explain())
        if show_html:
            content = page_content(smallest.spec)
            print(content.html if content.html is not None else f"(markdown only)\n{content.markdown}")
    return outcomes


def print_shares(shrunk: list[Outcome], pages: list[Outcome], names, what: str) -> None:  # type: ignore[no-untyped-def]
    """How often each name (`names(spec)`) is left in the shrunk outcomes, out of the pages that have it."""
    left = Counter(name for outcome in shrunk for name in set(names(outcome.spec)))
    having = Counter(name for outcome in pages for name in set(names(outcome.spec)))
    having.update(dict.fromkeys(left, 0))  # a shrunk part may read differently from its original
    share = {name: count / max(having[name], count) for name, count in left.items()}
    print(f"  by {what} (left in shrunk pages / pages with it):")
    for name in sorted(left, key=lambda name: (-share[name], -left[name]))[:25]:
        print(f"    {share[name]:6.1%} {left[name]:>4}/{max(having[name], left[name]):<5} {name}")


if __name__ == "__main__":
    if "--report" not in sys.argv[1:]:
        sys.exit("usage: python -m tests.test_extract_property --report [--examples N] [--html]")
    count = int(sys.argv[sys.argv.index("--examples") + 1]) if "--examples" in sys.argv else 6
    report(examples=count, show_html="--html" in sys.argv)
