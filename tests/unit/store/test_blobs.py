"""Blob ingest: verified while streaming, atomic, and nothing left behind on failure."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from pybuildkit.errors import ImageError, StoreError
from pybuildkit.oci import sha256_digest
from pybuildkit.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "store") as s:
        yield s


def _leftovers(store: Store) -> list[str]:
    return os.listdir(store.root / "ingest")


def test_ingest_commit(store: Store) -> None:
    with store.open_ingest() as ingest:
        ingest.write(b"hello ")
        ingest.write(b"world")
        desc = ingest.commit(sha256_digest(b"hello world"), media_type="text/plain")
    assert desc.digest == sha256_digest(b"hello world") and desc.size == 11 and desc.media_type == "text/plain"
    assert store.has_blob(desc.digest)
    assert store.blob_path(desc.digest).read_bytes() == b"hello world"
    assert store.blob_path(desc.digest).relative_to(store.root).parts[:2] == ("blobs", "sha256")
    with store.open_blob(desc.digest) as handle:
        assert handle.read() == b"hello world"
    assert _leftovers(store) == []


def test_wrong_digest_keeps_nothing(store: Store) -> None:
    ingest = store.open_ingest()
    ingest.write(b"data")
    with pytest.raises(ImageError, match="digest mismatch"):
        ingest.commit(sha256_digest(b"other"))
    assert not store.has_blob(sha256_digest(b"data")) and not store.has_blob(sha256_digest(b"other"))
    assert _leftovers(store) == []


@pytest.mark.parametrize("how", ["abort", "exception", "unclosed-with"])
def test_abandoned_ingest_keeps_nothing(store: Store, how: str) -> None:
    if how == "abort":
        ingest = store.open_ingest()
        ingest.write(b"partial")
        ingest.abort()
        ingest.abort()
    elif how == "exception":
        with pytest.raises(RuntimeError):
            with store.open_ingest() as ingest:
                ingest.write(b"partial")
                raise RuntimeError("boom")
    else:
        with store.open_ingest() as ingest:
            ingest.write(b"partial")
    assert not store.has_blob(sha256_digest(b"partial"))
    assert _leftovers(store) == []
    assert list(store.blobs.iter_digests()) == []


def test_put_bytes_deduplicates(store: Store) -> None:
    a = store.put_bytes(b"same")
    b = store.put_bytes(b"same")
    assert a == b and len(list(store.blobs.iter_digests())) == 1


@pytest.mark.parametrize(("size", "data"), [(3, b"four"), (5, b"four")])
def test_put_stream_size_mismatch(store: Store, size: int, data: bytes) -> None:
    with pytest.raises(ImageError, match="size mismatch"):
        store.put_stream(io.BytesIO(data), expected_size=size)
    assert list(store.blobs.iter_digests()) == [] and _leftovers(store) == []


def test_put_stream_skips_known_blob(store: Store) -> None:
    desc = store.put_bytes(b"known")

    class Exploding(io.RawIOBase):
        def read(self, n: int = -1) -> bytes:
            raise AssertionError("should not be read")

    assert store.put_stream(Exploding(), expected_digest=desc.digest, expected_size=5).digest == desc.digest  # type: ignore[arg-type]


def test_missing_blob_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError):
        store.open_blob("sha256:" + "f" * 64)
    with pytest.raises(ImageError):
        store.blob_path("sha256:../../etc/passwd")


def test_read_blob_size_limit(store: Store) -> None:
    desc = store.put_bytes(b"x" * 100)
    with pytest.raises(ImageError, match="larger"):
        store.read_blob(desc.digest, max_size=10)


def test_trusted_ingest_commits_under_the_writers_digest(store: Store) -> None:
    with store.blobs.open_ingest(trusted=True) as ingest:
        ingest.write(b"layer bytes")
        with pytest.raises(StoreError, match="trusted"):
            _ = ingest.digest
        desc = ingest.commit(sha256_digest(b"layer bytes"), media_type="x", expected_size=11)
    assert desc.digest == sha256_digest(b"layer bytes") and desc.size == 11
    assert store.blob_path(desc.digest).read_bytes() == b"layer bytes"
    assert _leftovers(store) == []


@pytest.mark.parametrize(
    ("digest", "size", "error"),
    [(None, None, StoreError), ("sha256:nothex", None, ImageError), (sha256_digest(b"abc"), 4, ImageError)],
)
def test_trusted_ingest_refuses_without_a_sound_digest(store: Store, digest: str | None, size: int | None, error: type) -> None:
    ingest = store.blobs.open_ingest(trusted=True)
    ingest.write(b"abc")
    with pytest.raises(error):
        try:
            ingest.commit(digest, expected_size=size)
        finally:
            ingest.abort()
    assert list(store.blobs.iter_digests()) == [] and _leftovers(store) == []
