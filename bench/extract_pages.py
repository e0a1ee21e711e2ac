"""Extraction speed: every fixture page in tests/pages and a generated 5 MB page.

Prints milliseconds per page (median of several runs). Not a test: figures for the closing note.
Run: .venv/bin/python bench/extract_pages.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from staktrakr.catalog import load_catalog  # noqa: E402
from staktrakr.extract import PageContent, extract_offer  # noqa: E402

PAGES = REPO / "tests" / "pages"
RUNS = 7


def timed(page: PageContent, slug: str, vendor: str, catalog) -> tuple[float, object]:
    coin = catalog.coins[slug]
    spot = 80.59 if coin.metal == "silver" else 5019.50
    samples, finding = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        finding = extract_offer(page, coin, catalog.rules_for(vendor), spot)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), finding


def main() -> None:
    catalog = load_catalog(REPO / "providers.json")
    slugs = {"age": "age", "ase": "ase", "maple": "maple-silver", "goldback": "goldback-utah-g1"}
    print(f"{'page':40} {'KB':>7} {'ms':>8}  result")
    for path in sorted(PAGES.glob("*.*")):
        if path.suffix not in (".html", ".md") or path.name == "README.md":
            continue
        vendor = path.stem.split("_")[0]
        slug = next(value for key, value in slugs.items() if key in path.stem)
        text = path.read_text(encoding="utf-8")
        content = {"markdown": text} if path.suffix == ".md" else {"html": text}
        page = PageContent(url="https://bench.test/", **content)
        ms, finding = timed(page, slug, vendor, catalog)
        print(f"{path.name:40} {len(text) / 1024:7.1f} {ms:8.2f}  {finding.price or finding.failure}")
    base = (PAGES / "jmbullion_age.html").read_text(encoding="utf-8")
    menu = "".join(f"<li><a href='/p/{i}'>1/{i % 20 + 2} oz Coin from ${i % 900 + 100}.99</a></li>"
                   for i in range(40_000))
    big = base.replace('<div class="top-bar">', f"<nav><ul>{menu}</ul></nav><div class='top-bar'>")
    big = big.replace("</body>", "<script>var s='" + "x" * (5 * 1024 * 1024 - len(big)) + "';</script></body>")
    ms, finding = timed(PageContent(url="https://bench.test/", html=big), "age", "jmbullion", catalog)
    print(f"{'generated 5 MB jmbullion page':40} {len(big) / 1024:7.1f} {ms:8.2f}  {finding.price or finding.failure}")


if __name__ == "__main__":
    main()
