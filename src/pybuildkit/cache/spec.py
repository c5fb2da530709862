"""`--cache-to` / `--cache-from` values, parsed once into a typed spec.

Kept apart from the transfer code so the CLI and the API agree on one spelling, and a typo in an
option is a UsageError before anything is built. BuildKit's spelling is followed where it exists
(`type=local,dest=DIR,mode=max`, `type=registry,ref=HOST/REPO:TAG`, `type=inline`).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from pybuildkit.errors import UsageError

__all__ = ["CACHE_TYPES", "CACHE_MODES", "CacheSpec", "parse_cache_spec"]

CACHE_TYPES = ("local", "registry", "inline")
CACHE_MODES = ("min", "max")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@attrs.frozen
class CacheSpec:
    """One `--cache-to`/`--cache-from`: `type` plus its attributes as given (lower-case names).

    `location` is the directory (local: `dest=` for export, `src=` for import) or the reference
    (registry: `ref=`); `mode` chooses which records an export carries; `cache_mounts` whether the
    content of `RUN --mount=type=cache` directories travels with it; `tag` names the entry in a
    local layout's index, so several caches can share one directory.
    """

    type: str
    attrs: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def location(self) -> str:
        return self.attrs.get("dest") or self.attrs.get("src") or self.attrs.get("ref") or ""

    @property
    def mode(self) -> str:
        return self.attrs.get("mode", "min")

    @property
    def cache_mounts(self) -> bool:
        return self.attrs.get("cache-mounts", "false").lower() in _TRUE

    @property
    def tag(self) -> str:
        return self.attrs.get("tag", "latest")


def parse_cache_spec(text: str, *, export: bool) -> CacheSpec:
    """`type=local,dest=DIR,mode=max` to a CacheSpec; `export` says which side (`--cache-to`)."""
    option = "--cache-to" if export else "--cache-from"
    fields: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep:
            # BuildKit reads a bare `--cache-from REF` as a registry reference.
            if not fields and "=" not in text:
                fields = {"type": "registry", "ref": text.strip()}
                break
            raise UsageError(f"invalid {option} field {part!r}: expected key=value")
        fields[key.strip().lower()] = value.strip()
    kind = fields.pop("type", "local" if ("dest" in fields or "src" in fields) else "")
    if kind not in CACHE_TYPES:
        raise UsageError(f"unknown cache type {kind!r} in {option}", hint=f"use one of: {', '.join(CACHE_TYPES)}")
    spec = CacheSpec(type=kind, attrs=fields)
    if kind == "local":
        needed = "dest" if export else "src"
        if not fields.get(needed):
            raise UsageError(f"{option} type=local needs {needed}=DIR")
    elif kind == "registry" and not fields.get("ref"):
        raise UsageError(f"{option} type=registry needs ref=HOST/REPO[:TAG]")
    if spec.mode not in CACHE_MODES:
        raise UsageError(f"invalid cache mode {spec.mode!r} in {option}", hint="use mode=min or mode=max")
    flag = fields.get("cache-mounts", "false").lower()
    if flag not in _TRUE + _FALSE:
        raise UsageError(f"invalid cache-mounts={flag!r} in {option}", hint="use cache-mounts=true or false")
    if not spec.tag or "/" in spec.tag:
        raise UsageError(f"invalid tag={spec.tag!r} in {option}")
    return spec
