"""An immutable, hashable mapping, so frozen attrs values can hold labels and annotations.

A plain dict inside a frozen value would still be mutable and would make the value unhashable.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

__all__ = ["FrozenMap", "freeze_map"]

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V]):
    """A read-only mapping that compares like a dict and hashes by its sorted items."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[K, V] | None = None) -> None:
        self._data: dict[K, V] = dict(data or {})
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple(sorted((repr(k), repr(v)) for k, v in self._data.items())))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def to_dict(self) -> dict[K, V]:
        return dict(self._data)


def freeze_map(value: Mapping[Any, Any] | None) -> FrozenMap[Any, Any]:
    """attrs converter: any mapping (or None) to a :class:`FrozenMap`."""
    if isinstance(value, FrozenMap):
        return value
    return FrozenMap(value or {})
