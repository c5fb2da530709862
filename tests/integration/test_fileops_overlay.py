"""COPY into a real overlay mount (what the executor hands `apply_copy`), then the upper dir
written as a layer and read back by the real `tar`: only what COPY wrote is in the layer, in the
places the image's own symlinks send it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pybuildkit.execute.fileops import CopySpec, apply_copy
from pybuildkit.snapshot import mount_overlay, overlay_supported, unmount, write_diff_layer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="overlay mounts need root"),
]


def _lower(base: Path) -> Path:
    lower = base / "lower"
    (lower / "lib").mkdir(parents=True)
    (lower / "usr").mkdir()
    os.symlink("/lib", lower / "usr/lib")
    (lower / "etc").mkdir()
    (lower / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n")
    (lower / "etc/group").write_text("root:x:0:\napp:x:1000:\n")
    (lower / "app").mkdir()
    (lower / "app/config").write_text("old")
    return lower


def test_copy_into_overlay_then_layer(tmp_path: Path) -> None:
    if not overlay_supported(tmp_path):
        pytest.skip("overlayfs is not available here")
    lower = _lower(tmp_path)
    upper, work, merged = tmp_path / "upper", tmp_path / "work", tmp_path / "merged"
    for d in (upper, work, merged):
        d.mkdir()
    ctx = tmp_path / "ctx"
    (ctx / "plugins").mkdir(parents=True)
    (ctx / "plugins/libx.so").write_text("ELF")
    (ctx / "config").write_text("new")
    mount = mount_overlay([lower], merged, upper=upper, work=work)
    try:
        apply_copy(CopySpec(dest="/usr/lib/", sources=("plugins",), source_root=ctx), dest_root=merged)
        apply_copy(CopySpec(dest="/app/config", sources=("config",), source_root=ctx, chown="app"), dest_root=merged)
        assert (merged / "lib/libx.so").read_text() == "ELF"
        assert (merged / "app/config").read_text() == "new"
    finally:
        unmount(mount)
    assert os.path.islink(lower / "usr/lib") and not (upper / "usr").exists()
    layer = tmp_path / "layer.tar"
    with open(layer, "wb") as out:
        write_diff_layer(upper, out, compression="none")
    listing = subprocess.run(["tar", "-tvf", os.fspath(layer), "--numeric-owner"], capture_output=True, text=True, check=True).stdout
    names = {line.split()[-1].rstrip("/") for line in listing.splitlines()}
    assert {"lib/libx.so", "app/config"} <= names
    assert not any(n.startswith("usr") for n in names)
    config_line = next(line for line in listing.splitlines() if line.split()[-1] == "app/config")
    assert "1000/1000" in config_line
