"""The vision cross-check of a scrape cycle: which targets, their screenshots, the Gemini calls, the decision.

Opt-in twice: GEMINI_API_KEY set and the vendor's catalog rules say `vision: true`. At most
VISION_MAX_PER_CYCLE targets a cycle: when more are eligible, the ones whose last scraped row
failed or scored below LOW_CONFIDENCE come first, then the ones checked longest ago (never checked
first), so every eligible target is checked at least daily while cycles x budget covers them. A
chosen target's screenshot comes from the browser page of its walk while it is open; a page read
over http is laid out in the browser from the HTML that was read (its stylesheets only, no second
request for the page), a markdown-only page gets one browser rendering through the vendor's lane.
A screenshot identical
(SHA-256) to the last one checked for the target reuses that reading instead of a call. Calls run
as tasks beside the cycle (VISION_CONCURRENCY in flight), so vendors keep being fetched while
Gemini answers; the cycle waits for them only at its end. Gemini trouble is a failed check, never
a failed cycle. The decision itself is numeric, in rules/scoring.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from staktrakr.fetch.browser import SCREENSHOT_MIME_TYPE
from staktrakr.rules.bands import price_band
from staktrakr.rules.scoring import SOURCE_VISION, decide_vision, single_source_confidence, upper_median
from staktrakr.settings import Settings
from staktrakr.sources.gemini import GeminiVision, VisionReading, vision_prompt
from staktrakr.store.queries.vision import newest_target_rows
from staktrakr.timeutil import iso_z, utcnow

if TYPE_CHECKING:
    from staktrakr.catalog import Target
    from staktrakr.fetch.politeness import VendorLane
    from staktrakr.fetch.walk import FetchRun, Walk
    from staktrakr.jobs.scrape_target import TargetOutcome
    from staktrakr.store import Store

log = logging.getLogger(__name__)

LOW_CONFIDENCE = 60   # a scraped price scored below this is checked before the rotation
CANCEL_GRACE_S = 2.0  # how long cut checks get to unwind before the cycle goes on without them
Key = tuple[str, str]


@dataclass(frozen=True)
class TargetHistory:
    """What the poller's rows say of one target before the cycle (store/queries/vision.py)."""

    last_checked_at: str | None = None      # newest vision row
    last_sha256: str | None = None
    last_reading: VisionReading | None = None
    needs_attention: bool = False           # newest scraped row failed or scored below LOW_CONFIDENCE


@dataclass
class VisionCheck:
    """One target's cross-check: the reading (called or reused) and, after scoring, the decision."""

    price: float | None = None
    in_stock: bool | None = None
    currency: str | None = None
    read_from: str | None = None
    failure: str | None = None
    screenshot_sha256: str | None = None
    reused: bool = False
    called: bool = False
    tokens: int = 0
    elapsed_ms: int = 0
    checked_at: str = ""
    verdict: str | None = None        # agreed / disagreed / vision_only / unread / failed
    chosen: str | None = None         # which row holds the target's price: primary / vision / none
    confidence: int | None = None     # of the vision row
    stock_disagrees: bool = False

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass
class VisionStats:
    """Per-run counters (the run's JSON, poller_runs.vision, `status`, /metrics)."""

    eligible: int = 0
    planned: int = 0
    calls: int = 0
    reused: int = 0
    agreed: int = 0
    disagreed: int = 0
    vision_only: int = 0
    failed: int = 0
    tokens: int = 0
    call_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["call_seconds"] = round(self.call_seconds, 3)
        return data


def vision_summary(counters: Mapping[str, Any]) -> str:
    """One line of a run's vision counters (VisionStats.to_json() shape), for scrape and status."""
    parts = [f"{counters.get(name, 0)} {name.replace('_', '-')}" for name in
             ("calls", "reused", "agreed", "disagreed", "vision_only", "failed")]
    return (f"vision: {', '.join(parts)}; {counters.get('tokens', 0):,} tokens, "
            f"{float(counters.get('call_seconds', 0.0)):.1f} s in calls "
            f"({counters.get('planned', 0)} of {counters.get('eligible', 0)} eligible targets checked)")


def vision_enabled(settings: Settings, target: Target) -> bool:
    """Both opt-ins: GEMINI_API_KEY and the vendor's `vision: true`."""
    return settings.gemini_api_key is not None and target.rules.vision


def read_history(store: Store, settings: Settings, now: datetime) -> dict[Key, TargetHistory]:
    """Each target's last check and last scraped result, in one query (empty without a database)."""
    rows = newest_target_rows(store, settings.poller_id, now) or []
    found: dict[Key, dict[str, Any]] = {}
    for row in rows:
        entry = found.setdefault((row["coin_slug"], row["vendor"]), {})
        if row["is_vision"]:
            evidence = _json(row["evidence"])
            entry["last_checked_at"] = row["scraped_at"]
            entry["last_sha256"] = evidence.get("screenshot_sha256")
            entry["last_reading"] = VisionReading(
                price=row["price"], in_stock=bool(row["in_stock"]), currency=evidence.get("currency"),
                read_from=evidence.get("read_from"))
        else:
            low = row["confidence"] is not None and int(row["confidence"]) < LOW_CONFIDENCE
            entry["needs_attention"] = bool(row["is_failed"]) or low
    return {key: TargetHistory(**entry) for key, entry in found.items()}


