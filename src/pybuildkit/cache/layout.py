"""A local cache directory: an OCI image layout whose index names cache artifacts by tag.

Writes are crash-safe (every blob and `index.json` go to a temp file in the same directory, are
fsynced and renamed) and serialised by a lock file, so two CI jobs exporting into one shared dir
cannot tear it. After an export the blobs no index entry reaches are deleted: re-exporting a
changing build into the same directory does not grow it without bound.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pybuildkit.atomicfile import atomic_write, atomic_writer
from pybuildkit.errors import ImageError, PybuildkitError, StoreError, UsageError
from pybuildkit.oci import mediatypes as mt
from pybuildkit.oci.canonical import canonical_json
from pybuildkit.oci.descriptor import Descriptor
from pybuildkit.oci.digest import digest_hex, is_digest
from pybuildkit.oci.manifest import Index, parse_manifest_or_index

__all__ = ["LocalCacheDir", "LAYOUT_LOCK"]

LAYOUT_LOCK = ".pybuildkit-lock"
_CHUNK = 1 << 20
_MAX_JSON = 16 << 20


def _os_error(path: Path, exc: OSError) -> StoreError:
    return StoreError(f"cache directory {path}: {exc.strerror or exc}")


class LocalCacheDir:
    """One OCI layout directory used as a cache; `tag` selects the entry read or replaced."""

    def __init__(self, path: Path | str, tag: str = "latest") -> None:
        self.path = Path(path)
        self.tag = tag
        self._lock_fd: int | None = None

    # -- locking ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, *, exclusive: bool) -> Iterator[LocalCacheDir]:
        """Hold the directory's lock: exclusive to write (and collect), shared to read."""
        created = False
        try:
            if exclusive:
                if self.path.exists() and not self.path.is_dir():
                    raise UsageError(f"cache destination {self.path} exists and is not a directory")
                self.path.mkdir(parents=True, exist_ok=True)
            elif not (self.path / "index.json").is_file():
                raise UsageError(f"cache directory {self.path} holds no cache (no index.json)", hint="export one with --cache-to type=local,dest=DIR")
            try:
                fd = os.open(self.path / LAYOUT_LOCK, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
                created = True
            except FileExistsError:
                fd = os.open(self.path / LAYOUT_LOCK, os.O_RDWR | os.O_CLOEXEC)
        except OSError as exc:
            raise _os_error(self.path, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            if exclusive:
                self._refuse_foreign(created)
                self._prepare()
            yield self
        finally:
            os.close(fd)

    def _refuse_foreign(self, created_lock: bool) -> None:
        """Never write (and garbage-collect) inside a directory that is not a cache layout. Run
        under the lock, so another export's half-made layout is never mistaken for a stranger's."""
        if (self.path / "oci-layout").exists() or not set(os.listdir(self.path)) - {LAYOUT_LOCK, "blobs"}:
            return
        if created_lock:
            with contextlib.suppress(OSError):
                os.unlink(self.path / LAYOUT_LOCK)
        raise UsageError(
            f"cache destination {self.path} is a non-empty directory that is not an OCI layout",
            hint="give an empty or new directory, or one an earlier --cache-to wrote",
        )

    def _prepare(self) -> None:
        try:
            (self.path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _os_error(self.path, exc) from None
        layout = self.path / "oci-layout"
        if not layout.exists():
            self._atomic_write(layout, canonical_json({"imageLayoutVersion": mt.OCI_LAYOUT_VERSION}))

    # -- blobs -----------------------------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        return self.path / "blobs" / "sha256" / digest_hex(digest)

    def has_blob(self, desc: Descriptor) -> bool:
        path = self.blob_path(desc.digest)
        try:
            return path.stat().st_size == desc.size
        except OSError:
            return False

    def put_blob(self, desc: Descriptor, source: BinaryIO) -> None:
        """Copy `source` in as `desc`, verifying size and digest before it becomes visible."""
        hasher = hashlib.sha256()
        size = 0
        try:
            with atomic_writer(self.blob_path(desc.digest)) as out:
                for chunk in iter(lambda: source.read(_CHUNK), b""):
                    hasher.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                got = "sha256:" + hasher.hexdigest()
                if got != desc.digest or size != desc.size:
                    raise ImageError(f"blob {desc.digest}: got {size} bytes hashing to {got}, expected {desc.size} bytes")
        except OSError as exc:
            raise _os_error(self.path, exc) from None

    @contextlib.contextmanager
    def open_blob(self, desc: Descriptor) -> Iterator[BinaryIO]:
        try:
            handle = open(self.blob_path(desc.digest), "rb")
        except FileNotFoundError:
            raise StoreError(f"cache directory {self.path} lacks blob {desc.digest}") from None
        except OSError as exc:
            raise _os_error(self.path, exc) from None
        with handle:
            yield handle

    def read_small(self, desc: Descriptor) -> bytes:
        """A JSON blob, read whole and verified (manifests and configs are small)."""
        if desc.size > _MAX_JSON:
            raise ImageError(f"blob {desc.digest} is {desc.size} bytes: too large for a cache manifest or config")
        with self.open_blob(desc) as handle:
            data = handle.read(desc.size + 1)
        if len(data) != desc.size or "sha256:" + hashlib.sha256(data).hexdigest() != desc.digest:
            raise ImageError(f"cache directory {self.path}: blob {desc.digest} is corrupt")
        return data

    # -- index -----------------------------------------------------------------------------------

    def index(self) -> Index:
        path = self.path / "index.json"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return Index(media_type=mt.OCI_INDEX)
        except OSError as exc:
            raise _os_error(self.path, exc) from None
        return Index.from_json(data)

    def manifest_descriptor(self) -> Descriptor:
        """The index entry for `tag` (or the only entry when there is exactly one)."""
        entries = self.index().manifests
        named = [d for d in entries if d.annotations.get(mt.ANNOTATION_REF_NAME) == self.tag]
        if not named and len(entries) == 1:
            named = list(entries)
        if not named:
            raise UsageError(f"cache directory {self.path} has no cache tagged {self.tag!r}")
        return named[-1]

    def get_manifest(self) -> bytes:
        """The bytes of the manifest `tag` names, verified against the index's digest."""
        return self.read_small(self.manifest_descriptor())

    def put_manifest(self, data: bytes, desc: Descriptor) -> None:
        """Store the manifest blob and point `tag` at it."""
        import io

        if not self.has_blob(desc):
            self.put_blob(desc, io.BytesIO(data))
        self.set_manifest(desc)

    def set_manifest(self, desc: Descriptor) -> None:
        """Point `tag` at `desc`, replacing the previous entry of that tag."""
        entry = Descriptor(desc.media_type, desc.digest, desc.size, annotations={mt.ANNOTATION_REF_NAME: self.tag}, artifact_type=desc.artifact_type)
        others = [d for d in self.index().manifests if d.annotations.get(mt.ANNOTATION_REF_NAME) != self.tag]
        index = Index(manifests=(*others, entry), media_type=mt.OCI_INDEX)
        self._atomic_write(self.path / "index.json", index.to_bytes())

    def _atomic_write(self, path: Path, data: bytes) -> None:
        try:
            atomic_write(path, data)
        except OSError as exc:
            raise _os_error(self.path, exc) from None

    # -- garbage collection ----------------------------------------------------------------------

    def reachable(self) -> set[str]:
        """Digests some index entry reaches (manifests, their configs and layers, nested indexes)."""
        live: set[str] = set()
        pending = list(self.index().manifests)
        while pending:
            desc = pending.pop()
            if desc.digest in live:
                continue
            live.add(desc.digest)
            if desc.media_type not in mt.MANIFEST_TYPES | mt.INDEX_TYPES:
                continue
            try:
                parsed = parse_manifest_or_index(self.read_small(desc), desc.media_type)
            except PybuildkitError:
                continue
            if isinstance(parsed, Index):
                pending.extend(parsed.manifests)
            else:
                live.add(parsed.config.digest)
                live.update(layer.digest for layer in parsed.layers)
        return live

    def collect(self) -> tuple[int, int]:
        """Delete blobs (and stray temp files) nothing reaches; returns (files removed, bytes freed)."""
        live = self.reachable()
        removed = freed = 0
        folder = self.path / "blobs" / "sha256"
        for entry in os.scandir(folder):
            digest = "sha256:" + entry.name
            if is_digest(digest) and digest in live:
                continue
            with contextlib.suppress(OSError):
                size = entry.stat(follow_symlinks=False).st_size
                os.unlink(entry.path)
                removed += 1
                freed += size
        return removed, freed
