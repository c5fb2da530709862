"""Each context entry is stat'ed into a slim value and digested once per COPY, with the same
digests as before (the golden tests pin the values; these pin the once)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pybuildkit.context import Checksummer, DigestMemo, select
from pybuildkit.context.walker import EntryStat, entry_for


def _tree(root: Path) -> None:
    (root / "d").mkdir()
    (root / "d" / "a.txt").write_text("a\n")
    (root / "d" / "b.txt").write_text("b\n")
    (root / "top.txt").write_text("top\n")
    os.symlink("top.txt", root / "link")


@pytest.mark.parametrize("mode", ["full", "git"])
def test_selection_digests_agree_with_one_entry_at_a_time(tmp_path: Path, mode: str) -> None:
    _tree(tmp_path)
    selection = select(tmp_path, ["d", "top.txt", "link"])
    summer = Checksummer(mode, DigestMemo())  # type: ignore[arg-type]
    digest, per_source = summer.selection_digests(selection)
    files = sum(1 for s in selection for e in s.entries if e.kind == "file")  # link is followed
    assert summer.reads == files  # fresh files are racy, so never memoised: one read per entry
    fresh = Checksummer(mode, DigestMemo())  # type: ignore[arg-type]
    assert digest == fresh.selection_digest(selection)
    assert per_source == tuple(tuple(fresh.entry_digest(e) for e in s.entries) for s in selection)


def test_entries_keep_a_slim_stat_with_the_stat_result_names(tmp_path: Path) -> None:
    _tree(tmp_path)
    st = os.lstat(tmp_path / "top.txt")
    entry = entry_for("top.txt", os.fspath(tmp_path / "top.txt"), st)
    assert isinstance(entry.stat, EntryStat)
    for name in ("st_mode", "st_ino", "st_dev", "st_nlink", "st_uid", "st_gid", "st_size", "st_rdev", "st_mtime_ns", "st_ctime_ns"):
        assert getattr(entry.stat, name) == getattr(st, name)
    assert EntryStat.of(entry.stat) is entry.stat
