"""Golden digests: content digests feed cache keys, which are an API once shipped. If one of
these changes on purpose, bump CHECKSUM_VERSION (and the cache key version) in the same commit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pybuildkit.context.checksum import CHECKSUM_VERSION, Checksummer
from pybuildkit.context.walker import select, walk

_GOLDEN = {
    "git": (
        "sha256:932feefacbbe952f3dd6508e0f89c9379a93938410939316178330663f61506e",
        "sha256:cb7ff504c83c66f80e1a1311fc8159cb54c76419c117d0e3c7290b4be278da31",
    ),
    "full": (
        "sha256:ba49c05a61bf0db9a0f118780eeaf3bd55c47fbf5e9a13246858a89045db052f",
        "sha256:0eb10a0cb0a4c786e6cf5db3bb05e721854b24aec5fed9058423f3cc9fe4f8b9",
    ),
}


def _tree(root: Path, owned: bool) -> None:
    (root / "d").mkdir()
    (root / "d" / "f.txt").write_text("hello\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
    os.symlink("d/f.txt", root / "link")
    os.chmod(root / "d", 0o755)
    os.chmod(root / "d" / "f.txt", 0o644)
    os.chmod(root / "run.sh", 0o755)
    if owned:
        for path in (root / "d", root / "d" / "f.txt", root / "run.sh", root / "link"):
            os.lchown(path, 1000, 1000)


@pytest.mark.parametrize("mode", ["git", "full"])
def test_golden_digests(tmp_path: Path, mode: str) -> None:
    if mode == "full" and os.geteuid() != 0:
        pytest.skip("full-mode digests include the owner; pinning it needs root to chown")
    _tree(tmp_path, owned=os.geteuid() == 0)
    checksummer = Checksummer(mode)  # type: ignore[arg-type]
    tree = checksummer.tree_digest(walk(tmp_path))
    selection = checksummer.selection_digest(select(tmp_path, ["d", "run.sh"]))
    assert CHECKSUM_VERSION == 1
    assert (tree, selection) == _GOLDEN[mode]
