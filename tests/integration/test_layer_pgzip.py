"""Big gzip layers (the parallel-block path) read back by real tools: gzip -t, GNU tar, umoci."""

from __future__ import annotations

import os
import subprocess
import zlib
from pathlib import Path

import pytest

from pybuildkit.snapshot import write_tree_layer
from tests.integration.test_layer_umoci import _layout
from tests.support.tools import need

pytestmark = pytest.mark.integration


def _tree(root: Path) -> None:
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "big").write_bytes(os.urandom(3 << 20) + b"compressible line\n" * 300_000)
    (root / "bin" / "big").chmod(0o755)
    (root / "etc").mkdir()
    (root / "etc" / "small").write_bytes(b"small file\n")
    os.symlink("bin/big", root / "link")


def test_big_gzip_layer_read_by_gzip_tar_and_umoci(tmp_path: Path) -> None:
    need("gzip")
    need("tar")
    need("umoci")
    src = tmp_path / "src"
    _tree(src)
    layer = tmp_path / "layer.tar.gz"
    with open(layer, "wb") as f:
        info = write_tree_layer(src, f, compression="gzip", source_date_epoch=0)
    again = tmp_path / "again.tar.gz"
    with open(again, "wb") as f:
        assert write_tree_layer(src, f, compression="gzip", source_date_epoch=0) == info
    assert layer.read_bytes() == again.read_bytes()
    plain = tmp_path / "layer.tar"
    with open(plain, "wb") as f:
        write_tree_layer(src, f, compression="none", source_date_epoch=0)
    cobj = zlib.compressobj(6, zlib.DEFLATED, 31)
    serial = cobj.compress(plain.read_bytes()) + cobj.flush()
    assert layer.read_bytes() != serial, "a layer this big should take the parallel path"
    subprocess.run(["gzip", "-t", str(layer)], check=True)
    out = tmp_path / "tar-out"
    out.mkdir()
    subprocess.run(["tar", "-xzf", str(layer), "-C", str(out)], check=True)
    assert (out / "bin" / "big").read_bytes() == (src / "bin" / "big").read_bytes()
    layout = tmp_path / "oci"
    _layout(layout, [(info, layer)])
    bundle = tmp_path / "bundle"
    proc = subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{layout}:test", str(bundle)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rootfs = bundle / "rootfs"
    assert (rootfs / "bin" / "big").read_bytes() == (src / "bin" / "big").read_bytes()
    assert (rootfs / "etc" / "small").read_bytes() == b"small file\n"
    assert os.readlink(rootfs / "link") == "bin/big"
