"""Catalog edits as commands: enable/disable a target, set or add a URL, set a vendor rule.

An edit replaces ONE JSON value of the catalog's file form (a coin's provider listing, or a
vendor's entry in `vendors`), and the whole result is validated by `parse_catalog` exactly like
the file before anything is written. `splice` writes the edit into the file's own text: only the
replaced value is re-serialised (with the file's indent), every other byte of the file stays as
it was, so a hand-formatted providers.json keeps its formatting and a review diff shows one entry.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from dataclasses import dataclass
from typing import Any, get_origin

from staktrakr.catalog.model import VendorRules, parse_catalog
from staktrakr.errors import ConfigError

PathPart = str | int


@dataclass(frozen=True)
class Edit:
    """The one value an edit writes: its JSON path in the file form, the new value, and one line saying what changed."""

    path: tuple[PathPart, ...]
    value: Any
    summary: str
    unchanged: str = ""  # what to say when the catalog already holds the value ("ase / apmex already enabled")


def _listing(data: dict[str, Any], slug: str, vendor_id: str) -> tuple[int, dict[str, Any]]:
    coin = data.get("coins", {}).get(slug)
    if not isinstance(coin, dict):
        raise ConfigError(f"coin {slug}: not in the catalog")
    for index, listing in enumerate(coin.get("providers", [])):
        if isinstance(listing, dict) and listing.get("id") == vendor_id:
            return index, listing
    raise ConfigError(f"vendor {vendor_id}: coin {slug} has no such vendor in the catalog (add it to the file first)")


def set_enabled(data: dict[str, Any], slug: str, vendor_id: str, enabled: bool) -> Edit:
    """Enable or disable the (coin, vendor) target."""
    index, listing = _listing(data, slug, vendor_id)
    state = "enabled" if enabled else "disabled"
    return Edit(("coins", slug, "providers", index), {**listing, "enabled": enabled}, f"{slug} / {vendor_id}: {state}",
                f"{slug} / {vendor_id} already {state}")


def _with_urls(listing: dict[str, Any], urls: list[str]) -> dict[str, Any]:
    """The listing with its URLs replaced, in the shape it already had (`url` + `urls`, or `urls` only)."""
    updated = {key: value for key, value in listing.items() if key not in ("url", "urls")}
    if "url" in listing or "urls" not in listing:
        updated["url"] = urls[0]
        if len(urls) > 1 or "urls" in listing:
            updated["urls"] = urls[1:]
    else:
        updated["urls"] = urls
    # keep the key order of the original listing: url/urls where they were, new keys last
    ordered = {key: updated[key] for key in listing if key in updated}
    return {**ordered, **updated}


def _urls_of(listing: dict[str, Any]) -> list[str]:
    urls = [listing["url"]] if listing.get("url") else []
    return urls + [url for url in listing.get("urls") or [] if url not in urls]


def set_url(data: dict[str, Any], slug: str, vendor_id: str, url: str, index: int = 0) -> Edit:
    """Replace the target's URL number `index` (0: the first, the one `url` holds)."""
    position, listing = _listing(data, slug, vendor_id)
    urls = _urls_of(listing)
    if index < 0 or index > len(urls) or (index == len(urls) and urls):
        raise ConfigError(f"--index {index}: {slug} / {vendor_id} has {len(urls)} URL(s) (0-{max(len(urls) - 1, 0)}); "
                          "use add-url for another")
    urls = [*urls[:index], url, *urls[index + 1:]]
    return Edit(("coins", slug, "providers", position), _with_urls(listing, urls),
                f"{slug} / {vendor_id}: URL {index} is {url}", f"{slug} / {vendor_id}: URL {index} already is {url}")


def add_url(data: dict[str, Any], slug: str, vendor_id: str, url: str) -> Edit:
    """Add a URL after the target's others (the walk tries it when the earlier ones give no price)."""
    position, listing = _listing(data, slug, vendor_id)
    urls = _urls_of(listing)
    if url in urls:
        raise ConfigError(f"{url}: already a URL of {slug} / {vendor_id}")
    return Edit(("coins", slug, "providers", position), _with_urls(listing, [*urls, url]),
                f"{slug} / {vendor_id}: added URL {url}")


