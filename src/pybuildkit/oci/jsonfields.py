"""Typed reads of fields from untrusted JSON objects.

Manifests and configs arrive from archives and registries; a wrong type there must become an
:class:`ImageError` naming the field, not a `KeyError` or `AttributeError` deep in an exporter.
"""

from __future__ import annotations

from typing import Any

from pybuildkit.errors import ImageError

__all__ = ["get_str", "get_opt_str", "get_int", "get_bool", "get_str_list", "get_str_map", "get_obj", "get_list"]

_MISSING = object()


def _bad(what: str, key: str, expected: str, value: Any) -> ImageError:
    return ImageError(f"{what}: field {key!r} must be {expected}, not {type(value).__name__}")


def get_str(obj: dict[str, Any], key: str, what: str, default: Any = _MISSING) -> str:
    value = obj.get(key, _MISSING)
    if value is _MISSING or value is None:
        if default is _MISSING:
            raise ImageError(f"{what}: required field {key!r} is missing")
        return default
    if not isinstance(value, str):
        raise _bad(what, key, "a string", value)
    return value


def get_opt_str(obj: dict[str, Any], key: str, what: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(what, key, "a string", value)
    return value


def get_int(obj: dict[str, Any], key: str, what: str, default: Any = _MISSING) -> int:
    value = obj.get(key, _MISSING)
    if value is _MISSING or value is None:
        if default is _MISSING:
            raise ImageError(f"{what}: required field {key!r} is missing")
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(what, key, "an integer", value)
    return value


def get_bool(obj: dict[str, Any], key: str, what: str) -> bool:
    value = obj.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _bad(what, key, "a boolean", value)
    return value


def get_str_list(obj: dict[str, Any], key: str, what: str) -> tuple[str, ...] | None:
    """A list of strings; `None` when absent or null (Docker tells `[]` and null apart for Cmd)."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ImageError(f"{what}: field {key!r} must be a list of strings")
    return tuple(value)


def get_str_map(obj: dict[str, Any], key: str, what: str) -> dict[str, str]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ImageError(f"{what}: field {key!r} must be an object of strings")
    return value


def get_obj(obj: dict[str, Any], key: str, what: str) -> dict[str, Any] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _bad(what, key, "an object", value)
    return value


def get_list(obj: dict[str, Any], key: str, what: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad(what, key, "a list", value)
    return value
