"""Export to and import from a local cache directory, against real stores in tmp dirs: what lands
where, what is verified, what a re-export collects, and what bad input leaves behind (nothing)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pybuildkit.cache.layout import LAYOUT_LOCK
from pybuildkit.cache.spec import parse_cache_spec
from pybuildkit.cache.transfer import export_cache, import_cache
from pybuildkit.errors import UsageError
from pybuildkit.store import CacheRecord, Store


def fill(store: Store, n: int, prefix: str = "layer") -> list[str]:
    keys = []
    for i in range(n):
        layer = store.put_bytes(f"{prefix}-{i}".encode(), media_type="application/vnd.oci.image.layer.v1.tar")
        key = "sha256:" + f"{prefix}{i}".encode().hex().ljust(64, "0")[:64]
        store.put_cache(CacheRecord(key=key, layer=layer, diff_id=layer.digest, metadata={"created": f"t{i}"}))
        keys.append(key)
    return keys


def to(dest: Path, extra: str = ""):  # type: ignore[no-untyped-def]
    return parse_cache_spec(f"type=local,dest={dest}{extra}", export=True)


def src(path: Path, extra: str = ""):  # type: ignore[no-untyped-def]
    return parse_cache_spec(f"type=local,src={path}{extra}", export=False)


def blob_files(dest: Path) -> set[str]:
    return set(os.listdir(dest / "blobs" / "sha256"))


@pytest.fixture()
def stores(tmp_path: Path):  # type: ignore[no-untyped-def]
    a, b = Store(tmp_path / "a"), Store(tmp_path / "b")
    yield a, b
    a.close()
    b.close()


def test_round_trip_files_every_record_with_its_blob(stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = stores
    keys = fill(a, 3)
    report = export_cache(a, to(tmp_path / "c"), keys)
    assert (report.records, report.blobs_written) == (3, 3)
    back = import_cache(b, src(tmp_path / "c"))
    assert (back.records, back.blobs_copied, back.skipped) == (3, 3, ())
    assert set(b.cache_keys()) == set(keys)
    for key in keys:
        assert b.get_cache(key) == a.get_cache(key)
    again = import_cache(b, src(tmp_path / "c"))
    assert (again.records, again.already_present, again.blobs_copied) == (0, 3, 0)


def test_reexport_collects_what_no_tag_reaches(stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, _ = stores
    keys = fill(a, 4)
    dest = tmp_path / "c"
    export_cache(a, to(dest), keys)
    assert len(blob_files(dest)) == 4 + 2  # layers, config, manifest
    report = export_cache(a, to(dest), keys[:1])
    assert report.blobs_removed == 3 + 2
    assert len(blob_files(dest)) == 1 + 2
    export_cache(a, to(dest, ",tag=other"), keys[1:2])
    assert len(blob_files(dest)) == 2 * 3  # both tags' blobs stay
    assert len(json.loads((dest / "index.json").read_text())["manifests"]) == 2


def test_missing_records_are_left_out(stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, _ = stores
    keys = fill(a, 1)
    report = export_cache(a, to(tmp_path / "c"), [*keys, "sha256:" + "e" * 64])
    assert report.records == 1


def test_corrupt_blob_skips_its_record_and_leaves_nothing(stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = stores
    keys = fill(a, 2)
    export_cache(a, to(tmp_path / "c"), keys)
    record = a.get_cache(keys[0])
    assert record is not None and record.layer is not None
    path = tmp_path / "c" / "blobs" / "sha256" / record.layer.digest.split(":")[1]
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered")
    report = import_cache(b, src(tmp_path / "c"))
    assert report.records == 1
    assert len(report.skipped) == 1 and keys[0] in report.skipped[0]
    assert b.cache_keys() == (keys[1],)
    assert not b.has_blob(record.layer.digest)
    assert os.listdir(b.root / "ingest") == []


@pytest.mark.parametrize("junk", ["index.json", "config"])
def test_unreadable_cache_is_a_project_error(stores, tmp_path: Path, junk: str) -> None:  # type: ignore[no-untyped-def]
    from pybuildkit.errors import PybuildkitError

    a, b = stores
    export_cache(a, to(tmp_path / "c"), fill(a, 1))
    if junk == "index.json":
        (tmp_path / "c" / "index.json").write_text("{not json")
    else:
        manifest = json.loads((tmp_path / "c" / "index.json").read_text())["manifests"][0]
        blob = tmp_path / "c" / "blobs" / "sha256" / manifest["digest"].split(":")[1]
        config = json.loads(blob.read_text())["config"]["digest"]
        (tmp_path / "c" / "blobs" / "sha256" / config.split(":")[1]).write_text("{}")
    with pytest.raises(PybuildkitError):
        import_cache(b, src(tmp_path / "c"))
    assert b.cache_keys() == ()


def test_refuses_to_write_into_a_foreign_directory(stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, _ = stores
    home = tmp_path / "home"
    home.mkdir()
    (home / "precious.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not an OCI layout"):
        export_cache(a, to(home), fill(a, 1))
    assert sorted(os.listdir(home)) == ["precious.txt"]


def test_import_of_a_missing_dir_or_tag_is_a_usage_error(stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = stores
    with pytest.raises(UsageError, match="no index.json"):
        import_cache(b, src(tmp_path / "nowhere"))
    export_cache(a, to(tmp_path / "c", ",tag=one"), fill(a, 1))
    export_cache(a, to(tmp_path / "c", ",tag=two"), fill(a, 1, "other"))
    with pytest.raises(UsageError, match="no cache tagged 'three'"):
        import_cache(b, src(tmp_path / "c", ",tag=three"))


def test_export_leaves_no_temp_files(stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, _ = stores
    export_cache(a, to(tmp_path / "c"), fill(a, 2))
    names = {p.name for p in (tmp_path / "c").rglob("*")}
    assert not any(n.startswith(".tmp") or n.endswith(".tmp") for n in names)
    assert sorted(os.listdir(tmp_path / "c")) == sorted([LAYOUT_LOCK, "blobs", "index.json", "oci-layout"])


def _tar(entries: list[tuple[str, bytes]]) -> bytes:
    import io
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _layer(entries: list[tuple[str, bytes]]):  # type: ignore[no-untyped-def]
    """An uncompressed layer blob of `entries` and its descriptor (digest == diff_id)."""
    import hashlib

    from pybuildkit.oci.descriptor import Descriptor

    data = _tar(entries)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return data, Descriptor("application/vnd.oci.image.layer.v1.tar", digest, len(data))


def _write_cache_dir(path: Path, artifact, layer, data: bytes) -> None:  # type: ignore[no-untyped-def]
    """A hand-made cache dir holding `artifact` and its one layer blob, as an importer meets it."""
    import io

    from pybuildkit.cache.layout import LocalCacheDir

    manifest = artifact.manifest()
    target = LocalCacheDir(path)
    with target.locked(exclusive=True):
        target.put_blob(layer, io.BytesIO(data))
        target.put_blob(manifest.config, io.BytesIO(artifact.config_bytes()))
        target.put_manifest(manifest.to_bytes(), manifest.descriptor())


@pytest.mark.parametrize(
    ("entries", "restored"),
    [
        ([("state", b"warm")], True),
        ([("../../escaped", b"evil")], False),
        ([("/abs-escaped", b"evil")], False),
    ],
)
def test_imported_cache_mounts_stay_inside_their_dir(stores, tmp_path: Path, entries, restored) -> None:  # type: ignore[no-untyped-def]
    from pybuildkit.cache.artifact import CacheArtifact, MountLayer
    from pybuildkit.cache.mountdirs import mount_dir

    _, b = stores
    data, layer = _layer(entries)
    artifact = CacheArtifact(mounts=[MountLayer(id="m", layer=layer, diff_id=layer.digest)])
    _write_cache_dir(tmp_path / "c", artifact, layer, data)
    report = import_cache(b, src(tmp_path / "c"))
    where = mount_dir(b.root, "m")
    if restored is False:
        assert report.mounts_restored == 0 and len(report.skipped) == 1
        assert not where.exists()
        assert [p.name for p in where.parent.iterdir()] == []  # no half-filled staging dir
    else:
        assert report.mounts_restored == 1
        assert where.is_dir()
    assert not any(p.name.endswith("escaped") for p in tmp_path.rglob("*") if not str(p).startswith(str(where)))


def test_a_record_whose_layer_is_not_its_diff_id_is_skipped(stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from pybuildkit.cache.artifact import CacheArtifact

    _, b = stores
    data, layer = _layer([("file", b"content")])
    good = CacheRecord(key="sha256:" + "1" * 64, layer=layer, diff_id=layer.digest)
    artifact = CacheArtifact(records=[CacheRecord(key="sha256:" + "2" * 64, layer=layer, diff_id="sha256:" + "f" * 64), good])
    _write_cache_dir(tmp_path / "c", artifact, layer, data)
    report = import_cache(b, src(tmp_path / "c"))
    # The honest record (filed first: records go by key) brings the blob; the liar, finding it
    # present, is still checked.
    assert b.cache_keys() == (good.key,)
    assert len(report.skipped) == 1 and "uncompresses to" in report.skipped[0]
