"""tree_digest orders entries by path components; its sort key must agree with that order."""

from __future__ import annotations

import os

import pytest

from pybuildkit.context.checksum import Checksummer
from pybuildkit.context.walker import walk

__all__: list[str] = []

NAMES = ["a.b", "a-b", "a/b", "a/b/c", "a b", "a0", "ab", "a/!", "a/~", "é", "b", "a/.x", "\x01"]


@pytest.mark.parametrize("names", [NAMES, list(reversed(NAMES)), sorted(NAMES)])
def test_tree_order_is_path_component_order(tmp_path, names: list[str]) -> None:
    for name in names:
        path = tmp_path / name
        if any(other.startswith(name + "/") for other in names):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(name)
    entries = list(walk(tmp_path))
    by_components = sorted(entries, key=lambda e: e.path.split("/"))
    by_key = sorted(entries, key=lambda e: e.path.replace("/", "\0"))
    assert [e.path for e in by_key] == [e.path for e in by_components]
    shuffled = list(reversed(entries))
    assert Checksummer().tree_digest(shuffled) == Checksummer().tree_digest(entries)
