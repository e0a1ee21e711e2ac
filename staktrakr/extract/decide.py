"""The decision: from every reading on a page to one unit price, or an honest failure.

Rules, in order (each names the kind of mistake it prevents):
1. Only the page's own product counts: readings of other products, sidebars, tickers, the site
   header/navigation/footer and overlays are kept for the record, never chosen.
2. Only US dollars: if the product's structured offer is in another currency, or the page's
   candidate amounts are marked with another currency (C$, CAD, A$, EUR, ...) and none is
   marked USD, a bare "$" cannot be trusted as US dollars; the target fails `wrong_currency`.
3. Only unit prices: "was"/list/MSRP/struck prices, card columns, other tiers, bulk ("as low
   as"), thresholds, shipping, savings, premiums, totals and spot quotes are never the price.
   A regular price is the price only when no sale price is shown.
4. Plausibility: a candidate outside the sanity band is a misread and moves on to the next.
5. Agreement: the trusted readers (JSON-LD, microdata/RDFa, the pricing table, labelled
   prices) must agree on one amount. An amount that some other reading explains (it equals the
   table's card column or another tier, a "was" price, a bulk price, a card-labelled price)
   gives way to the one that does not. If two trusted amounts still disagree, the target fails
   `conflicting_prices` naming both: never a guess.
6. Weaker readers fill in only when no trusted one gave a plausible price: product meta tags,
   then the prose fallback (a lone plausible amount near the title or the buy button).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from staktrakr.extract.labels import prose_choice
from staktrakr.extract.readings import STRUCTURED_RULES, Locus, Reading, Role
from staktrakr.rules.bands import Band

# Trust order of the readers when trusted readings agree (the first names the rule).
RULE_TRUST = {"jsonld": 0, "microdata": 1, "rdfa": 1, "table": 2, "grid": 3, "tier_text": 3, "label": 4}
ROLE_TRUST = {Role.CHECK_WIRE: 0, Role.SALE: 1, Role.UNIT: 2, Role.REGULAR: 3}
# Readings whose amount, when a candidate repeats it, explains that candidate away.
EXPLAINING_ROLES = {
    Role.WAS: "a was/list price", Role.CARD: "the card price", Role.OTHER_CELL: "another tier or column",
    Role.BULK: "a bulk price", Role.THRESHOLD: "an order threshold", Role.SHIPPING: "a shipping cost",
    Role.SAVINGS: "a saving", Role.PREMIUM: "a premium", Role.TOTAL: "a total", Role.SPOT: "a spot quote",
    Role.PACK: "a pack price", Role.REGULAR: "the regular price", Role.BID: "the dealer's buy price",
}
RECORDED_READINGS_MAX = 40
Judge = Callable[[Reading, str], None]


@dataclass
class Decision:
    """What the decision made of a page's readings.

    chosen:   the unit price reading, or None
    failure:  None, or "wrong_currency" | "conflicting_prices" | "out_of_band" (with `rejected`)
    detail:   one line for a failure; `summary` one line naming the decision for any outcome
    readings: every reading with its verdict (capped at RECORDED_READINGS_MAX, candidates first)
    """

    chosen: Reading | None = None
    failure: str | None = None
    detail: str = ""
    summary: str = ""
    rejected: Reading | None = None
    readings: list[Reading] = field(default_factory=list)


@dataclass(frozen=True)
class PageFacts:
    """What the page says about all its prices, beside the readings.

    currency:  (ISO code, the text saying so) when the page states its prices' currency
               ("All prices in Canadian dollars", a currency selector set to CAD)
    card_only: the line saying check/wire costs less ("Save 4% paying by check"), when the page
               has one: unlabelled prices are then card prices
    """

    currency: tuple[str, str] | None = None
    card_only: str | None = None


def decide(readings: list[Reading], band: Band, notes: list[str] | None = None,
           facts: PageFacts = PageFacts()) -> Decision:
    """Pick the unit price from `readings` by the rules in the module docstring (USD, one unit)."""
    verdicts: dict[int, str] = {}

    def judge(reading: Reading, verdict: str) -> None:
        verdicts.setdefault(id(reading), verdict)

    main = []
    for reading in readings:
        if reading.locus is Locus.MAIN:
            main.append(reading)
        else:
            judge(reading, f"not this product ({reading.locus.value})")
    decision = Decision()
    priced = [r for r in main if r.role.may_be_unit_price]
    candidates = [r for r in priced if r.rule != "prose"]
    foreign = [r for r in priced if not r.is_dollars]
    stated = facts.currency if facts.currency is not None and facts.currency[0] != "USD" else None
    if (foreign and _page_not_in_dollars(priced, foreign)) or (
            stated is not None and priced and not any(r.currency == "USD" for r in priced)):
        for reading in main:
            judge(reading, "not US dollars" if not reading.is_dollars else "currency unclear on this page")
        code, shown = (foreign[0].currency or "", foreign[0].evidence) if foreign else (stated or ("", ""))
        decision.failure = "wrong_currency"
        decision.detail = f"the product is priced in {code} ({shown}), not US dollars"
        return _finish(decision, readings, verdicts, notes)
    for reading in main:
        if not reading.is_dollars:
            judge(reading, "not US dollars")
        elif not reading.role.may_be_unit_price:
            judge(reading, f"not a unit price ({reading.role.value})")
    candidates = [r for r in candidates if r.is_dollars]
    in_band: list[Reading] = []
    out_of_band: list[Reading] = []
    for reading in candidates:
        (in_band if band.contains(reading.amount) else out_of_band).append(reading)
    for reading in out_of_band:
        judge(reading, f"outside band {band.describe()}")
    if facts.card_only and not any(r.role is Role.CHECK_WIRE for r in in_band):
        for reading in in_band:
            judge(reading, "a card price: the page says check/wire costs less")
        decision.failure = "no_price"
        decision.detail = f"only card prices are shown ({facts.card_only}); no check/wire price"
        return _finish(decision, readings, verdicts, notes)
    trusted = [r for r in in_band if r.rule in RULE_TRUST]
    if any(r.role is Role.SALE and band.contains(r.amount) for r in main):  # a sale in any currency
        for reading in trusted:
            if reading.role is Role.REGULAR:
                judge(reading, "regular price; a sale price is shown")
        trusted = [r for r in trusted if r.role is not Role.REGULAR]
    explained = _explain_away(trusted, main, judge)
    trusted = [r for r in trusted if r.cents not in explained]
    said_otherwise = {r.cents for r in main if r.rule != "prose" and r.role in EXPLAINING_ROLES
                      and r.role is not Role.REGULAR}
    prose = [r for r in main if r.rule == "prose" and r.cents not in explained and r.cents not in said_otherwise]
    if trusted:
        agreed = _agree(trusted, explained, judge, decision)
        chosen = agreed.chosen
        if chosen is not None and all(r.rule in STRUCTURED_RULES for r in trusted):
            # Only the page's data says so: the price the page shows, when it shows one alone, must agree.
            visible, _ = prose_choice(prose, band)
            if visible is not None and visible.cents != chosen.cents:
                judge(visible, "disagrees with the structured price")
                judge(chosen, "disagrees with the price the page shows")
                agreed.chosen = None
                agreed.failure = "conflicting_prices"
                agreed.detail = (f"the structured data says {chosen.amount:,.2f} ({chosen.evidence}) but the page "
                                 f"shows {visible.amount:,.2f} ({visible.evidence})")
        return _finish(agreed, readings, verdicts, notes)
    meta = [r for r in in_band if r.rule == "meta" and _explainer(r.cents, [r], main) is None]
    if meta:
        visible, _ = prose_choice(prose, band)
        if visible is not None and visible.cents != meta[0].cents:
            judge(meta[0], "disagrees with the price shown on the page")
            judge(visible, "disagrees with the product meta tag")
            decision.failure = "conflicting_prices"
            decision.detail = (f"the meta tag says {meta[0].amount:,.2f} ({meta[0].evidence}) but the page shows "
                               f"{visible.amount:,.2f} ({visible.evidence})")
            return _finish(decision, readings, verdicts, notes)
        decision.chosen = meta[0]
        decision.summary = f"meta {meta[0].amount:,.2f}: no structured, table or labelled price on the page"
        return _finish(decision, readings, verdicts, notes)
    if out_of_band and not explained:
        decision.rejected = min(out_of_band, key=_trust)
        decision.failure = "out_of_band"
        return _finish(decision, readings, verdicts, notes)
    chosen, note = prose_choice(prose, band)
    if chosen is not None:
        decision.chosen = chosen
        decision.summary = f"prose {chosen.amount:,.2f}: the one plausible amount near the title or buy button"
        if explained:
            decision.summary += "; " + "; ".join(f"{r.describe()} equals {_why(r)}" for r in explained.values())
    else:
        for reading in prose:
            if reading.role is Role.UNIT and reading.is_dollars:
                judge(reading, "outside band" if not band.contains(reading.amount) else "one of several amounts")
        decision.detail = note
    return _finish(decision, readings, verdicts, notes)


def _explain_away(trusted: list[Reading], main: list[Reading], judge: Judge) -> dict[int, Reading]:
    """Amounts of trusted readings that another reading says are something else (a was price, the
    card column, another tier, a bulk price): {cents: the explaining reading}. A labelled
    check/wire price is never explained away."""
    explained: dict[int, Reading] = {}
    for cents in {reading.cents for reading in trusted}:
        explainer = _explainer(cents, trusted, main)
        if explainer is not None:
            explained[cents] = explainer
    for reading in trusted:
        if reading.cents in explained:
            judge(reading, f"equals {_why(explained[reading.cents])} ({explained[reading.cents].evidence})")
    return explained


def _why(explainer: Reading) -> str:
    return EXPLAINING_ROLES.get(explainer.role, explainer.role.value)


def _page_not_in_dollars(candidates: list[Reading], foreign: list[Reading]) -> bool:
    """The product is priced in another currency: its structured offer says so, or its amounts are
    marked with another currency and none is marked USD."""
    if any(r.rule in STRUCTURED_RULES | {"meta"} for r in foreign):
        return not any(r.currency == "USD" and r.rule in STRUCTURED_RULES for r in candidates)
    return not any(r.currency == "USD" for r in candidates)


def _trust(reading: Reading) -> tuple[int, int]:
    return (RULE_TRUST.get(reading.rule, 9), ROLE_TRUST.get(reading.role, 9))


def _agree(trusted: list[Reading], explained: dict[int, Reading], judge: Judge, decision: Decision) -> Decision:
    """One amount among the trusted readings left, or a conflict naming the two most trusted."""
    amounts = {reading.cents for reading in trusted}
    if len(amounts) > 1:
        first, second = sorted({min((r for r in trusted if r.cents == c), key=_trust) for c in amounts},
                               key=_trust)[:2]
        for reading in trusted:
            judge(reading, "conflicts with another trusted reading")
        decision.failure = "conflicting_prices"
        decision.detail = (f"trusted readings disagree: {first.describe()} ({first.evidence}) vs "
                           f"{second.describe()} ({second.evidence})")
        return decision
    cents = next(iter(amounts))
    chosen = min(trusted, key=_trust)
    decision.chosen = chosen
    for reading in trusted:
        if reading is not chosen:
            judge(reading, "agrees")
    agreeing = sorted({r.describe() for r in trusted if r is not chosen and r.describe() != chosen.describe()})
    summary = f"{chosen.describe()}"
    if agreeing:
        summary += f", agreed by {', '.join(agreeing)}"
    for explainer in explained.values():
        summary += f"; {explainer.amount:,.2f} elsewhere equals {_why(explainer)}"
    decision.summary = summary
    assert chosen.cents == cents
    return decision


def _explainer(cents: int, trusted: list[Reading], main: list[Reading]) -> Reading | None:
    """A non-candidate reading with this amount that says what it really is (a was price, the card
    column, ...), when no trusted reading of that amount is a labelled check/wire price."""
    if any(r.cents == cents and r.role is Role.CHECK_WIRE for r in trusted):
        return None
    has_sale = any(r.role is Role.SALE for r in trusted)
    for reading in main:
        if reading.cents != cents or reading.role not in EXPLAINING_ROLES:
            continue
        if reading.role is Role.REGULAR and not has_sale:
            continue
        return reading
    return None


def _default_verdict(reading: Reading, chosen: Reading | None) -> str:
    """A verdict for a reading no rule spoke of: why it did not matter."""
    if chosen is not None and reading.cents == chosen.cents:
        return "agrees"
    if chosen is not None:
        return f"not used: {chosen.rule} decided"
    return "not decisive"


def _finish(decision: Decision, readings: list[Reading], verdicts: dict[int, str], notes: list[str] | None) -> Decision:
    judged = []
    chosen = decision.chosen
    for reading in readings:
        if reading is chosen:
            judged.append(reading.judged("chosen"))
        elif reading is decision.rejected:
            judged.append(reading.judged(verdicts.get(id(reading), "rejected")))
        else:
            judged.append(reading.judged(verdicts.get(id(reading)) or _default_verdict(reading, chosen)))
    judged.sort(key=lambda r: (r.verdict != "chosen", r.locus is not Locus.MAIN, not r.role.may_be_unit_price))
    decision.readings = judged[:RECORDED_READINGS_MAX]
    if notes:
        decision.summary = "; ".join(filter(None, [decision.summary, *notes]))
    return decision
