"""Content-addressed blob files: `blobs/sha256/<hex>`, written atomically and verified.

Every blob is streamed into a temp file under `ingest/` (same filesystem as `blobs/`), hashed as it
is written, fsynced, checked against the digest the caller expects, and only then renamed into
place: a reader never sees a partial blob, and a crash or a wrong digest leaves no blob behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pybuildkit.atomicfile import fsync_dir
from pybuildkit.errors import ImageError, StoreError
from pybuildkit.oci.descriptor import Descriptor
from pybuildkit.oci.digest import digest_hex, validate_digest
from pybuildkit.store.lock import FileLock

__all__ = ["Ingest", "BlobStore", "OCTET_STREAM"]

OCTET_STREAM = "application/octet-stream"
_CHUNK = 1 << 20


class Ingest:
    """A blob being written. `write()` then `commit()`; `abort()` (or leaving a `with` block on an
    error) removes everything. While open it holds the store lock shared, so GC waits for it.

    `trusted=True` is for an in-process writer that already hashed exactly the bytes it wrote
    (the layer writer does, to name the layer): the ingest skips hashing them a second time and
    commits under the digest it is given. Anything read from outside must stay untrusted.
    """

    def __init__(self, blobs: BlobStore, *, trusted: bool = False) -> None:
        self._blobs = blobs
        self._lock: FileLock | None = blobs.shared_lock()
        try:
            fd, tmp = tempfile.mkstemp(dir=blobs.ingest_dir, prefix="ingest-")
        except OSError as exc:
            self._lock.release()
            raise StoreError(f"cannot create a temp file in {blobs.ingest_dir}: {exc.strerror}") from None
        self._path: Path | None = Path(tmp)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")
        self._hash = None if trusted else hashlib.sha256()
        self._size = 0
        self.descriptor: Descriptor | None = None

    @property
    def size(self) -> int:
        return self._size

    @property
    def digest(self) -> str:
        """The digest of what was written so far."""
        if self._hash is None:
            raise StoreError("a trusted ingest does not hash what it is given")
        return "sha256:" + self._hash.hexdigest()

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._file is None:
            raise StoreError("write to a closed ingest")
        try:
            written = self._file.write(data)
        except OSError as exc:
            self.abort()
            raise StoreError(f"cannot write blob: {exc.strerror}") from None
        if self._hash is not None:
            self._hash.update(data)
        self._size += len(data)
        return written

    def tell(self) -> int:
        return self._size

    def writable(self) -> bool:
        return self._file is not None

    def flush(self) -> None:
        """Present so compressors that flush their output file can write straight into an ingest."""
        if self._file is not None:
            self._file.flush()

    def copy_from(self, source: BinaryIO, limit: int | None = None) -> int:
        """Stream `source` in (at most `limit` bytes, if given); returns the byte count copied."""
        copied = 0
        while True:
            want = _CHUNK if limit is None else min(_CHUNK, limit - copied)
            if want <= 0:
                break
            chunk = source.read(want)
            if not chunk:
                break
            self.write(chunk)
            copied += len(chunk)
        return copied

    def commit(
        self,
        expected_digest: str | None = None,
        *,
        media_type: str = OCTET_STREAM,
        expected_size: int | None = None,
    ) -> Descriptor:
        """Verify and publish the blob; returns its descriptor. On mismatch nothing is kept."""
        if self._file is None or self._path is None:
            if self.descriptor is not None:
                return self.descriptor
            raise StoreError("commit of an aborted ingest")
        if self._hash is None:
            if expected_digest is None:
                self.abort()
                raise StoreError("a trusted ingest needs the digest its writer computed")
            try:
                digest = validate_digest(expected_digest)
            except BaseException:
                self.abort()
                raise
        else:
            digest = self.digest
        if expected_digest is not None and digest != validate_digest(expected_digest):
            self.abort()
            raise ImageError(f"content digest mismatch: expected {expected_digest}, got {digest}")
        if expected_size is not None and self._size != expected_size:
            self.abort()
            raise ImageError(f"content size mismatch for {digest}: expected {expected_size}, got {self._size}")
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
            os.chmod(self._path, 0o444)
            final = self._blobs.blob_path(digest)
            if final.exists():
                # Already there: refresh its mtime so a concurrent GC's grace period covers it.
                os.utime(final)
                os.unlink(self._path)
            else:
                os.rename(self._path, final)
                fsync_dir(final.parent)
        except OSError as exc:
            self.abort()
            raise StoreError(f"cannot commit blob {digest}: {exc.strerror}") from None
        self._path = None
        self._release()
        self.descriptor = Descriptor(media_type=media_type, digest=digest, size=self._size)
        return self.descriptor

    def abort(self) -> None:
        """Drop the partial blob. Safe to call more than once, and after commit (a no-op)."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        if self._path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._path)
            self._path = None
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Ingest:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None or self.descriptor is None:
            self.abort()

    def __del__(self) -> None:
        if self._path is not None:
            self.abort()


