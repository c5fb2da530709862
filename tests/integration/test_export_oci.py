"""Exported images, checked by the tools that consume them: umoci really unpacks, skopeo reads the
OCI layout, oci-archive and docker-archive, and our own walk checks every digest, size and diff_id."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest
import zstandard

from pybuildkit.errors import PybuildkitError, StoreError
from pybuildkit.exporters import export_docker_archive, export_oci_archive, export_oci_layout
from pybuildkit.oci import Image, Index, Manifest, mediatypes as mt
from pybuildkit.store import Store, StoredImage
from tests.support.tools import need
from tests.unit.store.imagefactory import make_image

pytestmark = pytest.mark.integration

LAYERS = [
    {"etc/greeting": b"hello\n", "bin/tool": b"#!/bin/sh\necho tool\n", "gone.txt": b"delete me\n"},
    {"etc/greeting": b"hello again\n", ".wh.gone.txt": b""},
    {"data/big.bin": bytes(range(256)) * 512},
]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"{argv} failed: {proc.stderr}"
    return proc


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "store") as s:
        yield s


@pytest.fixture
def image(store: Store) -> StoredImage:
    return make_image(store, LAYERS, tags=("example/app:1.0",), compression=("gzip", "none", "zstd"))


def _uncompressed_digest(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    elif raw[:4] == b"\x28\xb5\x2f\xfd":
        raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
    tarfile.open(fileobj=io.BytesIO(raw)).getmembers()  # a real tar
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def verify_layout(layout: Path, tag: str) -> Manifest:
    """Our own strict check: every blob's digest and size, every layer's diff_id."""
    assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = Index.from_json((layout / "index.json").read_bytes())
    entry = next(m for m in index.manifests if m.annotations.get(mt.ANNOTATION_REF_NAME) == tag)

    def blob(desc_digest: str, size: int) -> Path:
        path = layout / "blobs" / "sha256" / desc_digest.partition(":")[2]
        assert path.stat().st_size == size
        assert "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest() == desc_digest
        return path

    manifest = Manifest.from_json(blob(entry.digest, entry.size).read_bytes())
    config = Image.from_json(blob(manifest.config.digest, manifest.config.size).read_bytes())
    assert len(config.rootfs.diff_ids) == len(manifest.layers) == sum(not h.empty_layer for h in config.history)
    for layer, diff_id in zip(manifest.layers, config.rootfs.diff_ids):
        assert _uncompressed_digest(blob(layer.digest, layer.size)) == diff_id
    return manifest


def test_oci_layout_passes_own_check_and_skopeo(tmp_path: Path, store: Store, image: StoredImage) -> None:
    skopeo = need("skopeo")
    entry = export_oci_layout(store, "example/app:1.0", tmp_path / "layout")
    assert entry.annotations[mt.ANNOTATION_REF_NAME] == "1.0"
    assert entry.annotations[mt.ANNOTATION_CONTAINERD_NAME] == "docker.io/example/app:1.0"
    manifest = verify_layout(tmp_path / "layout", "1.0")
    assert manifest == image.manifest
    out = json.loads(run(skopeo, "inspect", f"oci:{tmp_path / 'layout'}:1.0").stdout)
    assert out["Digest"] == image.digest
    assert out["Layers"] == [layer.digest for layer in image.layers]
    assert out["Os"] == "linux" and out["Architecture"] == "amd64"


@pytest.mark.skipif(os.geteuid() != 0, reason="umoci unpack keeps ownership: needs root")
def test_umoci_really_unpacks(tmp_path: Path, store: Store) -> None:
    umoci = need("umoci")
    # umoci 0.4.7 (Debian 12) predates zstd layers: gzip and uncompressed only here.
    image = make_image(store, LAYERS, tags=("example/app:1.0",), compression=("gzip", "none", "gzip"))
    export_oci_layout(store, image.digest, tmp_path / "layout", tag="v1")
    run(umoci, "unpack", "--image", f"{tmp_path / 'layout'}:v1", str(tmp_path / "bundle"))
    rootfs = tmp_path / "bundle" / "rootfs"
    assert (rootfs / "etc" / "greeting").read_bytes() == b"hello again\n"
    assert (rootfs / "bin" / "tool").read_bytes().startswith(b"#!/bin/sh")
    assert not (rootfs / "gone.txt").exists()  # the whiteout in layer 2 was applied
    assert (rootfs / "data" / "big.bin").stat().st_size == 256 * 512
    config = json.loads((tmp_path / "bundle" / "config.json").read_text())
    assert config["process"]["args"] == ["/bin/sh"]


def test_oci_archive_is_deterministic_and_read_by_skopeo(tmp_path: Path, store: Store, image: StoredImage) -> None:
    skopeo = need("skopeo")
    export_oci_archive(store, "example/app:1.0", tmp_path / "a.tar")
    export_oci_archive(store, "example/app:1.0", tmp_path / "b.tar")
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()
    with tarfile.open(tmp_path / "a.tar") as tar:
        names = tar.getnames()
        assert names == sorted(names)
        assert {m.mtime for m in tar.getmembers()} == {0} and {m.uid for m in tar.getmembers()} == {0}
        tar.extractall(tmp_path / "unpacked", filter="data")
    verify_layout(tmp_path / "unpacked", "1.0")
    out = json.loads(run(skopeo, "inspect", f"oci-archive:{tmp_path / 'a.tar'}:1.0").stdout)
    assert out["Digest"] == image.digest


def test_docker_archive_read_by_skopeo(tmp_path: Path, store: Store, image: StoredImage) -> None:
    skopeo = need("skopeo")
    export_docker_archive(store, ["example/app:1.0"], tmp_path / "d.tar")
    export_docker_archive(store, ["example/app:1.0"], tmp_path / "d2.tar")
    assert (tmp_path / "d.tar").read_bytes() == (tmp_path / "d2.tar").read_bytes()
    with tarfile.open(tmp_path / "d.tar") as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        assert manifest[0]["RepoTags"] == ["example/app:1.0"]
        for name, diff_id in zip(manifest[0]["Layers"], image.config.rootfs.diff_ids):
            data = tar.extractfile(name).read()  # type: ignore[union-attr]
            assert "sha256:" + hashlib.sha256(data).hexdigest() == diff_id  # uncompressed, as docker load wants
        repositories = json.load(tar.extractfile("repositories"))  # type: ignore[arg-type]
        assert set(repositories) == {"example/app"}
    out = json.loads(run(skopeo, "inspect", f"docker-archive:{tmp_path / 'd.tar'}").stdout)
    assert out["Layers"] == list(image.config.rootfs.diff_ids)
    # And skopeo can turn it back into an OCI layout that passes the strict check.
    run(skopeo, "copy", "--quiet", f"docker-archive:{tmp_path / 'd.tar'}", f"oci:{tmp_path / 'back'}:t")
    verify_layout(tmp_path / "back", "t")


def test_layout_merges_and_replaces(tmp_path: Path, store: Store, image: StoredImage) -> None:
    other = make_image(store, [{"x": b"x"}], tags=("example/other",))
    layout = tmp_path / "layout"
    export_oci_layout(store, "example/app:1.0", layout, tag="a")
    export_oci_layout(store, "example/other", layout, tag="b")
    export_oci_layout(store, "example/other", layout, tag="a")
    index = Index.from_json((layout / "index.json").read_bytes())
    by_tag = {m.annotations[mt.ANNOTATION_REF_NAME]: m.digest for m in index.manifests}
    assert by_tag == {"a": other.digest, "b": other.digest}
    verify_layout(layout, "a")


def test_refuses_foreign_directory(tmp_path: Path, store: Store, image: StoredImage) -> None:
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not an OCI layout"):
        export_oci_layout(store, "example/app:1.0", tmp_path / "stuff")
    assert sorted(os.listdir(tmp_path / "stuff")) == ["notes.txt"]


@pytest.mark.parametrize("kind", ["oci-archive", "docker-archive"])
def test_corrupt_store_leaves_no_archive(tmp_path: Path, store: Store, image: StoredImage, kind: str) -> None:
    blob = store.blob_path(image.layers[1].digest)  # the uncompressed layer: streamed straight out
    os.chmod(blob, 0o644)
    data = bytearray(blob.read_bytes())
    data[600] ^= 0xFF
    blob.write_bytes(bytes(data))
    out = tmp_path / "out" / "image.tar"
    with pytest.raises(PybuildkitError):
        if kind == "oci-archive":
            export_oci_archive(store, image.digest, out)
        else:
            export_docker_archive(store, [image.digest], out)
    assert os.listdir(tmp_path / "out") == []


def test_unknown_image(tmp_path: Path, store: Store) -> None:
    with pytest.raises(StoreError, match="no such image"):
        export_oci_archive(store, "nothing:here", tmp_path / "x.tar")
    assert not (tmp_path / "x.tar").exists()
