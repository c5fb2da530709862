"""Mount-point stubs: created when missing, removed afterwards with the parent's times restored."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pybuildkit.errors import SandboxError
from pybuildkit.sandbox.mountpoints import MountPoints

OLD = 1_600_000_000_000_000_000


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (root / "bin").write_text("not a dir")
    os.utime(root / "etc", ns=(OLD, OLD))
    os.utime(root, ns=(OLD, OLD))
    return root


def test_existing_targets_are_used_as_is(root: Path) -> None:
    points = MountPoints(root)
    assert points.ensure("/etc/passwd", is_dir=False) == root / "etc" / "passwd"
    assert points.ensure("/etc", is_dir=True) == root / "etc"
    assert points.stubs == []


def test_stubs_are_removed_and_times_restored(root: Path) -> None:
    points = MountPoints(root)
    hosts = points.ensure("/etc/hosts", is_dir=False)
    cache = points.ensure("/root/.cache/pip", is_dir=True)
    assert hosts.is_file() and cache.is_dir()
    points.cleanup()
    assert sorted(os.listdir(root)) == ["bin", "etc"]
    assert os.listdir(root / "etc") == ["passwd"]
    assert os.lstat(root / "etc").st_mtime_ns == OLD
    assert os.lstat(root).st_mtime_ns == OLD


def test_stub_with_content_is_kept(root: Path) -> None:
    points = MountPoints(root)
    points.ensure("/etc/hosts", is_dir=False).write_text("written by the command")
    points.cleanup()
    assert (root / "etc" / "hosts").read_text() == "written by the command"


def test_parent_changed_by_command_keeps_its_new_time(root: Path) -> None:
    points = MountPoints(root)
    points.ensure("/etc/hosts", is_dir=False)
    (root / "etc" / "new").write_text("x")
    os.utime(root / "etc", ns=(OLD + 5, OLD + 5))
    points.cleanup()
    assert os.lstat(root / "etc").st_mtime_ns != OLD


def test_shared_stubs_are_refcounted(root: Path) -> None:
    first, second = MountPoints(root), MountPoints(root)
    first.ensure("/etc/hosts", is_dir=False)
    second.ensure("/etc/hosts", is_dir=False)
    first.cleanup()
    assert (root / "etc" / "hosts").exists()
    second.cleanup()
    assert not (root / "etc" / "hosts").exists()
    assert os.lstat(root / "etc").st_mtime_ns == OLD


def test_symlinked_parent_cannot_escape(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "var").symlink_to("../outside")
    points = MountPoints(root)
    path = points.ensure("/var/run", is_dir=True)
    assert path == root / "outside" / "run"
    assert os.listdir(outside) == []
    points.cleanup()
    assert not (root / "outside").exists()


@pytest.mark.parametrize(
    ("target", "is_dir", "message"),
    [
        ("/etc/passwd", True, "not a directory in the image"),
        ("/etc", False, "is a directory in the image"),
        ("/bin/sh", False, "not a directory"),
    ],
)
def test_type_mismatches_are_errors(root: Path, target: str, is_dir: bool, message: str) -> None:
    with pytest.raises(SandboxError, match=message):
        MountPoints(root).ensure(target, is_dir=is_dir)
