"""Entry, tree and selection digests on real files: what must and must not change a cache key."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from pybuildkit.context.checksum import Checksummer, file_digest
from pybuildkit.context.dockerignore import PatternMatcher
from pybuildkit.context.memo import DigestMemo
from pybuildkit.context.walker import select, walk
from pybuildkit.errors import ContextError, UsageError


def _tree_digest(root: Path, mode: str = "full") -> str:
    return Checksummer(mode).tree_digest(walk(root))  # type: ignore[arg-type]


def _make(root: Path) -> None:
    (root / "d").mkdir(parents=True)
    (root / "d" / "f.txt").write_text("hello")
    (root / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(root / "run.sh", 0o755)
    os.symlink("d/f.txt", root / "link")


def _touch(p: Path) -> None:
    os.utime(p / "d" / "f.txt", ns=(1, 1))


def _content(p: Path) -> None:
    (p / "d" / "f.txt").write_text("hellO")


def _perm(p: Path) -> None:
    os.chmod(p / "d" / "f.txt", 0o600)


def _exec(p: Path) -> None:
    os.chmod(p / "d" / "f.txt", 0o744)


def _dirmode(p: Path) -> None:
    os.chmod(p / "d", 0o700)


def _owner(p: Path) -> None:
    os.chown(p / "d" / "f.txt", 1234, 5678)


def _xattr(p: Path) -> None:
    os.setxattr(p / "d" / "f.txt", "user.note", b"x")


def _retarget(p: Path) -> None:
    os.unlink(p / "link")
    os.symlink("run.sh", p / "link")


def _emptydir(p: Path) -> None:
    (p / "e").mkdir()


def _rename(p: Path) -> None:
    os.rename(p / "d" / "f.txt", p / "d" / "g.txt")


@pytest.mark.parametrize(
    ("change", "full_changes", "git_changes"),
    [
        (_touch, False, False),
        (_content, True, True),
        (_perm, True, False),
        (_exec, True, True),
        (_dirmode, True, False),
        pytest.param(
            _owner,
            True,
            False,
            marks=pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root"),
        ),
        (_xattr, True, False),
        (_retarget, True, True),
        (_emptydir, True, True),
        (_rename, True, True),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_what_changes_a_tree_digest(
    tmp_path: Path, change: Callable[[Path], None], full_changes: bool, git_changes: bool
) -> None:
    _make(tmp_path)
    before = {mode: _tree_digest(tmp_path, mode) for mode in ("full", "git")}
    change(tmp_path)
    after = {mode: _tree_digest(tmp_path, mode) for mode in ("full", "git")}
    assert (before["full"] != after["full"]) is full_changes
    assert (before["git"] != after["git"]) is git_changes


def test_same_tree_same_digest_elsewhere(tmp_path: Path) -> None:
    _make(tmp_path / "a")
    _make(tmp_path / "b")
    assert _tree_digest(tmp_path / "a") == _tree_digest(tmp_path / "b")


def test_umask_does_not_change_git_digest(tmp_path: Path) -> None:
    digests = {}
    for name, umask in (("loose", 0o022), ("tight", 0o077)):
        old = os.umask(umask)
        try:
            root = tmp_path / name
            (root / "sub").mkdir(parents=True)
            (root / "sub" / "a.txt").write_text("a")
            exe = root / "tool"
            exe.write_text("#!/bin/sh\n")
            exe.chmod(0o777 & ~umask)
        finally:
            os.umask(old)
        digests[name] = {mode: _tree_digest(root, mode) for mode in ("full", "git")}
    assert digests["loose"]["git"] == digests["tight"]["git"]
    assert digests["loose"]["full"] != digests["tight"]["full"]


def test_ignored_file_does_not_change_selection_digest(tmp_path: Path) -> None:
    _make(tmp_path)
    (tmp_path / "d" / "debug.log").write_text("1")
    ignore = PatternMatcher.from_patterns(["**/*.log"])

    def digest() -> str:
        return Checksummer().selection_digest(select(tmp_path, ["."], ignore=ignore))

    before = digest()
    (tmp_path / "d" / "debug.log").write_text("2, and longer")
    assert digest() == before
    (tmp_path / "d" / "f.txt").write_text("changed")
    assert digest() != before


def test_symlink_to_outside_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    os.symlink(outside, ctx / "escape")
    checksummer = Checksummer()
    before = checksummer.tree_digest(walk(ctx))
    outside.write_text("other secret")
    assert Checksummer().tree_digest(walk(ctx)) == before
    assert checksummer.reads == 0


def test_selection_order_and_sources_matter(tmp_path: Path) -> None:
    _make(tmp_path)
    cs = Checksummer()
    forward = cs.selection_digest(select(tmp_path, ["run.sh", "d"]))
    backward = cs.selection_digest(select(tmp_path, ["d", "run.sh"]))
    assert forward != backward


def test_file_digest_matches_walk_entry(tmp_path: Path) -> None:
    _make(tmp_path)
    [entry] = [e for e in walk(tmp_path) if e.path == "run.sh"]
    assert file_digest(tmp_path / "run.sh") == Checksummer().entry_digest(entry)
    assert file_digest(tmp_path / "run.sh", "git") != file_digest(tmp_path / "run.sh")


def test_unknown_mode_rejected() -> None:
    with pytest.raises(UsageError, match="unknown checksum mode"):
        Checksummer("sloppy")  # type: ignore[arg-type]


def test_other_file_kinds(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    [entry] = walk(tmp_path)
    assert entry.kind == "other"
    assert Checksummer().entry_digest(entry).startswith("sha256:")


def test_in_memory_memo_reuses_within_one_build(tmp_path: Path) -> None:
    _make(tmp_path)
    memo = DigestMemo(racy_margin_ns=0)
    first = Checksummer("full", memo)
    first.tree_digest(walk(tmp_path))
    second = Checksummer("full", memo)
    second.tree_digest(walk(tmp_path))
    assert (first.reads, second.reads) == (2, 0)


def test_file_swapped_for_fifo_is_an_error_not_a_hang(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    [entry] = walk(tmp_path)
    os.unlink(tmp_path / "f")
    os.mkfifo(tmp_path / "f")
    with pytest.raises(ContextError, match="changed while"):
        Checksummer().entry_digest(entry)


def test_undecodable_names_have_digests(tmp_path: Path) -> None:
    open(os.path.join(os.fsencode(tmp_path), b"caf\xe9"), "w").close()
    assert Checksummer().tree_digest(walk(tmp_path)).startswith("sha256:")
