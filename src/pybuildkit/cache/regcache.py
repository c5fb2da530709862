"""A cache artifact in a distribution registry, through the registry package's client.

The same manifest a local cache directory holds is pushed under `ref`'s tag: blobs the registry
already has are skipped (HEAD), large ones go up in chunks, the manifest last, so a reader never
sees a manifest whose blobs are missing. Reading verifies every blob as it lands in the store.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import httpx

from pybuildkit.errors import ImageError, RegistryError
from pybuildkit.oci import mediatypes as mt
from pybuildkit.oci.descriptor import Descriptor
from pybuildkit.oci.digest import sha256_digest
from pybuildkit.registry import RegistryClient, insecure_from_env, resolve_target

__all__ = ["RegistryCache", "CHUNK_SIZE"]

CHUNK_SIZE = 8 << 20


class _Stream:
    """A response body as a file-like `read(n)`: what the store's ingest copies from."""

    def __init__(self, response: httpx.Response, client: RegistryClient) -> None:
        self._chunks = response.iter_raw(1 << 20)
        self._client = client
        self._buffer = b""

    def read(self, n: int = -1) -> bytes:
        try:
            while n < 0 or len(self._buffer) < n:
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self._buffer += chunk
        except httpx.TransportError as exc:
            raise self._client.unreachable(exc) from None
        if n < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out


class RegistryCache:
    """The cache under `ref` (HOST/REPO:TAG) in a registry; use as a context manager."""

    def __init__(self, ref: str, *, insecure_registries: Iterable[str] = ()) -> None:
        self.target = resolve_target(ref, (*insecure_registries, *insecure_from_env()))
        self.repo = self.target.repository
        self.tag = self.target.reference.tag or "latest"
        self.client = RegistryClient(self.target)

    def __enter__(self) -> RegistryCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    @contextlib.contextmanager
    def locked(self, *, exclusive: bool) -> Iterator[RegistryCache]:
        """Registries serialise manifest writes themselves: nothing to hold."""
        yield self

    def has_blob(self, desc: Descriptor) -> bool:
        return self.client.has_blob(self.repo, desc.digest, scopes=(f"repository:{self.repo}:pull,push",))

    def put_blob(self, desc: Descriptor, source: BinaryIO) -> None:
        location = self.client.start_upload(self.repo)
        assert location is not None
        if desc.size <= CHUNK_SIZE:
            data = source.read()
            if len(data) != desc.size:
                raise RegistryError(f"cannot push cache blob {desc.digest}: {len(data)} bytes, descriptor says {desc.size}")
            self.client.finish_upload(self.repo, location, desc.digest, data)
            return
        offset = 0
        for chunk in iter(lambda: source.read(CHUNK_SIZE), b""):
            location = self.client.upload_chunk(self.repo, location, chunk, offset)
            offset += len(chunk)
        self.client.finish_upload(self.repo, location, desc.digest)

    @contextlib.contextmanager
    def open_blob(self, desc: Descriptor) -> Iterator[BinaryIO]:
        with self.client.open_blob(self.repo, desc.digest) as response:
            yield _Stream(response, self.client)  # type: ignore[misc]

    def read_small(self, desc: Descriptor) -> bytes:
        with self.open_blob(desc) as stream:
            data = stream.read(desc.size + 1)
        if len(data) != desc.size or sha256_digest(data) != desc.digest:
            raise ImageError(f"registry {self.target.domain}: cache blob {desc.digest} does not verify")
        return data

    def get_manifest(self) -> bytes:
        data, _content_type, digest = self.client.get_manifest(self.repo, self.tag)
        if digest and digest != sha256_digest(data):
            raise ImageError(f"registry {self.target.domain}: manifest {self.repo}:{self.tag} does not match its digest {digest}")
        return data

    def put_manifest(self, data: bytes, desc: Descriptor) -> None:
        returned = self.client.put_manifest(self.repo, self.tag, data, desc.media_type or mt.OCI_MANIFEST)
        if returned and returned != desc.digest:
            raise RegistryError(f"registry {self.target.domain} recorded the cache manifest as {returned}, not {desc.digest}")

    def collect(self) -> tuple[int, int]:
        """A registry collects unreferenced blobs by its own GC."""
        return 0, 0
