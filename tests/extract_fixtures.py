"""What the extraction tests share: the coins they read pages for, the real catalog (its vendor
rules), and the realistic dealer pages in tests/pages/ (see its README)."""

from __future__ import annotations

from pathlib import Path

from staktrakr.catalog import Coin, load_catalog
from tests.conftest import REPO

CATALOG = load_catalog(REPO / "providers.json")
PAGES = Path(__file__).resolve().parent / "pages"

ASE = Coin(slug="ase", name="American Silver Eagle 1 oz", metal="silver", weight_oz=1, providers=[])
AGE = Coin(slug="age", name="American Gold Eagle 1 oz", metal="gold", weight_oz=1, providers=[])
