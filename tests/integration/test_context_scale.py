"""A generated context of a few thousand files: the second check reads no content at all, and
its digest is the same as the first."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pybuildkit.context.checksum import Checksummer
from pybuildkit.context.dockerignore import PatternMatcher
from pybuildkit.context.memo import DigestMemo
from pybuildkit.context.walker import select

pytestmark = pytest.mark.integration

_FILES = 5000


def _generate(root: Path) -> None:
    for i in range(_FILES):
        directory = root / f"pkg{i // 500}" / f"mod{(i // 50) % 10}"
        if i % 50 == 0:
            directory.mkdir(parents=True)
        (directory / f"f{i}.py").write_bytes(b"#" * (i % 700) + b"\n")
    (root / "build").mkdir()
    for i in range(500):
        (root / "build" / f"artifact{i}.o").write_bytes(b"\0" * 64)


def _check(root: Path, memo_path: Path, ignore: PatternMatcher) -> tuple[str, Checksummer, float]:
    started = time.perf_counter()
    with DigestMemo(memo_path) as memo:
        checksummer = Checksummer("full", memo)
        digest = checksummer.selection_digest(select(root, ["."], ignore=ignore))
    return digest, checksummer, time.perf_counter() - started


def test_unchanged_context_rechecked_without_reading(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    _generate(ctx)
    time.sleep(0.06)  # let every file age past the memo's racy window
    ignore = PatternMatcher.from_patterns(["build"])
    memo = tmp_path / "memo.db"
    cold_digest, cold, cold_s = _check(ctx, memo, ignore)
    warm_digest, warm, warm_s = _check(ctx, memo, ignore)
    assert cold.reads == _FILES
    assert warm.reads == 0
    assert warm_digest == cold_digest
    print(f"{_FILES} files: cold {cold_s:.3f}s, warm {warm_s:.3f}s")