def set_rule(data: dict[str, Any], vendor_id: str, field: str, value: str, append: bool = False) -> Edit:
    """Set one field of `vendors.<vendor_id>` (VendorRules): a list field takes comma-separated
    values, or one more value with `append`; other fields a JSON literal (6000, true) or a word."""
    known_vendors = {listing.get("id") for coin in data.get("coins", {}).values() if isinstance(coin, dict)
                     for listing in coin.get("providers", []) if isinstance(listing, dict)}
    vendors = data.get("vendors", {})
    if vendor_id != "default" and vendor_id not in known_vendors and vendor_id not in vendors:
        raise ConfigError(f"vendor {vendor_id}: not in the catalog")
    fields = VendorRules.model_fields
    if field not in fields:
        raise ConfigError(f"set-rule {field}: not a vendor rule (one of {', '.join(fields)})")
    entry = dict(vendors.get(vendor_id, {}))
    is_list = get_origin(fields[field].annotation) is list or str(fields[field].annotation).startswith("list")
    parsed: Any
    if is_list:
        if append:
            default = {**vendors.get("default", {})} if vendor_id != "default" else {}
            effective = VendorRules.model_validate({**default, **entry}).model_dump()[field]
            parsed = effective if value in effective else [*effective, value]
        else:
            parsed = [part.strip() for part in value.split(",") if part.strip()]
    elif append:
        raise ConfigError(f"set-rule {field}: --append is for list rules only")
    else:
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
    entry[field] = parsed
    return Edit(("vendors", vendor_id), entry, f"vendors.{vendor_id}.{field} = {json.dumps(parsed)}",
                f"vendors.{vendor_id}.{field} already is {json.dumps(parsed)}")


def apply(data: dict[str, Any], edit: Edit, source: str) -> dict[str, Any]:
    """The catalog data with the edit made, validated like the file (ConfigError naming `source`,
    the JSON path and the reason otherwise)."""
    updated = copy.deepcopy(data)
    parent: Any = updated
    for part in edit.path[:-1]:
        parent = parent.setdefault(part, {}) if isinstance(part, str) else parent[part]
    parent[edit.path[-1]] = edit.value
    parse_catalog(updated, source)
    return updated


def splice(text: str, edit: Edit) -> str:
    """`text` (a catalog file) with the edit's value written in place; every other byte kept. The
    value is written in the file's own style: its indent unit (spaces or a tab; none: one line)
    and its newline (CRLF when the file uses it)."""
    unit = _indent_unit(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    span = _value_span(text, edit.path)
    if span is not None:
        start, end = span
        return text[:start] + _dump(edit.value, unit, _line_indent(text, start), newline) + text[end:]
    parent_span = _value_span(text, edit.path[:-1])
    if parent_span is None:
        raise ConfigError(f"catalog file: {'.'.join(map(str, edit.path[:-1]))} is missing")
    start, end = parent_span
    close = end - 1
    last = close - 1
    while text[last].isspace():
        last -= 1
    member_indent = _line_indent(text, close) + unit
    separator = "" if text[last] == "{" else ","
    member = (f"{separator}{newline if unit else ' '}{member_indent}{json.dumps(edit.path[-1])}: "
              f"{_dump(edit.value, unit, member_indent, newline)}")
    return text[:last + 1] + member + text[last + 1:]


def diff(before: str, after: str, name: str) -> str:
    """A unified diff of two catalog texts, as `--dry-run` prints it."""
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=f"{name} (now)", tofile=f"{name} (after)"))


def _dump(value: Any, unit: str, base_indent: str, newline: str) -> str:
    if not unit:
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, indent=unit, ensure_ascii=False).replace("\n", newline + base_indent)


def _indent_unit(text: str) -> str:
    """The file's first indent (a run of spaces, or of tabs): its unit; "" for a one-line file."""
    match = re.search(r"\n( +|\t+)[^\s]", text)
    return match.group(1) if match else ""


def _line_indent(text: str, position: int) -> str:
    line_start = text.rfind("\n", 0, position) + 1
    return re.match(r"[ \t]*", text[line_start:]).group(0)  # type: ignore[union-attr]


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _value_span(text: str, path: tuple[PathPart, ...]) -> tuple[int, int] | None:
    """[start, end) of the JSON value at `path` in `text`; None when the last key is absent."""
    decoder = json.JSONDecoder()
    position = _skip(text, 0)
    for part in path:
        opener = text[position]
        position = _skip(text, position + 1)
        found = False
        index = 0
        while text[position] not in "}]":
            if opener == "{":
                key, position = decoder.raw_decode(text, position)
                position = _skip(text, _skip(text, position) + 1)  # past the ':'
            else:
                key = index
            if key == part:
                found = True
                break
            _, position = decoder.raw_decode(text, position)
            position = _skip(text, position)
            if text[position] == ",":
                position = _skip(text, position + 1)
            index += 1
        if not found:
            return None
    _, end = decoder.raw_decode(text, position)
    return position, end
