"""The filesystem layout is plain data: checked here without namespaces or root."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybuildkit.sandbox import libc
from pybuildkit.sandbox.layout import DEVICES, MountStep, RemountReadonly, build_layout
from pybuildkit.sandbox.mountpoints import MountPoints
from pybuildkit.sandbox.spec import Mount, SandboxSpec


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    for name in ("etc", "proc", "dev", "sys"):
        (root / name).mkdir(parents=True)
    return root


def _layout(root: Path, tmp_path: Path, **kwargs: object) -> tuple:
    points = MountPoints(root)
    steps = build_layout(SandboxSpec(root, ["true"], **kwargs), root, points, tmp_path / "etc-files", userns=False)
    points.cleanup()
    return steps


def test_layout_starts_private_then_binds_the_rootfs(root: Path, tmp_path: Path) -> None:
    steps = _layout(root, tmp_path)
    assert steps[0] == MountStep(None, "/", None, libc.MS_REC | libc.MS_PRIVATE)
    assert steps[1] == MountStep(str(root), str(root), None, libc.MS_BIND | libc.MS_REC)
    targets = [s.target for s in steps if isinstance(s, MountStep)]
    assert targets[2] == f"{root}/proc"
    for name in DEVICES:
        assert f"{root}/dev/{name}" in targets
    for name in ("hosts", "hostname", "resolv.conf"):
        assert RemountReadonly(f"{root}/etc/{name}") in steps


@pytest.mark.parametrize("privileged", [False, True])
def test_privileged_skips_masking_and_readonly_sys(root: Path, tmp_path: Path, privileged: bool) -> None:
    steps = _layout(root, tmp_path, privileged=privileged)
    masked = [s for s in steps if isinstance(s, MountStep) and s.target == f"{root}/proc/sys"]
    sysfs = next(s for s in steps if isinstance(s, MountStep) and s.fstype == "sysfs")
    assert bool(masked) is not privileged
    assert bool(sysfs.flags & libc.MS_RDONLY) is not privileged


def test_user_mounts_shallow_first_and_readonly_rootfs_last(root: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    mounts = [Mount("tmpfs", "/a/b/c"), Mount("bind", "/a", str(src), readonly=True)]
    steps = _layout(root, tmp_path, mounts=mounts, readonly_rootfs=True)
    targets = [s.target for s in steps if isinstance(s, MountStep)]
    assert targets.index(f"{root}/a") < targets.index(f"{root}/a/b/c")
    assert RemountReadonly(f"{root}/a") in steps
    assert steps[-1] == RemountReadonly(str(root))
    assert not (root / "a").exists()
