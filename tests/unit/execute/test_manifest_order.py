"""manifest_digest orders records by path components; its cheaper sort key must agree."""

from __future__ import annotations

import hashlib
import random

import pytest

from pybuildkit.execute.manifest import MANIFEST_VERSION, WrittenEntry, manifest_digest

__all__: list[str] = []

PATHS = ["a", "a.b", "a-b", "a/b", "a/b/c", "a b", "a0", "ab", "a/!", "a/~", "é", "b", "a/.x", "\x01", "a/b.c", "a/b/c/d"]


def _by_components(entries: list[WrittenEntry]) -> str:
    final = {e.path: e for e in entries}
    digest = hashlib.sha256(f"pybuildkit-written-v{MANIFEST_VERSION}\n".encode())
    for path in sorted(final, key=lambda p: p.split("/")):
        digest.update(final[path].line())
    return "sha256:" + digest.hexdigest()


def _entry(path: str) -> WrittenEntry:
    return WrittenEntry(path=path, kind="file", mode=0o644, uid=0, gid=0, size=1, target="", content="sha256:" + "0" * 64)


@pytest.mark.parametrize("seed", range(5))
def test_manifest_digest_orders_like_path_components(seed: int) -> None:
    paths = list(PATHS)
    random.Random(seed).shuffle(paths)
    entries = [_entry(p) for p in paths]
    assert manifest_digest(entries) == _by_components(entries)
