"""Importing images: save -> load round trips, archives written by skopeo, oci-layout:// sources,
and hostile archives that must fail cleanly without recording anything."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from pybuildkit.errors import ImageError
from pybuildkit.exporters import (
    export_docker_archive,
    export_oci_archive,
    export_oci_layout,
    host_platform,
    import_oci_source,
    load_archive,
    parse_oci_layout_ref,
)
from pybuildkit.oci import Descriptor, Index, Platform, mediatypes as mt, sha256_digest
from pybuildkit.store import Store, StoredImage
from tests.support.tools import need
from tests.unit.store.imagefactory import make_image

pytestmark = pytest.mark.integration


@pytest.fixture
def source(tmp_path: Path) -> Store:
    with Store(tmp_path / "source") as s:
        yield s


@pytest.fixture
def fresh(tmp_path: Path) -> Store:
    with Store(tmp_path / "fresh") as s:
        yield s


@pytest.fixture
def image(source: Store) -> StoredImage:
    return make_image(source, [{"a.txt": b"a\n"}, {"b.txt": b"b\n"}], tags=("example/app:1.0", "example/app:latest"))


def test_oci_archive_round_trip_keeps_manifest_digest(tmp_path: Path, source: Store, fresh: Store, image: StoredImage) -> None:
    export_oci_archive(source, "example/app:1.0", tmp_path / "a.tar")
    (loaded,) = load_archive(fresh, tmp_path / "a.tar")
    assert loaded.digest == image.digest
    assert loaded.tags == ("docker.io/example/app:1.0",)
    assert fresh.check(deep=True).ok
    # Loading again is idempotent.
    assert load_archive(fresh, tmp_path / "a.tar")[0].digest == image.digest
    assert len(fresh.images()) == 1


def test_docker_archive_round_trip_keeps_image_id_and_tags(tmp_path: Path, source: Store, fresh: Store, image: StoredImage) -> None:
    export_docker_archive(source, ["example/app:1.0", "example/app:latest"], tmp_path / "d.tar")
    (loaded,) = load_archive(fresh, tmp_path / "d.tar")
    assert loaded.config_digest == image.config_digest
    assert loaded.tags == ("docker.io/example/app:1.0", "docker.io/example/app:latest")
    assert [layer.media_type for layer in loaded.layers] == [mt.OCI_LAYER, mt.OCI_LAYER]
    assert fresh.check(deep=True).ok


def test_loads_skopeo_archives(tmp_path: Path, source: Store, fresh: Store, image: StoredImage) -> None:
    tool = need("skopeo")
    export_oci_layout(source, "example/app:1.0", tmp_path / "layout")
    subprocess.run([tool, "copy", "--quiet", f"oci:{tmp_path / 'layout'}:1.0", f"docker-archive:{tmp_path / 'd.tar'}:busybox:1"], check=True)
    subprocess.run([tool, "copy", "--quiet", f"oci:{tmp_path / 'layout'}:1.0", f"oci-archive:{tmp_path / 'o.tar'}:mytag"], check=True)
    (from_docker,) = load_archive(fresh, tmp_path / "d.tar")
    assert from_docker.tags == ("docker.io/library/busybox:1",)
    assert from_docker.config_digest == image.config_digest
    (bare,) = load_archive(fresh, tmp_path / "o.tar")
    assert bare.tags == () and bare.config_digest == image.config_digest  # a bare ref.name has no repository
    (named,) = load_archive(fresh, tmp_path / "o.tar", name="example/named")
    assert named.tags == ("docker.io/example/named:mytag",)
    assert fresh.check(deep=True).ok


def test_oci_layout_source_for_from(tmp_path: Path, source: Store, fresh: Store, image: StoredImage) -> None:
    layout = tmp_path / "layout"
    export_oci_layout(source, "example/app:1.0", layout, tag="v1")
    assert import_oci_source(fresh, f"oci-layout://{layout}:v1").digest == image.digest
    assert import_oci_source(fresh, f"oci-layout://{layout}").digest == image.digest  # the only entry
    assert import_oci_source(fresh, f"oci-layout://{layout}@{image.digest}").digest == image.digest
    assert fresh.tags() == ()  # a FROM source is not tagged
    with pytest.raises(ImageError, match="no image tagged"):
        import_oci_source(fresh, f"oci-layout://{layout}:missing")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("oci-layout:///srv/img", (Path("/srv/img"), None, None)),
        ("oci-layout:///srv/img:v1", (Path("/srv/img"), "v1", None)),
        ("oci-layout://rel/dir:8080x/notatag", (Path("rel/dir:8080x/notatag"), None, None)),
        (f"oci-layout:///srv/img:v1@sha256:{'a' * 64}", (Path("/srv/img"), "v1", f"sha256:{'a' * 64}")),
    ],
)
def test_parse_oci_layout_ref(spec: str, expected: tuple[Path, str | None, str | None]) -> None:
    assert parse_oci_layout_ref(spec) == expected


def test_multi_platform_index_picks_host(tmp_path: Path, source: Store, fresh: Store) -> None:
    native = make_image(source, [{"native": b"1"}], tags=("multi:native",))
    foreign = make_image(source, [{"foreign": b"2"}], tags=("multi:foreign",))
    layout = tmp_path / "layout"
    export_oci_layout(source, native.digest, layout, tag="n")
    export_oci_layout(source, foreign.digest, layout, tag="f")
    here = host_platform()
    elsewhere = Platform("s390x" if here.architecture != "s390x" else "amd64", "linux")
    nested = Index(
        manifests=(
            Descriptor(mt.OCI_MANIFEST, foreign.digest, foreign.size, platform=elsewhere),
            Descriptor(mt.OCI_MANIFEST, native.digest, native.size, platform=here),
        )
    )
    data = nested.to_bytes()
    (layout / "blobs" / "sha256" / sha256_digest(data)[7:]).write_bytes(data)
    top = Index(manifests=(Descriptor(mt.OCI_INDEX, sha256_digest(data), len(data), annotations={mt.ANNOTATION_REF_NAME: "multi"}),))
    (layout / "index.json").write_bytes(top.to_bytes())
    assert import_oci_source(fresh, f"oci-layout://{layout}:multi").digest == native.digest
    assert import_oci_source(fresh, f"oci-layout://{layout}:multi", platform=elsewhere).digest == foreign.digest
    with pytest.raises(ImageError, match="no manifest for platform"):
        import_oci_source(fresh, f"oci-layout://{layout}:multi", platform=Platform("mips", "linux"))


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _docker_members(source: Store, image: StoredImage, tmp_path: Path) -> dict[str, bytes]:
    export_docker_archive(source, [image.digest], tmp_path / "good.tar")
    with tarfile.open(tmp_path / "good.tar") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def _oci_members(source: Store, image: StoredImage, tmp_path: Path) -> dict[str, bytes]:
    export_oci_archive(source, image.digest, tmp_path / "good-oci.tar", tag="t")
    with tarfile.open(tmp_path / "good-oci.tar") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def _set_manifest(members: dict[str, bytes], **changes: object) -> dict[str, bytes]:
    entries = json.loads(members["manifest.json"])
    entries[0].update(changes)
    return {**members, "manifest.json": json.dumps(entries).encode()}


def _hostile(kind: str, members: dict[str, bytes], image: StoredImage) -> dict[str, bytes]:
    layer_name = json.loads(members.get("manifest.json", b"[{}]"))[0].get("Layers", [""])[0]
    if kind == "config-escape":
        return _set_manifest(members, Config="../../../../etc/passwd")
    if kind == "layer-missing":
        return _set_manifest(members, Layers=["nope/layer.tar", "nope2/layer.tar"])
    if kind == "layer-tampered":
        return {**members, layer_name: members[layer_name][:-1] + b"\x01"}
    if kind == "layer-count":
        return _set_manifest(members, Layers=[layer_name])
    if kind == "bad-tag":
        return _set_manifest(members, RepoTags=["bad tag!"])
    if kind == "manifest-not-json":
        return {**members, "manifest.json": b"{nope"}
    if kind == "manifest-wrong-shape":
        return {**members, "manifest.json": b'{"Config": 1}'}
    blob = f"blobs/sha256/{image.layers[0].digest[7:]}"
    if kind == "oci-blob-tampered":
        return {**members, blob: members[blob] + b"x"}
    if kind == "oci-blob-missing":
        return {k: v for k, v in members.items() if k != blob}
    if kind == "oci-index-garbage":
        return {**members, "index.json": b'{"schemaVersion": 2, "manifests": [{"digest": "sha256:zz"}]}'}
    if kind == "oci-layout-version":
        return {**members, "oci-layout": b'{"imageLayoutVersion": "9.9"}'}
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "config-escape",
        "layer-missing",
        "layer-tampered",
        "layer-count",
        "bad-tag",
        "manifest-not-json",
        "manifest-wrong-shape",
        "oci-blob-tampered",
        "oci-blob-missing",
        "oci-index-garbage",
        "oci-layout-version",
    ],
)
def test_hostile_archives_fail_cleanly(tmp_path: Path, source: Store, fresh: Store, image: StoredImage, kind: str) -> None:
    members = _oci_members(source, image, tmp_path) if kind.startswith("oci-") else _docker_members(source, image, tmp_path)
    archive = _tar(tmp_path / "bad.tar", _hostile(kind, members, image))
    with pytest.raises(ImageError):
        load_archive(fresh, archive)
    assert fresh.images() == [] and fresh.tags() == ()
    assert fresh.check().ok


@pytest.mark.parametrize("content", [b"", b"not a tar at all", b"\x1f\x8b\x08garbage"])
def test_not_an_archive(tmp_path: Path, fresh: Store, content: bytes) -> None:
    path = tmp_path / "junk.tar"
    path.write_bytes(content)
    with pytest.raises(ImageError):
        load_archive(fresh, path)
    with pytest.raises(ImageError, match="no such file"):
        load_archive(fresh, tmp_path / "absent.tar")


def test_truncated_archive(tmp_path: Path, source: Store, fresh: Store, image: StoredImage) -> None:
    export_oci_archive(source, image.digest, tmp_path / "a.tar")
    data = (tmp_path / "a.tar").read_bytes()
    (tmp_path / "cut.tar").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError):
        load_archive(fresh, tmp_path / "cut.tar")
    assert fresh.images() == []


def test_legacy_docker_archive_with_shared_symlinked_layer_and_gzip(tmp_path: Path, source: Store, fresh: Store) -> None:
    """`docker save a b` (Docker < 25) writes a shared layer once and symlinks it; archives are
    often gzipped in transit. Both load."""
    first = make_image(source, [{"base": b"shared"}], tags=("one",))
    second = make_image(source, [{"base": b"shared"}, {"top": b"2"}], tags=("two",))
    export_docker_archive(source, ["one", "two"], tmp_path / "plain.tar")
    with tarfile.open(tmp_path / "plain.tar") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    entries = json.loads(members["manifest.json"])
    shared = entries[0]["Layers"][0]
    entries[1]["Layers"][0] = "alias/layer.tar"
    members["manifest.json"] = json.dumps(entries).encode()
    import gzip as gz

    with gz.open(tmp_path / "legacy.tar.gz", "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("alias/layer.tar")
        link.type, link.linkname = tarfile.SYMTYPE, f"../{shared}"
        tar.addfile(link)
    loaded = load_archive(fresh, tmp_path / "legacy.tar.gz")
    assert [image.config_digest for image in loaded] == [first.config_digest, second.config_digest]
    assert fresh.check(deep=True).ok
