"""The catalog of coins x vendors (providers.json) as validated pydantic models.

The file keeps the existing shape (`coins` -> providers with url/urls) and adds a `vendors`
section: per-vendor behaviour as data (fetcher order, render wait, regions to cut, preorder
tolerance, price-table reading rules) overlaid on `vendors.default`, and a `feeds` section: the
pages behind feeds other than retail prices (goldback.com's exchange rate), each a URL plus the
same fetch rules, fetched through the same walk as a dealer page. A broken file fails with the
file, the JSON path and the reason, never a traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from staktrakr.errors import ConfigError
from staktrakr.fetch.registry import FetcherName as FetcherName

Metal = Literal["silver", "gold", "platinum", "palladium", "goldback"]
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class VendorRules(BaseModel):
    """How to fetch and read one vendor's pages. Defaults come from `vendors.default`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    fetchers: list[FetcherName] = Field(default_factory=lambda: ["http", "browser"], min_length=1)
    wait_ms: int = Field(default=0, ge=0, le=60_000)
    wait_selector: str | None = None
    timeout_s: float | None = Field(default=None, gt=0, le=300)
    proxy: Literal["never", "fallback", "always"] = "fallback"
    preorder_ok: bool = False
    cut_after: list[str] = Field(default_factory=list)
    cut_selectors: list[str] = Field(default_factory=list)
    cut_patterns: list[str] = Field(default_factory=list)
    price_columns: list[str] = Field(default_factory=lambda: ["check", "wire", "ach", "cash", "bitcoin"])
    avoid_columns: list[str] = Field(
        default_factory=lambda: ["card", "credit", "paypal", "visa", "mastercard", "amex", "discover", "debit"])
    bulk_labels: list[str] = Field(default_factory=lambda: ["as low as"])
    vision: bool = False  # cross-check the price with a screenshot read by Gemini (needs GEMINI_API_KEY)

    @field_validator("fetchers")
    @classmethod
    def _no_repeated_fetcher(cls, fetchers: list[str]) -> list[str]:
        if len(set(fetchers)) != len(fetchers):
            raise ValueError(f"fetcher listed twice in {fetchers}")
        return fetchers

    @field_validator("cut_selectors")
    @classmethod
    def _selectors_parse(cls, selectors: list[str]) -> list[str]:
        from cssselect import GenericTranslator, SelectorError

        for selector in selectors:
            try:
                GenericTranslator().css_to_xpath(selector)
            except SelectorError as exc:
                raise ValueError(f"bad CSS selector {selector!r}: {exc}") from None
        return selectors

    @field_validator("cut_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
        return patterns


def _https(url: str) -> str:
    """An https:// URL as it is fetched and published (retail/providers.json shows it): ASCII only
    (a non-ASCII host goes in its IDNA `xn--` form and a path percent-encoded, RFC 3986 s. 2.1 and
    RFC 5890, so what is fetched is what the file says), no spaces or control characters, a host
    with a dot, a valid port, and no user:password@ credentials (they would be published)."""
    if not re.match(r"^https://[^\s/]+\.[^\s/]+", url):
        raise ValueError(f"must be an https:// URL (got {url!r})")
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        raise ValueError(f"must not contain spaces or control characters (got {url!r}); percent-encode them (%20)")
    if not url.isascii():
        raise ValueError(f"must be ASCII (got {url!r}): write the host in its IDNA form (xn--...) and "
                         "percent-encode the path")
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise ValueError("must not hold user:password@ credentials (the catalog is published); "
                         f"got a URL for host {parts.netloc.rpartition('@')[2]!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ValueError(f"has a bad port (got {url!r})") from None
    return url


HttpsUrl = Annotated[str, Field(min_length=9)]


class VendorListing(BaseModel):
    """One vendor's product page(s) for one coin, as the existing file holds it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    enabled: bool = True
    url: HttpsUrl | None = None
    urls: list[HttpsUrl] | None = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not SLUG_PATTERN.match(value):
            raise ValueError(f"vendor id must be lowercase letters, digits and '-' (got {value!r})")
        return value

    @field_validator("url")
    @classmethod
    def _url_https(cls, value: str | None) -> str | None:
        return None if value is None else _https(value)

    @field_validator("urls")
    @classmethod
    def _urls_https(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [_https(url) for url in value]

    @model_validator(mode="after")
    def _enabled_needs_url(self) -> VendorListing:
        if self.enabled and not self.all_urls:
            raise ValueError(f"vendor {self.id!r} is enabled but has no url")
        return self

    @property
    def all_urls(self) -> list[str]:
        urls = [self.url] if self.url else []
        return urls + [url for url in (self.urls or []) if url not in urls]


class Coin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str
    name: str = Field(min_length=1)
    metal: Metal
    weight_oz: float = Field(gt=0, le=1000)
    providers: list[VendorListing]

    @field_validator("providers")
    @classmethod
    def _unique_vendors(cls, providers: list[VendorListing]) -> list[VendorListing]:
        seen: set[str] = set()
        for listing in providers:
            if listing.id in seen:
                raise ValueError(f"duplicate vendor {listing.id!r}")
            seen.add(listing.id)
        return providers


class Target(BaseModel):
    """One (coin, vendor) pair to scrape, with the vendor's rules resolved."""

    model_config = ConfigDict(frozen=True)

    coin: Coin
    vendor_id: str
    vendor_name: str
    urls: tuple[str, ...]
    rules: VendorRules

    @property
    def key(self) -> tuple[str, str]:
        return (self.coin.slug, self.vendor_id)


class FeedPage(BaseModel):
    """The page behind a feed other than retail prices (`feeds.goldback`: goldback.com's exchange
    rate): its https URL and how to fetch it (`rules`: a vendor entry's fields over `vendors.default`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    url: str
    rules: VendorRules

    @field_validator("url")
    @classmethod
    def _url_https(cls, value: str) -> str:
        return _https(value)


class Catalog(BaseModel):
    coins: dict[str, Coin]
    vendors: dict[str, VendorRules]
    feeds: dict[str, FeedPage] = Field(default_factory=dict)
    source: str = "providers.json"

    def feed_page(self, feed_id: str) -> FeedPage:
        """The `feeds.<feed_id>` entry; a ConfigError naming the catalog when it has none."""
        page = self.feeds.get(feed_id)
        if page is None:
            raise ConfigError(f"{self.source}: feeds.{feed_id}: not in the catalog (add its url and fetchers)")
        return page

    def rules_for(self, vendor_id: str) -> VendorRules:
        return self.vendors.get(vendor_id) or self.vendors["default"]

    def targets(self, coins: list[str] | None = None, vendors: list[str] | None = None) -> list[Target]:
        """Enabled (coin, vendor) pairs, optionally filtered; unknown filter values are a ConfigError."""
        known_vendors = {listing.id for coin in self.coins.values() for listing in coin.providers}
        for slug in coins or []:
            if slug not in self.coins:
                raise ConfigError(f"--coin {slug}: not in the catalog ({self.source})")
        for vendor_id in vendors or []:
            if vendor_id not in known_vendors:
                raise ConfigError(f"--vendor {vendor_id}: not in the catalog ({self.source})")
        chosen = []
        for slug, coin in sorted(self.coins.items()):
            if coins and slug not in coins:
                continue
            for listing in coin.providers:
                if not listing.enabled or (vendors and listing.id not in vendors):
                    continue
                rules = self.rules_for(listing.id)
                chosen.append(
                    Target(
                        coin=coin,
                        vendor_id=listing.id,
                        vendor_name=rules.name or listing.name,
                        urls=tuple(listing.all_urls),
                        rules=rules,
                    )
                )
        return chosen

    def target(self, slug: str, vendor_id: str) -> Target:
        """The (coin, vendor) pair, enabled or not (diagnose looks at disabled ones too); ConfigError when
        the catalog has no such coin or the coin no such vendor."""
        coin = self.coins.get(slug)
        if coin is None:
            raise ConfigError(f"--coin {slug}: not in the catalog ({self.source})")
        listing = next((entry for entry in coin.providers if entry.id == vendor_id), None)
        if listing is None:
            raise ConfigError(f"--vendor {vendor_id}: coin {slug} has no such vendor in the catalog ({self.source})")
        rules = self.rules_for(vendor_id)
        return Target(coin=coin, vendor_id=vendor_id, vendor_name=rules.name or listing.name,
                      urls=tuple(listing.all_urls), rules=rules)

    def to_json_data(self) -> dict[str, Any]:
        """The file form (coins in the existing shape plus the vendors and feeds sections)."""
        coins = {}
        for slug, coin in sorted(self.coins.items()):
            coins[slug] = {
                "name": coin.name,
                "metal": coin.metal,
                "weight_oz": coin.weight_oz,
                "providers": [listing.model_dump(exclude_none=True) for listing in coin.providers],
            }
        vendors: dict[str, Any] = {"default": self.vendors["default"].model_dump(exclude_none=True)}
        for vendor_id in sorted(self.vendors):
            if vendor_id != "default":
                vendors[vendor_id] = self.vendor_overrides(vendor_id)
        data: dict[str, Any] = {"coins": coins, "vendors": vendors}
        if self.feeds:
            data["feeds"] = {feed_id: {"url": page.url, **self.rules_overrides(page.rules)}
                             for feed_id, page in sorted(self.feeds.items())}
        return data

    def vendor_overrides(self, vendor_id: str) -> dict[str, Any]:
        """A vendor's rules that differ from `vendors.default` (what the file's vendor entry holds)."""
        rules = self.vendors.get(vendor_id)
        return {} if rules is None else self.rules_overrides(rules)

    def rules_overrides(self, rules: VendorRules) -> dict[str, Any]:
        """The fields of `rules` that differ from `vendors.default`."""
        default = self.vendors["default"].model_dump()
        return {key: value for key, value in rules.model_dump().items() if value != default.get(key)}


def _json_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "(top level)"


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def parse_catalog(data: Any, source: str = "providers.json") -> Catalog:
    """Validate catalog data (the parsed file); errors name the source, the JSON path and the reason."""
    if not isinstance(data, dict) or not isinstance(data.get("coins"), dict):
        raise ConfigError(f"{source}: coins: expected an object of coins keyed by slug")
    unknown = set(data) - {"coins", "vendors", "feeds", "_comment"}
    if unknown:
        raise ConfigError(f"{source}: {sorted(unknown)[0]}: unknown top-level key (expected coins, vendors, feeds)")
    coins: dict[str, Coin] = {}
    for slug, raw_coin in data["coins"].items():
        if not SLUG_PATTERN.match(slug):
            raise ConfigError(f"{source}: coins.{slug}: slug must be lowercase letters, digits and '-'")
        if not isinstance(raw_coin, dict):
            raise ConfigError(f"{source}: coins.{slug}: expected an object")
        try:
            coins[slug] = Coin.model_validate({**raw_coin, "slug": slug})
        except ValidationError as exc:
            raise ConfigError(_validation_line(source, ("coins", slug), exc)) from None
    if not coins:
        raise ConfigError(f"{source}: coins: the catalog holds no coins")

    raw_vendors = data.get("vendors", {})
    if not isinstance(raw_vendors, dict):
        raise ConfigError(f"{source}: vendors: expected an object keyed by vendor id")
    raw_default = raw_vendors.get("default", {})
    if not isinstance(raw_default, dict):
        raise ConfigError(f"{source}: vendors.default: expected an object")
    vendors: dict[str, VendorRules] = {}
    for vendor_id, raw_rules in {"default": raw_default, **raw_vendors}.items():
        if not isinstance(raw_rules, dict):
            raise ConfigError(f"{source}: vendors.{vendor_id}: expected an object")
        merged = raw_rules if vendor_id == "default" else {**raw_default, **raw_rules}
        try:
            vendors[vendor_id] = VendorRules.model_validate(merged)
        except ValidationError as exc:
            raise ConfigError(_validation_line(source, ("vendors", vendor_id), exc)) from None
    feeds = _parse_feeds(data.get("feeds", {}), raw_default, source)
    return Catalog(coins=coins, vendors=vendors, feeds=feeds, source=source)


def _parse_feeds(raw_feeds: Any, raw_default: dict[str, Any], source: str) -> dict[str, FeedPage]:
    """`feeds.<id>`: a url plus vendor-rule fields, those overlaid on `vendors.default` like a vendor's."""
    if not isinstance(raw_feeds, dict):
        raise ConfigError(f"{source}: feeds: expected an object keyed by feed id")
    feeds: dict[str, FeedPage] = {}
    for feed_id, raw_feed in raw_feeds.items():
        if not SLUG_PATTERN.match(feed_id):
            raise ConfigError(f"{source}: feeds.{feed_id}: feed id must be lowercase letters, digits and '-'")
        if not isinstance(raw_feed, dict):
            raise ConfigError(f"{source}: feeds.{feed_id}: expected an object")
        fetch_fields = {key: value for key, value in raw_feed.items() if key != "url"}
        try:
            rules = VendorRules.model_validate({**raw_default, **fetch_fields})
            given_url = {key: value for key, value in raw_feed.items() if key == "url"}
            feeds[feed_id] = FeedPage.model_validate({"id": feed_id, "rules": rules, **given_url})
        except ValidationError as exc:
            raise ConfigError(_validation_line(source, ("feeds", feed_id), exc)) from None
    return feeds


def _validation_line(source: str, prefix: tuple[Any, ...], exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = prefix + tuple(first.get("loc", ()))
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    if first.get("type") == "literal_error" and loc[-1] == "metal":
        message = f"unknown metal {first.get('input')!r} (expected silver, gold, platinum, palladium or goldback)"
    elif first.get("type") == "extra_forbidden":
        message = "unknown key"
    return f"{source}: {_json_path(loc)}: {message}"


def load_catalog(path: Path) -> Catalog:
    """Read and validate providers.json; every problem is one ConfigError line."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{name}: file not found (set PROVIDERS_FILE)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: cannot read: {exc}") from None
    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name}: line {exc.lineno} column {exc.colno}: invalid JSON ({exc.msg})") from None
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{name}: JSON nested too deeply to be a catalog (coins -> slug -> providers)") from None
    try:
        return parse_catalog(data, name)
    except RecursionError:
        raise ConfigError(f"{name}: a value is nested too deeply to be a catalog entry") from None
