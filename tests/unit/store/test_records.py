"""Tags, images, rmi, cache records, gc and check against a real on-disk store."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from pybuildkit.errors import ImageError, StoreError
from pybuildkit.oci import History, Image, sha256_digest
from pybuildkit.store import CacheRecord, Store, default_root
from pybuildkit.store.db import SCHEMA_VERSION
from tests.unit.store.imagefactory import layer_tar, make_image, put_layer


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "store") as s:
        yield s


@pytest.mark.parametrize(
    "ref",
    ["test/hello", "test/hello:latest", "docker.io/test/hello:latest", "index.docker.io/test/hello", "digest", "prefix", "config", "name@digest"],
)
def test_resolve(store: Store, ref: str) -> None:
    image = make_image(store)
    text = {
        "digest": image.digest,
        "prefix": image.digest[7:19],
        "config": image.config_digest,
        "name@digest": f"test/hello@{image.digest}",
    }.get(ref, ref)
    assert store.resolve(text) == image.digest


@pytest.mark.parametrize("ref", ["nothing", "test/hello:other", "sha256:" + "e" * 64, "abcdef0", "BAD REF"])
def test_resolve_unknown(store: Store, ref: str) -> None:
    make_image(store)
    with pytest.raises(StoreError):
        store.resolve(ref)


def test_ambiguous_prefix(store: Store) -> None:
    images = [make_image(store, tags=(f"x/{i}",), label=str(i)) for i in range(40)]
    firsts = {}
    for image in images:
        firsts.setdefault(image.digest[7], []).append(image)
    shared = next(group for group in firsts.values() if len(group) > 1)
    with pytest.raises(StoreError, match="ambiguous"):
        store.resolve(shared[0].digest[7])


def test_image_and_deterministic_digest(tmp_path: Path) -> None:
    with Store(tmp_path / "a") as a, Store(tmp_path / "b") as b:
        one, two = make_image(a), make_image(b)
    assert one.digest == two.digest and one.config_digest == two.config_digest
    with Store(tmp_path / "a") as a:
        again = a.image("test/hello")
    assert again.digest == one.digest and again.config == one.config and again.tags == ("docker.io/test/hello:latest",)
    assert len(again.layers) == 1 and again.config.history[-1].empty_layer


def test_put_image_checks_inputs(store: Store) -> None:
    desc, diff_id = put_layer(store, layer_tar({"a": b"a"}))
    with pytest.raises(ImageError, match="diff_ids"):
        store.put_image(Image(), [desc])
    missing = desc.__class__(desc.media_type, "sha256:" + "9" * 64, 5)
    with pytest.raises(StoreError, match="not in the store"):
        store.put_image(Image().with_layer(diff_id, History()), [missing])
    wrong_size = desc.__class__(desc.media_type, desc.digest, desc.size + 1)
    with pytest.raises(ImageError, match="size"):
        store.put_image(Image().with_layer(diff_id, History()), [wrong_size])
    assert store.images() == []


def test_tag_untag(store: Store) -> None:
    image = make_image(store)
    assert store.tag("test/hello", "other:v2") == "docker.io/library/other:v2"
    assert store.resolve("other:v2") == image.digest
    assert store.tags(image.digest) == ("docker.io/library/other:v2", "docker.io/test/hello:latest")
    assert store.untag("other:v2") == image.digest
    with pytest.raises(StoreError):
        store.untag("other:v2")
    with pytest.raises(StoreError, match="digest"):
        store.tag("test/hello", f"x@{image.digest}")
    with pytest.raises(ImageError):
        store.tag("test/hello", "Not Valid")


def test_tag_moves(store: Store) -> None:
    first = make_image(store, tags=("app",), label="1")
    second = make_image(store, tags=("app",), label="2")
    assert store.resolve("app") == second.digest != first.digest
    assert first.digest in {s.digest for s in store.images()}


@pytest.mark.parametrize(
    ("tags", "ref", "force", "untagged", "deleted"),
    [
        (("a",), "a", False, ["a"], True),
        (("a", "b"), "a", False, ["a"], False),
        (("a", "b"), "digest", True, ["a", "b"], True),
        ((), "digest", False, [], True),
    ],
)
def test_remove_image(store: Store, tags: tuple[str, ...], ref: str, force: bool, untagged: list[str], deleted: bool) -> None:
    image = make_image(store, tags=tags)
    result = store.remove_image(image.digest if ref == "digest" else ref, force=force)
    assert list(result.untagged) == [f"docker.io/library/{t}:latest" for t in untagged]
    assert result.deleted == ((image.digest,) if deleted else ())
    assert store.has_image(image.digest) is not deleted


def test_remove_by_digest_with_several_tags_needs_force(store: Store) -> None:
    image = make_image(store, tags=("a", "b"))
    with pytest.raises(StoreError, match="referenced by 2 tags"):
        store.remove_image(image.digest)
    assert store.tags(image.digest)


def test_gc_keeps_what_records_need(store: Store) -> None:
    kept = make_image(store, [{"kept": b"1"}], tags=("kept",))
    gone = make_image(store, [{"gone": b"2"}], tags=("gone",))
    cache_layer, cache_diff = put_layer(store, layer_tar({"cached": b"3"}))
    store.put_cache(CacheRecord(key="step", layer=cache_layer, diff_id=cache_diff, config={"Env": ["A=1"]}))
    orphan = store.put_bytes(b"orphan")
    store.remove_image("gone")
    young = store.gc()  # default grace: nothing young is collected
    assert young.removed_blobs == ()
    report = store.gc(grace_seconds=0)
    removed = set(report.removed_blobs)
    assert orphan.digest in removed and gone.digest in removed and gone.layers[0].digest in removed
    assert report.freed_bytes > 0
    for digest in (kept.digest, kept.config_digest, kept.layers[0].digest, cache_layer.digest):
        assert store.has_blob(digest)
    assert store.get_cache("step") is not None
    assert store.check(deep=True).ok


def test_cache_records(store: Store) -> None:
    layer, diff_id = put_layer(store, layer_tar({"a": b"a"}))
    record = CacheRecord(key="k", layer=layer, diff_id=diff_id, config={"x": [1, {"y": 2}]}, metadata={"took": 1.5})
    store.put_cache(record)
    assert store.get_cache("k") == record
    assert store.get_cache("missing") is None
    replaced = CacheRecord(key="k", metadata={"v": 2})
    store.put_cache(replaced)
    assert store.get_cache("k") == replaced and store.cache_keys() == ("k",)
    with pytest.raises(StoreError, match="missing blob"):
        store.put_cache(CacheRecord(key="bad", blobs=("sha256:" + "8" * 64,)))
    assert store.delete_cache("k") and not store.delete_cache("k")


def test_cache_record_with_vanished_blob_is_absent(store: Store) -> None:
    desc = store.put_bytes(b"blob")
    store.put_cache(CacheRecord(key="k", blobs=(desc.digest,)))
    store.blobs.remove(desc.digest)
    assert store.get_cache("k") is None
    assert not store.check().ok


def test_check_finds_corruption(store: Store) -> None:
    image = make_image(store)
    assert store.check(deep=True).ok
    layer = store.blob_path(image.layers[0].digest)
    os.chmod(layer, 0o644)
    data = bytearray(layer.read_bytes())
    data[-1] ^= 0xFF
    layer.write_bytes(bytes(data))
    report = store.check()
    assert not report.ok and any("corrupt" in p for p in report.problems)
    store.blobs.remove(image.config_digest)
    assert any("missing" in p for p in store.check().problems)


def test_check_deep_catches_wrong_diff_id(store: Store) -> None:
    desc, _ = put_layer(store, layer_tar({"a": b"a"}))
    image = Image().with_layer(sha256_digest(b"not the layer"), History())
    store.put_image(image, [desc], tags=("liar",))
    assert store.check().ok
    assert any("uncompresses" in p for p in store.check(deep=True).problems)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    Store(tmp_path / "s").close()
    with sqlite3.connect(tmp_path / "s" / "store.db") as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match="schema version"):
        Store(tmp_path / "s")


def test_wal_mode(store: Store) -> None:
    with sqlite3.connect(store.root / "store.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PYBUILDKIT_ROOT": "/r", "XDG_DATA_HOME": "/x"}, "/r"),
        ({"XDG_DATA_HOME": "/x"}, "/x/pybuildkit"),
        ({"HOME": "/h"}, "/h/.local/share/pybuildkit"),
    ],
)
def test_default_root(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str) -> None:
    for key in ("PYBUILDKIT_ROOT", "XDG_DATA_HOME"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert str(default_root()) == expected


def test_cache_record_round_trip() -> None:
    record = CacheRecord(key="k", diff_id=None, config=None, metadata={"a": [1]}, blobs=("sha256:" + "1" * 64,))
    assert CacheRecord.from_bytes("k", record.to_bytes()) == record
    assert record.refs() == ("sha256:" + "1" * 64,)


def test_gc_inside_own_lease_is_an_error_not_a_deadlock(store: Store) -> None:
    with store.lease():
        with pytest.raises(StoreError, match="lease"):
            store.gc()
    ingest = store.open_ingest()
    with pytest.raises(StoreError, match="open ingest"):
        store.gc()
    ingest.abort()
    assert store.gc(grace_seconds=0).removed_blobs == ()


@pytest.mark.parametrize("content", [b"this is not a database" * 100, b"SQLite format 3\x00" + b"\xff" * 200])
def test_garbage_database_is_a_store_error(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "store.db").write_bytes(content)
    with pytest.raises(StoreError):
        Store(tmp_path / "s")


def test_unwritable_root_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError):
        Store(tmp_path / "file" / "store")


def test_prune_cache_frees_its_blobs_for_gc(store: Store) -> None:
    old, _ = put_layer(store, layer_tar({"old": b"1"}))
    new, _ = put_layer(store, layer_tar({"new": b"2"}))
    store.put_cache(CacheRecord(key="old", layer=old))
    with sqlite3.connect(store.root / "store.db") as conn:
        conn.execute("UPDATE cache SET last_used = 0 WHERE key = 'old'")
    store.put_cache(CacheRecord(key="new", layer=new))
    assert store.prune_cache(unused_for_seconds=3600) == 1
    assert store.cache_keys() == ("new",)
    assert set(store.gc(grace_seconds=0).removed_blobs) == {old.digest}
    assert store.prune_cache() == 1 and store.cache_keys() == ()
