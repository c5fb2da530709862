"""fspath.resolve_in_root: links followed with the root as `/`, never leaving it (context and sandbox share it)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from pybuildkit.fspath import resolve_in_root


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "etc" / "abs").symlink_to("/usr/lib")
    (root / "etc" / "up").symlink_to("../../../../../../etc")
    (root / "etc" / "rel").symlink_to("../usr")
    (root / "dots").symlink_to("./etc/.")
    (root / "loop1").symlink_to("loop2")
    (root / "loop2").symlink_to("loop1")
    (root / "etc" / "file").write_text("content")
    return root


@pytest.mark.parametrize(
    ("path", "inside"),
    [
        ("/etc/file", "etc/file"),
        ("etc/file", "etc/file"),
        ("./etc//file", "etc/file"),
        ("/../../etc/file", "etc/file"),
        ("/etc/abs/x", "usr/lib/x"),
        ("/etc/up/file", "etc/file"),
        ("/etc/rel/lib", "usr/lib"),
        ("dots/file", "etc/file"),
        ("/missing/a/../b", "missing/b"),
        ("/etc/file/below", "etc/file/below"),
        ("/", ""),
        ("", ""),
    ],
)
def test_stays_inside(root: Path, path: str, inside: str) -> None:
    assert resolve_in_root(root, path) == (str(root / inside) if inside else str(root))


def test_link_loop_is_eloop(root: Path) -> None:
    with pytest.raises(OSError) as info:
        resolve_in_root(str(root), "/loop1/x")
    assert info.value.errno == errno.ELOOP
