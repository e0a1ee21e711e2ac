"""Benchmark: a full-size cycle with the network down (prints figures; not a test).

The real catalog's targets (166 enabled in providers.json) with every vendor host replaced by
an unresolvable `.invalid` name (DNS fails), each target keeping the catalog's own fetcher list
(http, browser, firecrawl as providers.json says; Firecrawl not configured, as on a poller
without FIRECRAWL_BASE_URL), the production politeness (gaps 2-8 s, 3 attempts, backoff 2 s)
and the per-vendor circuit breaker. Before the breaker the old pipeline took 869 s to report
0/166 (30-38 s of retries per target); the goal is under a minute.

    .venv/bin/python bench/dead_network.py [--breaker 3] [--gap-min 2] [--gap-max 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from staktrakr.catalog import load_catalog  # noqa: E402
from staktrakr.jobs.scrape import ScrapeOptions, run_scrape  # noqa: E402
from staktrakr.settings import load_settings  # noqa: E402
from staktrakr.store import Store  # noqa: E402


def dead_targets():
    """The catalog's targets with their own fetcher lists, hosts made unresolvable."""
    targets = []
    for target in load_catalog(REPO / "providers.json").targets():
        urls = tuple(url.replace(urlsplit(url).netloc, f"{target.vendor_id}.invalid") for url in target.urls)
        targets.append(target.model_copy(update={"urls": urls}))
    return targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--breaker", type=int, default=3, help="SCRAPE_BREAKER_FAILURES")
    parser.add_argument("--gap-min", type=float, default=2.0)
    parser.add_argument("--gap-max", type=float, default=8.0)
    args = parser.parse_args()
    targets = dead_targets()
    var_dir = Path(tempfile.mkdtemp(prefix="staktrakr-dead-")) / "var"
    settings = load_settings(STAKTRAKR_VAR_DIR=var_dir, poller_id="bench", scrape_gap_min_s=args.gap_min,
                             scrape_gap_max_s=args.gap_max, scrape_breaker_failures=args.breaker,
                             firecrawl_base_url=None, home_proxy_url=None)
    with Store.open(settings) as store:
        started = time.monotonic()
        result = run_scrape(settings, store, targets, ScrapeOptions())
        wall = time.monotonic() - started
    kinds = Counter((outcome.reason or "ok").split(":")[0] for outcome in result.outcomes)
    vendors = len({t.vendor_id for t in targets})
    lists = Counter("+".join(t.rules.fetchers) for t in targets)
    print(f"targets:        {len(targets)} ({vendors} vendors), captured {result.captured}/{result.total}")
    print("fetcher lists:  " + ", ".join(f"{name} {n}" for name, n in lists.most_common()))
    print(f"politeness:     gaps {args.gap_min:g}-{args.gap_max:g} s, {settings.scrape_attempts} attempts, "
          f"backoff {settings.scrape_backoff_s:g} s, breaker after {args.breaker} failures")
    print("reasons:        " + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()))
    print(f"cycle wall:     {wall:.1f} s (goal < 60 s; the old pipeline: 869 s)")


if __name__ == "__main__":
    main()