def plan_vision(settings: Settings, targets: Sequence[Target], history: Mapping[Key, TargetHistory]) -> list[Key]:
    """The targets to cross-check this cycle, at most VISION_MAX_PER_CYCLE, in priority order."""
    eligible = [target.key for target in targets if vision_enabled(settings, target)]
    budget = settings.vision_max_per_cycle
    if len(eligible) <= budget:
        return eligible

    def priority(key: Key) -> tuple[int, str, str]:
        known = history.get(key, TargetHistory())
        rotation = hashlib.sha256("/".join(key).encode()).hexdigest()  # a stable order among equals
        return (0 if known.needs_attention else 1, known.last_checked_at or "", rotation)

    return sorted(eligible, key=priority)[:budget]


@dataclass
class VisionRun:
    """The cycle's cross-checks: `capture()` in a vendor's worker, `results()` once the fetching is done."""

    settings: Settings
    chosen: set[Key]
    history: Mapping[Key, TargetHistory]
    stats: VisionStats = field(default_factory=VisionStats)
    _tasks: dict[Key, asyncio.Task[VisionCheck]] = field(default_factory=dict)
    _client: GeminiVision | None = None
    _calls: asyncio.Semaphore | None = None

    def wanted(self, target: Target) -> bool:
        return target.key in self.chosen

    async def capture(self, target: Target, walk: Walk[Any], lane: VendorLane, fetch_run: FetchRun,
                      spot_usd_per_oz: float | None) -> None:
        """Start the target's check with its screenshot: its walk's browser page; else the page read
        over http laid out in the browser from its HTML (in the check's task: the vendor's lane goes
        on); else (markdown only) one browser rendering through the lane. The check runs beside the cycle."""
        prompt = vision_prompt(target, price_band(target.coin, spot_usd_per_oz))
        image = next((step.page.screenshot for step in reversed(walk.steps) if step.page.screenshot), None)
        read_page = next((step.page for step in reversed(walk.steps) if step.page.ok), None)
        if image is None and read_page is not None and read_page.html:
            self._tasks[target.key] = asyncio.ensure_future(
                self._check(target.key, fetch_run.render_screenshot(read_page), prompt))
            return
        if image is None and read_page is not None:
            image = (await fetch_run.screenshot(read_page.final_url or read_page.url, target.rules, lane)).screenshot
        if image is None:
            why = "no page to screenshot" if read_page is None else "no screenshot (browser)"
            self._tasks[target.key] = asyncio.ensure_future(_failed_check(why))
            return
        self._tasks[target.key] = asyncio.ensure_future(self._check(target.key, _ready(image), prompt))

    async def _check(self, key: Key, screenshot: Awaitable[bytes | None], prompt: str) -> VisionCheck:
        image = await screenshot
        if image is None:
            return VisionCheck(failure="no screenshot (browser)", checked_at=iso_z(utcnow()))
        sha = hashlib.sha256(image).hexdigest()
        known = self.history.get(key)
        if known is not None and known.last_sha256 == sha and known.last_reading is not None:
            reading = known.last_reading
            return VisionCheck(price=reading.price, in_stock=reading.in_stock, currency=reading.currency,
                               read_from=reading.read_from, screenshot_sha256=sha, reused=True,
                               checked_at=iso_z(utcnow()))
        if self._client is None:
            self._client = GeminiVision(self.settings)
            self._calls = asyncio.Semaphore(self.settings.vision_concurrency)
        assert self._calls is not None
        async with self._calls:
            started = time.monotonic()
            reading = await self._client.read(image, prompt, SCREENSHOT_MIME_TYPE)
            elapsed = time.monotonic() - started
        return VisionCheck(price=reading.price, in_stock=reading.in_stock, currency=reading.currency,
                           read_from=reading.read_from, failure=reading.failure, screenshot_sha256=sha,
                           called=True, tokens=reading.tokens, elapsed_ms=int(elapsed * 1000),
                           checked_at=iso_z(utcnow()))

    async def results(self, wait_s: float) -> dict[Key, VisionCheck]:
        """Every started check's result, waiting at most `wait_s` seconds once the fetching is done
        (VISION_TIMEOUT_S; 0 after a stop request): a check still running then is cut, like one that
        was cancelled or raised (a failed check). Closes the client."""
        tasks = dict(self._tasks)
        late = {task for task in tasks.values() if not task.done()}
        if late and wait_s > 0:
            _, late = await asyncio.wait(late, timeout=wait_s)
        if late:
            if self._client is not None:
                self._client.stop()   # a call that outlives its cancellation (inside the SDK) retries no more
            for task in late:
                task.cancel()
            await asyncio.wait(late, timeout=CANCEL_GRACE_S)
        checks: dict[Key, VisionCheck] = {}
        for key, task in tasks.items():
            if task in late or task.cancelled():
                checks[key] = VisionCheck(failure="cut: no answer before the cycle ended", checked_at=iso_z(utcnow()))
            elif task.exception() is not None:
                log.warning("vision check of %s failed: %s", "/".join(key), task.exception())
                checks[key] = VisionCheck(failure=f"error: {type(task.exception()).__name__}",
                                          checked_at=iso_z(utcnow()))
            else:
                checks[key] = task.result()
        await self.aclose()
        return checks

    def cancel(self) -> None:
        if self._client is not None:
            self._client.stop()
        for task in self._tasks.values():
            task.cancel()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


