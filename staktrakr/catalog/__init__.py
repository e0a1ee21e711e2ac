"""The catalog of coins x vendors: the validated model (model.py) and the one loader (load.py)."""

from staktrakr.catalog.model import (
    Catalog,
    Coin,
    FeedPage,
    FetcherName,
    Metal,
    Target,
    VendorListing,
    VendorRules,
    load_catalog,
    parse_catalog,
)

__all__ = [
    "Catalog", "Coin", "FeedPage", "FetcherName", "Metal", "Target", "VendorListing", "VendorRules", "load_catalog",
    "parse_catalog",
]