class BlobStore:
    """The blob half of a store: files only, no records."""

    def __init__(self, root: Path, lock_path: Path) -> None:
        self.root = root
        self.sha256_dir = root / "blobs" / "sha256"
        self.ingest_dir = root / "ingest"
        self.lock_path = lock_path
        try:
            self.sha256_dir.mkdir(parents=True, exist_ok=True)
            self.ingest_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create store at {root}: {exc.strerror}") from None

    def shared_lock(self) -> FileLock:
        return FileLock(self.lock_path, exclusive=False)

    def blob_path(self, digest: str) -> Path:
        return self.sha256_dir / digest_hex(digest)

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def open_ingest(self, *, trusted: bool = False) -> Ingest:
        """A new ingest; `trusted` only for in-process writers that hash what they write (see Ingest)."""
        return Ingest(self, trusted=trusted)

    def put_bytes(self, data: bytes, *, media_type: str = OCTET_STREAM, expected_digest: str | None = None) -> Descriptor:
        with self.open_ingest() as ingest:
            ingest.write(data)
            return ingest.commit(expected_digest, media_type=media_type)

    def put_stream(
        self,
        source: BinaryIO,
        *,
        media_type: str = OCTET_STREAM,
        expected_digest: str | None = None,
        expected_size: int | None = None,
    ) -> Descriptor:
        """Ingest a stream; with `expected_digest` already present, nothing is read at all."""
        if expected_digest is not None and self.has_blob(expected_digest):
            size = self.blob_path(expected_digest).stat().st_size
            if expected_size is None or size == expected_size:
                os.utime(self.blob_path(expected_digest))
                return Descriptor(media_type=media_type, digest=expected_digest, size=size)
        with self.open_ingest() as ingest:
            # Read one byte past the expected size, so an oversized stream is caught, not truncated.
            ingest.copy_from(source, None if expected_size is None else expected_size + 1)
            return ingest.commit(expected_digest, media_type=media_type, expected_size=expected_size)

    def open_blob(self, digest: str) -> BinaryIO:
        try:
            return open(self.blob_path(digest), "rb")
        except FileNotFoundError:
            raise StoreError(f"blob {digest} is not in the store") from None
        except OSError as exc:
            raise StoreError(f"cannot read blob {digest}: {exc.strerror}") from None

    def read_blob(self, digest: str, *, max_size: int = 64 << 20) -> bytes:
        """A small blob (manifest, config) whole; refuses anything larger than `max_size`."""
        with self.open_blob(digest) as handle:
            data = handle.read(max_size + 1)
        if len(data) > max_size:
            raise ImageError(f"blob {digest} is larger than {max_size} bytes; refusing to read it whole")
        return data

    def iter_digests(self) -> Iterator[str]:
        """Every blob file's digest (names that are not 64 hex digits are yielded as-is for check())."""
        try:
            names = sorted(os.listdir(self.sha256_dir))
        except OSError as exc:
            raise StoreError(f"cannot list {self.sha256_dir}: {exc.strerror}") from None
        for name in names:
            yield f"sha256:{name}"

    def remove(self, digest: str) -> int:
        """Delete a blob; returns the bytes freed (0 if it was not there)."""
        path = self.sha256_dir / digest.partition(":")[2]
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        return size

    def age(self, digest: str) -> float:
        path = self.sha256_dir / digest.partition(":")[2]
        try:
            return time.time() - path.stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def clear_ingest(self) -> int:
        """Remove leftover temp files of crashed ingests; call only under the exclusive lock."""
        removed = 0
        for entry in os.scandir(self.ingest_dir):
            with contextlib.suppress(OSError):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed += 1
        return removed
