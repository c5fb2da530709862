"""`pull`: a registry image into the store, every byte verified before anything is recorded.

Order matters for what a failure leaves behind. The manifest (and, for an index, the chosen
platform's manifest) and the config are fetched into memory and checked first; layers stream
concurrently into *uncommitted* store ingests, each hashed and sized as it arrives. Only when every
blob has verified are the blobs committed and the manifest recorded under its tag: a registry that
serves one wrong byte leaves no blob, no image and no tag behind.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import httpx

from pybuildkit.errors import ImageError, RegistryError
from pybuildkit.oci import mediatypes as mt
from pybuildkit.oci.config import Image
from pybuildkit.oci.descriptor import Descriptor, Platform
from pybuildkit.oci.digest import sha256_digest
from pybuildkit.oci.manifest import Index, Manifest, parse_manifest_or_index
from pybuildkit.registry.client import RegistryClient
from pybuildkit.registry.credentials import Credentials
from pybuildkit.registry.hosts import Target, insecure_from_env, resolve_target
from pybuildkit.registry.platforms import as_platform, select_manifest
from pybuildkit.registry.parallel import Cancelled, run_parallel
from pybuildkit.registry.progress import Progress, ProgressCallback, Status, emit
from pybuildkit.store import Ingest, Store, StoredImage

__all__ = ["pull", "DEFAULT_PULL_WORKERS", "MAX_CONFIG_SIZE"]

DEFAULT_PULL_WORKERS = 4
MAX_CONFIG_SIZE = 16 << 20
_CHUNK = 1 << 20


def pull(
    store: Store,
    ref: str,
    *,
    platform: str | Platform | None = None,
    insecure_registries: Iterable[str] = (),
    progress: ProgressCallback | None = None,
    credentials: Credentials | None = None,
    max_workers: int = DEFAULT_PULL_WORKERS,
) -> StoredImage:
    """Pull `ref` (Docker-normalised: `busybox` is docker.io/library/busybox:latest) into `store`.

    From an index, the manifest for `platform` (default linux/amd64) is taken. Blobs the store
    already holds are not downloaded. The image is tagged with the full name (`host/repo:tag`)
    unless `ref` pins only a digest. Credentials default to the config files' entry for the host.
    """
    target = resolve_target(ref, (*insecure_registries, *insecure_from_env()))
    wanted = as_platform(platform)  # a bad --platform fails before any request
    with RegistryClient(target, credentials=credentials) as client:
        return _Puller(store, client, target, progress, max(1, max_workers)).run(wanted)


class _Puller:
    def __init__(self, store: Store, client: RegistryClient, target: Target, progress: ProgressCallback | None, workers: int) -> None:
        self.store = store
        self.client = client
        self.target = target
        self.repo = target.repository
        self.progress = progress
        self.workers = workers
        self.cancel = threading.Event()

    def event(self, status: str, desc: Descriptor, done: int = 0) -> None:
        emit(self.progress, Progress("pull", status, desc.digest, done, desc.size, desc.media_type))

    def bad(self, what: str) -> RegistryError:
        return RegistryError(f"registry {self.client.domain} served {what} for {self.target.reference}")

    def run(self, platform: str | Platform | None) -> StoredImage:
        data, manifest = self.resolve(platform)
        config_bytes, config = self.fetch_config(manifest.config)
        if len(config.rootfs.diff_ids) != len(manifest.layers):
            raise self.bad(
                f"an image whose config lists {len(config.rootfs.diff_ids)} diff_ids for {len(manifest.layers)} layers"
            )
        ingests = self.fetch_layers(manifest.layers)
        try:
            with self.store.lease():
                self.store.put_bytes(config_bytes, media_type=manifest.config.media_type, expected_digest=manifest.config.digest)
                for desc, ingest in ingests:
                    ingest.commit(desc.digest, media_type=desc.media_type, expected_size=desc.size)
                tags = [self.target.reference.tagged()] if self.target.reference.tag else []
                stored = self.store.add_manifest(data, tags=tags)
        finally:
            for _, ingest in ingests:
                ingest.abort()
        emit(self.progress, Progress("pull", Status.STORED, stored.digest, stored.size, stored.size, stored.media_type))
        return stored

    # -- manifest ------------------------------------------------------------------------------

    def resolve(self, platform: str | Platform | None) -> tuple[bytes, Manifest]:
        reference = self.target.reference
        data, content_type, claimed = self.client.get_manifest(self.repo, self.target.manifest_ref)
        digest = sha256_digest(data)
        if reference.digest and reference.digest != digest:
            raise self.bad(f"a manifest whose digest is {digest}, not the requested {reference.digest}")
        if claimed and claimed.startswith("sha256:") and claimed != digest:
            raise self.bad(f"a manifest whose content hashes to {digest} but is labelled {claimed}")
        parsed = self.parse(data, content_type)
        if isinstance(parsed, Index):
            chosen = select_manifest(parsed, platform)
            data, content_type, _ = self.client.get_manifest(self.repo, chosen.digest)
            if sha256_digest(data) != chosen.digest or len(data) != chosen.size:
                raise self.bad(f"a platform manifest that does not match its index entry {chosen.digest}")
            parsed = self.parse(data, content_type or chosen.media_type)
            if isinstance(parsed, Index):
                raise self.bad("an index nested in an index (not supported)")
        emit(self.progress, Progress("pull", Status.RESOLVED, sha256_digest(data), len(data), len(data), parsed.media_type or ""))
        return data, parsed

    def parse(self, data: bytes, content_type: str | None) -> Manifest | Index:
        try:
            parsed = parse_manifest_or_index(data, content_type)
        except ImageError as exc:
            raise self.bad(f"an invalid manifest ({exc.message})") from None
        if isinstance(parsed, Manifest) and parsed.config.media_type not in mt.CONFIG_TYPES:
            raise self.bad(f"an artifact, not a container image (config type {parsed.config.media_type})")
        return parsed

    # -- blobs ---------------------------------------------------------------------------------

    def present(self, desc: Descriptor) -> bool:
        if not self.store.has_blob(desc.digest):
            return False
        return self.store.blob_path(desc.digest).stat().st_size == desc.size

    def fetch_config(self, desc: Descriptor) -> tuple[bytes, Image]:
        if desc.size > MAX_CONFIG_SIZE:
            raise self.bad(f"an image config of {desc.size} bytes (limit {MAX_CONFIG_SIZE})")
        if self.present(desc):
            self.event(Status.EXISTS, desc, desc.size)
            data = self.store.read_blob(desc.digest)
        else:
            body = bytearray()
            self.event(Status.TRANSFER, desc, 0)
            with self.client.open_blob(self.repo, desc.digest) as response:
                try:
                    for chunk in response.iter_raw(_CHUNK):
                        body += chunk
                        if len(body) > desc.size:
                            break
                except httpx.TransportError as exc:
                    raise self.client.unreachable(exc) from None
            data = bytes(body)
        if len(data) != desc.size or sha256_digest(data) != desc.digest:
            raise self.bad(f"a config blob that does not match its digest {desc.digest}")
        self.event(Status.DONE, desc, desc.size)
        try:
            return data, Image.from_json(data)
        except ImageError as exc:
            raise self.bad(f"an invalid image config ({exc.message})") from None

    def fetch_layers(self, layers: tuple[Descriptor, ...]) -> list[tuple[Descriptor, Ingest]]:
        """Download every missing layer into an open ingest; all verified, or none kept."""
        wanted: dict[str, Descriptor] = {}
        for desc in layers:
            if desc.digest in wanted:
                continue
            if self.present(desc):
                self.event(Status.EXISTS, desc, desc.size)
            else:
                wanted[desc.digest] = desc
        return run_parallel(
            lambda desc: (desc, self.download(desc)),
            wanted.values(),
            workers=self.workers,
            cancel=self.cancel,
            thread_name="pull",
            failure=f"pulling {self.target.reference} failed",
            discard=lambda done: done[1].abort(),
        )

    def download(self, desc: Descriptor) -> Ingest:
        ingest = self.store.open_ingest()
        try:
            self.event(Status.TRANSFER, desc, 0)
            with self.client.open_blob(self.repo, desc.digest) as response:
                try:
                    for chunk in response.iter_raw(_CHUNK):
                        if self.cancel.is_set():
                            raise Cancelled()
                        ingest.write(chunk)
                        if ingest.size > desc.size:
                            break
                        self.event(Status.TRANSFER, desc, ingest.size)
                except httpx.TransportError as exc:
                    raise self.client.unreachable(exc) from None
            if ingest.size != desc.size or ingest.digest != desc.digest:
                raise self.bad(
                    f"blob {desc.digest} with wrong content (got {ingest.size} bytes hashing to {ingest.digest},"
                    f" expected {desc.size} bytes): digest mismatch"
                )
            self.event(Status.DONE, desc, desc.size)
            return ingest
        except BaseException:
            ingest.abort()
            raise
