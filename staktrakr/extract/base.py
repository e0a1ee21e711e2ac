"""The extraction contract: a page in, one Finding out, with the evidence of how it was read.

`extract/` never does I/O. A Finding either carries a price (and stock) or a failure reason
the operator can read ("no price found", "price 31.20 outside band 72.00-240.00 for ase", ...).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PageContent(BaseModel):
    """What a fetcher got: HTML and/or markdown, and where it came from."""

    model_config = ConfigDict(frozen=True)

    url: str
    html: str | None = None
    markdown: str | None = None


class Finding(BaseModel):
    """The outcome of reading one page for one coin.

    price:     unit price in USD (first quantity tier, check/wire) or None
    in_stock:  True/False when the page says so, None when unknown
    rule:      which rule matched: "jsonld", "microdata", "table", "label", "prose", ...
    evidence:  the matched text (short), for the operator and `price_snapshots.evidence`
    failure:   None on success; otherwise a short reason kind: "no_price", "out_of_band",
               "wrong_product", "wrong_currency", "conflicting_prices", "preorder",
               "out_of_stock" (OOS with no price) ...
    detail:    one human line explaining the failure
    stock_evidence: what decided `in_stock` (e.g. "jsonld OutOfStock", "button: add to cart")
    decision:  one line naming the decision: which reading won and why the others lost
    readings:  every price reading seen (amount, currency, role, locus, rule, evidence, verdict)
    """

    model_config = ConfigDict(frozen=True)

    price: float | None = None
    in_stock: bool | None = None
    rule: str | None = None
    evidence: str | None = None
    failure: str | None = None
    detail: str | None = None
    stock_evidence: str | None = None
    decision: str | None = None
    readings: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None and self.price is not None
