"""Benchmark: one scrape cycle against 9 local vendor hosts x 23 targets (prints figures; not a test).

Each page answers after 300 ms of injected latency; each vendor's gap is 1 s. A polite cycle
cannot beat the slowest vendor's queue, so the goal is a wall time near that politeness floor
(ratio <= 1.25), far below the same cycle run one request at a time (>= 4x faster), with a
constant number of database round trips for the writes.

    .venv/bin/python bench/scrape_cycle.py [--vendors 9] [--targets 23] [--latency 0.3] [--gap 1]
                                          [--skip-sequential] [--db URL]

With --vision: the cycle once without the vision cross-check and once with it on for every
target against a fake Gemini answering after --vision-latency (1.5 s), for browser vendors and
for http vendors; goal: cycle time with vision <= 1.5x the cycle without (the old system: 4.25x).

    .venv/bin/python bench/scrape_cycle.py --vision [--vendors 9] [--targets 23] [--vision-latency 1.5]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from staktrakr.catalog import Coin, Target  # noqa: E402
from staktrakr.jobs.scrape import ScrapeOptions, run_scrape  # noqa: E402
from staktrakr.settings import load_settings  # noqa: E402
from staktrakr.store import Store  # noqa: E402
from tests.fake_gemini import GEMINI_KEY, Answer, FakeGemini  # noqa: E402
from tests.farm import TEST_RULES, Farm, page_text  # noqa: E402

PAGES = ["jsonld_instock.html", "html_table.html", "shopify.html", "spot_ticker.html", "carousel.html",
         "as_low_as.html", "sold_out.html"]


def build(farm: Farm, vendors: int, per_vendor: int, latency_s: float, rules=TEST_RULES) -> list[Target]:
    coins = [Coin(slug=f"bench-coin-{n}", name="American Silver Eagle 1 oz", metal="silver", weight_oz=1,
                  providers=[]) for n in range(per_vendor)]
    targets = []
    for v in range(vendors):
        host = farm.host(f"vendor{v}", latency_s=latency_s)
        for n, coin in enumerate(coins):
            url = host.add(f"/p{n}", page_text(PAGES[(n + v) % len(PAGES)]))
            targets.append(Target(coin=coin, vendor_id=f"vendor{v}", vendor_name=f"Vendor {v}", urls=(url,),
                                  rules=rules))
    return targets


def run_cycle(settings, targets):
    with Store.open(settings) as store:
        store.migrate()
        trips_before = store.db.round_trips
        started = time.monotonic()
        result = run_scrape(settings, store, targets, ScrapeOptions())
        wall = time.monotonic() - started
        cycle_trips = store.db.round_trips - trips_before
    return result, wall, cycle_trips


def vision_bench(args: argparse.Namespace, farm: Farm, base: dict) -> None:
    """The cycle without and then with the vision cross-check on every target: vendors read by the
    browser (the screenshot comes from the same page), then vendors read over http (each page is
    laid out in the browser from the HTML read, which also starts Chromium in a cycle that had none)."""
    with FakeGemini(default=Answer(price=79.10), latency_s=args.vision_latency) as gemini:
        for fetcher in ("browser", "http"):
            rules = TEST_RULES.model_copy(update={"fetchers": [fetcher]})
            targets = build(farm, args.vendors, args.targets, args.latency, rules)
            plain = load_settings(**base, turso_database_url=args.db, poller_id=f"bench-{fetcher}")
            result, wall, _ = run_cycle(plain, targets)
            vision_targets = [t.model_copy(update={"rules": t.rules.model_copy(update={"vision": True})})
                              for t in targets]
            on = load_settings(**base, turso_database_url=args.db, poller_id=f"bench-{fetcher}-vision",
                               gemini_api_key=GEMINI_KEY, gemini_base_url=gemini.base_url,
                               vision_max_per_cycle=len(targets))
            vision_result, vision_wall, _ = run_cycle(on, vision_targets)
            stats = vision_result.vision
            print(f"{fetcher} vendors: {len(targets)} targets ({args.vendors} x {args.targets}), "
                  f"captured {result.captured}")
            print(f"  cycle without vision:  {wall:.2f} s")
            print(f"  cycle with vision:     {vision_wall:.2f} s  (fake Gemini {args.vision_latency:g} s per answer; "
                  f"{stats.calls if stats else 0} calls, {stats.failed if stats else 0} failed, "
                  f"{stats.agreed if stats else 0} agreed, {stats.disagreed if stats else 0} disagreed)")
            print(f"  ratio with / without:  {vision_wall / wall:.3f}  (goal <= 1.5; the old system: 4.25)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendors", type=int, default=9)
    parser.add_argument("--targets", type=int, default=23, help="targets per vendor")
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--gap", type=float, default=1.0)
    parser.add_argument("--skip-sequential", action="store_true")
    parser.add_argument("--db", help="database URL (default: a temp embedded file)")
    parser.add_argument("--vision", action="store_true", help="time the vision cross-check (browser fetcher)")
    parser.add_argument("--vision-latency", type=float, default=1.5, help="fake Gemini's answer time (s)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="staktrakr-bench-"))
    farm = Farm()
    try:
        base = {"STAKTRAKR_VAR_DIR": tmp / "var", "scrape_gap_min_s": args.gap, "scrape_gap_max_s": args.gap,
                "scrape_backoff_s": 0, "firecrawl_base_url": None, "home_proxy_url": None}
        if args.vision:
            vision_bench(args, farm, base)
            return
        targets = build(farm, args.vendors, args.targets, args.latency)

        settings = load_settings(**base, turso_database_url=args.db, poller_id="bench")
        result, wall, trips = run_cycle(settings, targets)
        floor = args.targets * (args.gap + args.latency)
        max_in_flight = max(host.max_in_flight for host in farm)
        print(f"targets:                 {len(targets)} ({args.vendors} vendors x {args.targets}), "
              f"captured {result.captured}, failed {result.failures}")
        print(f"cycle wall time:         {wall:.2f} s")
        print(f"politeness floor:        {floor:.2f} s  (targets x (gap + latency) of the slowest vendor)")
        print(f"ratio wall / floor:      {wall / floor:.3f}  (goal <= 1.25)")
        print(f"max in flight per host:  {max_in_flight}  (goal 1)")
        print(f"db round trips (write):  {result.write_round_trips}"
              f"  (whole cycle incl. prepare/run row/reads: {trips})")

        small_settings = load_settings(**base, turso_database_url=args.db, poller_id="bench-small")
        small, _, small_trips = run_cycle(small_settings, targets[: args.targets])
        print(f"db round trips, 1 vendor ({small.total} targets): write {small.write_round_trips}, cycle {small_trips}"
              "  (constant: independent of target count)")

        if not args.skip_sequential:
            one_lane = [t.model_copy(update={"vendor_id": "all", "coin": t.coin.model_copy(
                update={"slug": f"{t.coin.slug}-{t.vendor_id}"})}) for t in targets]
            seq_settings = load_settings(**base, turso_database_url=args.db, poller_id="bench-seq")
            _, seq_wall, _ = run_cycle(seq_settings, one_lane)
            print(f"sequential cycle:        {seq_wall:.2f} s  (one request at a time, same gaps)")
            print(f"speed-up vs sequential:  {seq_wall / wall:.2f}x  (goal >= 4x)")
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"peak RSS:                {peak_kb / 1024:.1f} MB")
    finally:
        farm.stop()


if __name__ == "__main__":
    main()
