"""Canonical JSON bytes: the one serialisation every digest in pybuildkit is taken over.

Sorted keys, no insignificant whitespace, UTF-8 without escaping non-ASCII: two equal values always
give the same bytes, hence the same digest, whatever order a dict was built in.
"""

from __future__ import annotations

import json
from typing import Any

from pybuildkit.errors import ImageError

__all__ = ["canonical_json", "loads_json_object"]


def canonical_json(value: Any) -> bytes:
    """Serialise `value` (JSON types only) canonically."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def loads_json_object(data: bytes | str, *, what: str) -> dict[str, Any]:
    """Parse a JSON object from untrusted bytes, turning every failure into :class:`ImageError`."""
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ImageError(f"{what} must be a JSON object, not {type(value).__name__}")
    return value
