"""The spot job: one MetalPriceAPI `/latest` answer -> one validated row per metal for this 15-minute slot.

Nothing unvalidated is stored: every metal must be inside its band (rules/bands.py), and a
move larger than SPOT_MAX_JUMP from the newest plausible stored value (or no such value at
all) must be confirmed by an immediate second fetch. A bad answer stores no spot row, writes
an `error` run row and raises JobFailed with the reason on one line.

Rows: `timestamp_floor` = `timestamp` = the slot (`YYYY-MM-DDTHH:MM:00Z`, what existing readers
expect), `scraped_at` = the real fetch time, `provider_timestamp` = the API's own `timestamp`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from staktrakr.errors import JobFailed
from staktrakr.jobs.harness import JobRun, RunReport
from staktrakr.models import SpotPrice, spot_metal
from staktrakr.rules.bands import METALS, Band, band_problem
from staktrakr.settings import Settings
from staktrakr.sources.metalprice import MetalPriceClient, SpotApiError, SpotQuote
from staktrakr.store import Store
from staktrakr.store.queries.spot import metals_in_slot, plausible_spots_before
from staktrakr.timeutil import iso_z, utcnow, window_start

log = logging.getLogger(__name__)

SOURCE_LIVE = "metalprice-api"
JOB = "spot"
# A stored value older than this is no reference for the jump check (long outages, first run):
# the new value then needs the second-fetch confirmation like any jump.
JUMP_REFERENCE_MAX_AGE = timedelta(days=4)
# A second fetch confirms a jump when it agrees with the first within this fraction.
CONFIRM_TOLERANCE = 0.01


@dataclass(frozen=True)
class Reference:
    spot: float
    timestamp_floor: str


@dataclass
class SpotResult:
    """What one spot run did; `to_dict()` is the `--json` output."""

    run_id: str
    slot: str
    status: str                       # stored | queued | already_stored | dry_run
    prices: dict[str, float] = field(default_factory=dict)
    provider_timestamp: str | None = None
    scraped_at: str | None = None
    api_calls: int = 0
    confirmed: list[str] = field(default_factory=list)   # metals whose jump a second fetch confirmed
    stored_rows: int = 0
    queued_rows: int = 0
    notes: list[str] = field(default_factory=list)
    run: RunReport | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def reference_prices(store: Store, slot: str, bands: dict[str, Band]) -> dict[str, Reference] | None:
    """Newest plausible stored value per metal before `slot` (within JUMP_REFERENCE_MAX_AGE),
    in one round trip; None when the database cannot be read. Old bad rows (0, 0.01) are skipped."""
    oldest = window_start(datetime.fromisoformat(slot.replace("Z", "+00:00")) - JUMP_REFERENCE_MAX_AGE)
    rows = plausible_spots_before(store, slot, oldest, bands)
    if rows is None:
        log.warning("spot: no jump reference (database unavailable); a second fetch must confirm the values")
        return None
    return {row["metal"]: Reference(float(row["spot"]), row["timestamp_floor"]) for row in rows}


def slot_is_stored(store: Store, slot: str) -> bool:
    """All four metals already have a row for the slot (a rerun or the other poller got there first)."""
    metals = metals_in_slot(store, slot)
    return metals is not None and metals >= len(METALS)


def check_bands(quote: SpotQuote, bands: dict[str, Band]) -> None:
    problems = [p for metal in METALS if (p := band_problem(metal, quote.usd_per_oz.get(metal), bands))]
    if problems:
        raise SpotApiError("implausible spot: " + "; ".join(problems))


def jumps(prices: dict[str, float], references: dict[str, Reference] | None, max_jump: float) -> dict[str, str]:
    """Metals that need confirmation, with why: a move beyond max_jump, or no reference at all."""
    needing: dict[str, str] = {}
    for metal in METALS:
        reference = (references or {}).get(metal)
        if reference is None:
            needing[metal] = "no recent stored value"
            continue
        move = abs(prices[metal] - reference.spot) / reference.spot
        if move > max_jump:
            needing[metal] = (f"{prices[metal]:.2f} is {move:.0%} from {reference.spot:.2f} "
                              f"({reference.timestamp_floor}), more than SPOT_MAX_JUMP {max_jump:.0%}")
    return needing


def fetch_validated(client: MetalPriceClient, references: dict[str, Reference] | None, settings: Settings,
                    bands: dict[str, Band]) -> tuple[SpotQuote, list[str]]:
    """A quote that passed the bands and the jump rule (confirmed by a second fetch when needed)."""
    first = client.latest()
    check_bands(first, bands)
    needing = jumps(first.usd_per_oz, references, settings.spot_max_jump)
    if not needing:
        return first, []
    log.info("spot: confirming %s with a second fetch", ", ".join(f"{m} ({why})" for m, why in needing.items()))
    second = client.latest()
    check_bands(second, bands)
    still_jumping = jumps(second.usd_per_oz, references, settings.spot_max_jump)
    refused = []
    for metal in still_jumping:
        agreement = abs(second.usd_per_oz[metal] - first.usd_per_oz[metal]) / first.usd_per_oz[metal]
        if agreement > CONFIRM_TOLERANCE:
            refused.append(f"{metal} {still_jumping[metal]}; the second fetch gave "
                           f"{second.usd_per_oz[metal]:.2f} instead of {first.usd_per_oz[metal]:.2f}")
    if refused:
        raise SpotApiError("unconfirmed spot jump: " + "; ".join(refused))
    return second, sorted(still_jumping)


def spot_rows(quote: SpotQuote, slot: str, poller_id: str, source: str = SOURCE_LIVE) -> list[SpotPrice]:
    return [
        SpotPrice(metal=spot_metal(metal), spot=quote.usd_per_oz[metal], source=source, poller_id=poller_id,
                  timestamp=slot, timestamp_floor=slot, scraped_at=iso_z(quote.fetched_at),
                  provider_timestamp=quote.provider_timestamp)
        for metal in METALS
    ]


def run_spot(settings: Settings, store: Store, *, dry_run: bool = False,
             client_factory: Callable[[Settings], MetalPriceClient] = MetalPriceClient,
             now: datetime | None = None) -> SpotResult:
    """Fetch, validate and store this slot's spot prices (one batch with the run row)."""
    started = now or utcnow()
    slot = window_start(started)
    bands = settings.spot_bands
    with JobRun(settings, store, JOB, dry_run=dry_run, started=started, prepare=True) as run:
        result = SpotResult(run_id=run.run_id, slot=slot, status="dry_run", run=run.report)
        with client_factory(settings) as client:
            if slot_is_stored(store, slot):
                result.status = "already_stored"
                result.notes.append(f"slot {slot} already holds all metals; no API call made")
                run.finish(total=0, captured=0, failures=0, note=result.notes[-1])
                return result
            references = reference_prices(store, slot, bands)
            try:
                # nothing is stored before both answers are in: a stop ends the call in flight and
                # starts no confirming call (the runner's grace is shorter than one slow answer)
                with run.stop.interruptible(JOB, "the MetalPriceAPI calls (nothing stored)"):
                    quote, confirmed = fetch_validated(client, references, settings, bands)
            except SpotApiError as exc:
                result.api_calls = client.calls
                reason = f"spot: {exc}; nothing stored for slot {slot}"
                run.finish(total=len(METALS), captured=0, failures=len(METALS), error=reason)
                raise JobFailed(reason) from None
            result.api_calls = client.calls
        result.prices = dict(quote.usd_per_oz)
        result.provider_timestamp = quote.provider_timestamp
        result.scraped_at = iso_z(quote.fetched_at)
        result.confirmed = confirmed
        written = run.finish([] if dry_run else spot_rows(quote, slot, settings.poller_id),
                             total=len(METALS), captured=len(METALS), failures=0)
        if dry_run:
            return result
        result.stored_rows = written.data_stored_rows
        result.queued_rows = written.data_queued_rows
        result.status = "queued" if written.queued else "stored"
        if written.queued:
            result.notes.append(f"database unreachable; rows kept in the outbox ({written.error})")
        return result