async def _ready(image: bytes) -> bytes | None:
    return image


async def _failed_check(why: str) -> VisionCheck:
    return VisionCheck(failure=why, checked_at=iso_z(utcnow()))


def start_vision(settings: Settings, store: Store, targets: Sequence[Target]) -> VisionRun | None:
    """The cycle's VisionRun, or None when no target is eligible (no key, no `vision: true`)."""
    if settings.gemini_api_key is None or not any(target.rules.vision for target in targets):
        return None
    history = read_history(store, settings, utcnow())
    chosen = plan_vision(settings, targets, history)
    run = VisionRun(settings, set(chosen), history)
    run.stats.eligible = sum(1 for target in targets if vision_enabled(settings, target))
    run.stats.planned = len(chosen)
    return run


def apply_vision(outcomes: Sequence[TargetOutcome], checks: Mapping[Key, VisionCheck], stats: VisionStats,
                 window_prices: Mapping[str, list[float]], previous_day: Mapping[str, float]) -> None:
    """Decide every checked target (rules/scoring.py) after the cycle's scoring: set the scraped
    row's confidence and source label, refuse a scraped price the vision reading beats, and count."""
    for outcome in outcomes:
        check = checks.get((outcome.coin_slug, outcome.vendor_id))
        if check is None:
            continue
        outcome.vision = check
        stats.calls += int(check.called)
        stats.reused += int(check.reused)
        stats.tokens += check.tokens
        stats.call_seconds += check.elapsed_ms / 1000
        if not check.ok:
            check.verdict = "failed"
            stats.failed += 1
            continue
        others = [o.price for o in outcomes if o.coin_slug == outcome.coin_slug and o.vendor_id != outcome.vendor_id
                  and o.ok and o.price is not None and o.in_stock is not False]
        median = upper_median([*others, *window_prices.get(outcome.coin_slug, [])])
        day = previous_day.get(outcome.coin_slug)
        vision_score = single_source_confidence(check.price, median, day) if check.price else None
        primary = outcome.price if outcome.ok else None
        decision = decide_vision(primary, outcome.in_stock, outcome.confidence, outcome.source or "unknown",
                                 check.price, check.in_stock, vision_score, median)
        check.verdict, check.chosen, check.stock_disagrees = decision.verdict, decision.chosen, decision.stock_disagrees
        check.confidence = decision.confidence if decision.chosen == "vision" else vision_score
        if decision.verdict == "agreed":
            stats.agreed += 1
            outcome.confidence, outcome.source_label = decision.confidence, decision.source
        elif decision.verdict == "disagreed":
            stats.disagreed += 1
            if decision.chosen == "primary":
                outcome.confidence = decision.confidence
            else:
                outcome.confidence = None
                where = f" nearer the window median ${median:,.2f}" if median else ""
                outcome.reason = (f"vision_disagrees: scraped ${primary:,.2f}, vision ${check.price:,.2f}{where}"
                                  if primary is not None and check.price is not None else "vision_disagrees")
        elif decision.verdict == "vision_only":
            stats.vision_only += 1


def vision_evidence(check: VisionCheck, outcome: TargetOutcome) -> dict[str, Any]:
    """What the rows say about the check: both readings, the verdict, the screenshot's hash."""
    return {"price": check.price, "in_stock": check.in_stock, "currency": check.currency,
            "read_from": check.read_from, "verdict": check.verdict, "chosen": check.chosen,
            "stock_disagrees": check.stock_disagrees, "screenshot_sha256": check.screenshot_sha256,
            "reused": check.reused, "failure": check.failure, "scraped_price": outcome.price,
            "scraped_in_stock": outcome.in_stock}


def vision_row_fields(check: VisionCheck, outcome: TargetOutcome) -> dict[str, Any] | None:
    """The fields of the target's `gemini-vision` price row, or None when the model read no price."""
    if not check.ok or check.price is None:
        return None
    return {"scraped_at": check.checked_at, "price": check.price, "source": SOURCE_VISION,
            "confidence": check.confidence, "in_stock": check.in_stock is not False,
            "evidence": json.dumps(vision_evidence(check, outcome), separators=(",", ":"), ensure_ascii=False)}


def _json(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
