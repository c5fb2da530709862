"""Our layers inside a minimal hand-made OCI layout, unpacked by umoci — which checks every digest
and diff_id and applies whiteouts its own way. Base layer plus a diff layer from a real overlay."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pybuildkit.snapshot import LayerInfo, Snapshots, overlay_supported, write_tree_layer
from tests.support.tools import need

pytestmark = pytest.mark.integration


def _blob(layout: Path, data: bytes) -> tuple[str, int]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
    return digest, len(data)


def _layout(layout: Path, layers: list[tuple[LayerInfo, Path]]) -> None:
    (layout / "blobs" / "sha256").mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    descriptors = []
    for info, path in layers:
        shutil.copy(path, layout / "blobs" / "sha256" / info.digest.split(":")[1])
        descriptors.append({"mediaType": info.media_type, "digest": info.digest, "size": info.size})
    config = {
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [info.diff_id for info, _ in layers]},
    }
    cdigest, csize = _blob(layout, json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdigest, "size": csize},
        "layers": descriptors,
    }
    mdigest, msize = _blob(layout, json.dumps(manifest).encode())
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mdigest, "size": msize,
        "annotations": {"org.opencontainers.image.ref.name": "test"}}]}
    (layout / "index.json").write_text(json.dumps(index))


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_umoci_unpacks_base_and_overlay_diff(tmp_path: Path, compression: str) -> None:
    need("umoci")
    if os.geteuid() != 0 or not overlay_supported(tmp_path):
        pytest.skip("needs root and overlayfs for the diff layer")
    base = tmp_path / "base"
    (base / "etc").mkdir(parents=True)
    (base / "etc" / "conf").write_bytes(b"old")
    (base / "etc" / "gone").write_bytes(b"bye")
    (base / "srv" / "data").mkdir(parents=True)
    (base / "srv" / "data" / "old").write_bytes(b"o")
    os.symlink("etc/conf", base / "link")
    base_path = tmp_path / "base.layer"
    with open(base_path, "wb") as f:
        base_info = write_tree_layer(base, f, compression=compression)
    snaps = Snapshots(tmp_path / "snaps", backend="overlay")
    with open(base_path, "rb") as f:
        snap = snaps.add_layer(None, base_info.diff_id, f)
    diff_path = tmp_path / "diff.layer"
    with snaps.active(snaps.lowerdirs(snap.chain_id)) as view:
        (view.merged / "etc" / "conf").write_bytes(b"new")
        (view.merged / "etc" / "gone").unlink()
        shutil.rmtree(view.merged / "srv" / "data")
        (view.merged / "srv" / "data").mkdir()
        (view.merged / "srv" / "data" / "fresh").write_bytes(b"f")
        with open(diff_path, "wb") as f:
            diff_info = view.write_layer(f, compression=compression)
    layout = tmp_path / "oci"
    _layout(layout, [(base_info, base_path), (diff_info, diff_path)])
    bundle = tmp_path / "bundle"
    proc = subprocess.run(["umoci", "unpack", "--image", f"{layout}:test", str(bundle)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rootfs = bundle / "rootfs"
    assert (rootfs / "etc" / "conf").read_bytes() == b"new"
    assert not (rootfs / "etc" / "gone").exists()
    assert sorted(os.listdir(rootfs / "srv" / "data")) == ["fresh"]
    assert os.readlink(rootfs / "link") == "etc/conf"
