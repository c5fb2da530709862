"""`push`: an image from the store to a registry, sending only the blobs it lacks.

Per blob, cheapest first: `HEAD` (the registry has it: nothing to send), a cross-repository mount
(`POST ?mount=&from=`: the registry links a blob it holds under another repository on the same
host, which is how retagging to a new repository costs no upload), else an upload: one `PUT` for
small blobs, `PATCH` chunks then a closing `PUT` for large ones, so a big layer never sits in
memory whole. Blobs go up concurrently; the manifest goes last, verbatim, so the registry's digest
is the store's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from pybuildkit.errors import ImageError, RegistryError, UsageError
from pybuildkit.oci.descriptor import Descriptor
from pybuildkit.oci.reference import parse_reference
from pybuildkit.registry.client import RegistryClient
from pybuildkit.registry.credentials import Credentials
from pybuildkit.registry.hosts import Target, insecure_from_env, resolve_target
from pybuildkit.registry.parallel import Cancelled, run_parallel
from pybuildkit.registry.progress import Progress, ProgressCallback, Status, emit
from pybuildkit.store import Store, StoredImage

__all__ = ["push", "DEFAULT_CHUNK_THRESHOLD", "DEFAULT_CHUNK_SIZE", "DEFAULT_PUSH_WORKERS", "mount_candidates"]

DEFAULT_CHUNK_THRESHOLD = 8 << 20
DEFAULT_CHUNK_SIZE = 8 << 20
DEFAULT_PUSH_WORKERS = 4


def push(
    store: Store,
    ref: str,
    dest: str | None = None,
    *,
    insecure_registries: Iterable[str] = (),
    progress: ProgressCallback | None = None,
    credentials: Credentials | None = None,
    chunk_threshold: int = DEFAULT_CHUNK_THRESHOLD,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_workers: int = DEFAULT_PUSH_WORKERS,
    mount_from: Iterable[str] = (),
) -> str:
    """Push the store's image `ref` to `dest` (default: `ref` itself, which must then name a
    registry repository); returns the manifest digest. Blobs larger than `chunk_threshold` go up
    in `chunk_size` pieces. `mount_from` adds repositories (on the destination registry) to try
    mounting blobs from, besides those the image is tagged with there."""
    if chunk_size <= 0 or chunk_threshold < 0:
        raise UsageError("chunk_size must be positive and chunk_threshold not negative")
    stored = store.image(ref)
    if dest is None and not _names_repository(ref, stored):
        raise UsageError(
            f"{ref!r} names an image in the store, not a repository to push to",
            hint="give a destination: pybuild push REF HOST/REPO[:TAG]",
        )
    dest_text = dest or ref
    target = resolve_target(dest_text, (*insecure_registries, *insecure_from_env()))
    if target.reference.digest and target.reference.digest != stored.digest:
        raise UsageError(f"cannot push image {stored.digest} as {dest_text}: the digests differ")
    sources = mount_candidates(stored, target, (ref, *mount_from))
    with RegistryClient(target, credentials=credentials) as client:
        pusher = _Pusher(store, client, target, progress, chunk_threshold, chunk_size, sources)
        return pusher.run(stored, max(1, max_workers))


def _names_repository(ref: str, stored: StoredImage) -> bool:
    """Whether `ref` is one of the image's tags (so it says where to push), not a digest or id."""
    try:
        parsed = parse_reference(ref)
    except ImageError:
        return False
    return parsed.tagged() in stored.tags or (parsed.digest == stored.digest and parsed.tag is not None)


def mount_candidates(stored: StoredImage, target: Target, names: Iterable[str]) -> tuple[str, ...]:
    """Repositories on `target`'s registry, other than its own, that may hold the image's blobs:
    the names given (in order), then the image's tags there."""
    out: list[str] = []
    for name in (*names, *stored.tags):
        try:
            parsed = parse_reference(name)
        except ImageError:
            continue
        if parsed.domain == target.domain and parsed.path != target.repository and parsed.path not in out:
            out.append(parsed.path)
    return tuple(out)


class _Pusher:
    def __init__(
        self,
        store: Store,
        client: RegistryClient,
        target: Target,
        progress: ProgressCallback | None,
        chunk_threshold: int,
        chunk_size: int,
        sources: tuple[str, ...],
    ) -> None:
        self.store = store
        self.client = client
        self.repo = target.repository
        self.target = target
        self.progress = progress
        self.threshold = chunk_threshold
        self.chunk = chunk_size
        self.sources = sources
        self.cancel = threading.Event()

    def event(self, status: str, desc: Descriptor, done: int = 0) -> None:
        emit(self.progress, Progress("push", status, desc.digest, done, desc.size, desc.media_type))

    def run(self, stored: StoredImage, workers: int) -> str:
        blobs: dict[str, Descriptor] = {}
        for desc in (stored.manifest.config, *stored.layers):
            blobs.setdefault(desc.digest, desc)
        run_parallel(
            self.push_blob,
            blobs.values(),
            workers=workers,
            cancel=self.cancel,
            thread_name="push",
            failure=f"pushing to {self.target.reference} failed",
        )
        data = self.store.read_blob(stored.digest)
        reference = self.target.reference.tag or stored.digest
        returned = self.client.put_manifest(self.repo, reference, data, stored.media_type)
        if returned and returned != stored.digest:
            raise RegistryError(f"registry {self.client.domain} recorded the manifest as {returned}, not {stored.digest}")
        emit(self.progress, Progress("push", Status.PUSHED, stored.digest, len(data), len(data), stored.media_type))
        return stored.digest

    def push_blob(self, desc: Descriptor) -> None:
        if not self.store.has_blob(desc.digest):
            raise RegistryError(f"cannot push: blob {desc.digest} is not in the store")
        if self.client.has_blob(self.repo, desc.digest, scopes=(f"repository:{self.repo}:pull,push",)):
            self.event(Status.EXISTS, desc, desc.size)
            return
        if self.cancel.is_set():
            raise Cancelled()
        source = self.sources[0] if self.sources else None
        location = self.client.start_upload(self.repo, mount=desc.digest if source else None, source=source)
        if location is None:
            self.event(Status.MOUNTED, desc, desc.size)
            return
        self.event(Status.TRANSFER, desc, 0)
        with self.store.open_blob(desc.digest) as handle:
            if desc.size <= self.threshold:
                data = handle.read()
                self.check_size(desc, len(data))
                self.client.finish_upload(self.repo, location, desc.digest, data)
            else:
                offset = 0
                while True:
                    chunk = handle.read(self.chunk)
                    if not chunk:
                        break
                    if self.cancel.is_set():
                        raise Cancelled()
                    location = self.client.upload_chunk(self.repo, location, chunk, offset)
                    offset += len(chunk)
                    self.event(Status.TRANSFER, desc, offset)
                self.check_size(desc, offset)
                self.client.finish_upload(self.repo, location, desc.digest)
        self.event(Status.DONE, desc, desc.size)

    def check_size(self, desc: Descriptor, size: int) -> None:
        if size != desc.size:
            raise RegistryError(f"cannot push: stored blob {desc.digest} has {size} bytes, its descriptor says {desc.size}")
