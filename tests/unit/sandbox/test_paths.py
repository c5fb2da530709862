"""scoped_join resolves symlinks with the rootfs as `/`, so nothing ever points outside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybuildkit.errors import SandboxError
from pybuildkit.sandbox.paths import read_scoped, scoped_join


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "etc" / "abs").symlink_to("/usr/lib")
    (root / "etc" / "up").symlink_to("../../../../../../etc")
    (root / "etc" / "rel").symlink_to("../usr")
    (root / "loop1").symlink_to("loop2")
    (root / "loop2").symlink_to("loop1")
    (root / "etc" / "file").write_text("content")
    return root


@pytest.mark.parametrize(
    ("unsafe", "inside"),
    [
        ("/etc/file", "etc/file"),
        ("etc/file", "etc/file"),
        ("/../../etc/file", "etc/file"),
        ("/etc/abs/x", "usr/lib/x"),
        ("/etc/up/file", "etc/file"),
        ("/etc/rel/lib", "usr/lib"),
        ("/missing/a/../b", "missing/b"),
        ("/", ""),
    ],
)
def test_scoped_join_stays_inside(root: Path, unsafe: str, inside: str) -> None:
    assert scoped_join(root, unsafe) == (root / inside if inside else root)


def test_symlink_loops_are_an_error(root: Path) -> None:
    with pytest.raises(SandboxError, match="too many levels"):
        scoped_join(root, "/loop1/x")


def test_read_scoped(root: Path) -> None:
    assert read_scoped(root, "/etc/up/file") == b"content"
    assert read_scoped(root, "/etc/none") is None


def test_read_scoped_limit(root: Path) -> None:
    with pytest.raises(SandboxError, match="larger than"):
        read_scoped(root, "/etc/file", limit=3)
