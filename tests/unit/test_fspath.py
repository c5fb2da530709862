"""fspath.resolve_in_root: links followed with the root as `/`, never leaving it (context and sandbox share it)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from pybuildkit.fspath import resolve_in_root


# A hostile rootfs as data: name -> None (directory), "->target" (symlink) or file content.
TREE = {
    "etc": None,
    "usr/lib": None,
    "etc/file": "content",
    "etc/abs": "->/usr/lib",
    "etc/up": "->../../../../../../etc",
    "etc/rel": "->../usr",
    "dots": "->./etc/.",
    "loop1": "->loop2",
    "loop2": "->loop1",
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for name, what in TREE.items():
        path = tmp_path / name
        if what is None:
            path.mkdir(parents=True)
        elif what.startswith("->"):
            path.symlink_to(what[2:])
        else:
            path.write_text(what)
    return tmp_path


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
