"""The values the store hands out: images, cache records, and reports of rmi, gc and check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pybuildkit.oci.canonical import canonical_json, loads_json_object
from pybuildkit.oci.config import Image
from pybuildkit.oci.descriptor import Descriptor
from pybuildkit.oci.digest import validate_digest
from pybuildkit.oci.frozenmap import FrozenMap, freeze_map
from pybuildkit.oci.manifest import Manifest

__all__ = ["StoredImage", "ImageSummary", "CacheRecord", "CacheEntry", "RemoveResult", "GCReport", "CheckReport"]


@attrs.frozen
class StoredImage:
    """An image the store holds: its manifest (identity), its parsed config, and its tags."""

    digest: str
    media_type: str
    size: int
    manifest: Manifest
    config: Image
    tags: tuple[str, ...] = ()

    @property
    def config_digest(self) -> str:
        return self.manifest.config.digest

    @property
    def descriptor(self) -> Descriptor:
        return Descriptor(media_type=self.media_type, digest=self.digest, size=self.size)

    @property
    def layers(self) -> tuple[Descriptor, ...]:
        return self.manifest.layers


@attrs.frozen
class ImageSummary:
    """One row of `pybuild images`: sizes are the manifest's config plus layers, as stored."""

    digest: str
    config_digest: str
    created: str | None
    size: int
    tags: tuple[str, ...]


def _freeze_opt(value: Mapping[str, Any] | None) -> FrozenMap[str, Any] | None:
    return None if value is None else freeze_map(value)


def _check_blobs(_: Any, __: Any, value: tuple[str, ...]) -> None:
    for digest in value:
        validate_digest(digest)


@attrs.frozen
class CacheRecord:
    """What a build step produced, filed under its cache key.

    `layer` (with its uncompressed `diff_id`) is the step's layer blob, or None for a config-only
    step; `config` is any JSON object (e.g. the image config after the step); `metadata` is free
    JSON for the executor; `blobs` lists further digests GC must keep alive for this record.
    """

    key: str
    layer: Descriptor | None = None
    diff_id: str | None = None
    config: FrozenMap[str, Any] | None = attrs.field(default=None, converter=_freeze_opt)
    metadata: FrozenMap[str, Any] = attrs.field(factory=FrozenMap, converter=freeze_map)
    blobs: tuple[str, ...] = attrs.field(default=(), converter=tuple, validator=_check_blobs)

    def refs(self) -> tuple[str, ...]:
        """Every blob digest this record needs, the layer's first."""
        out = [self.layer.digest] if self.layer is not None else []
        out.extend(d for d in self.blobs if d not in out)
        return tuple(out)

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "layer": self.layer.to_json() if self.layer is not None else None,
                "diff_id": self.diff_id,
                "config": dict(self.config) if self.config is not None else None,
                "metadata": dict(self.metadata),
                "blobs": list(self.blobs),
            }
        )

    @classmethod
    def from_bytes(cls, key: str, data: bytes | str) -> CacheRecord:
        obj = loads_json_object(data, what=f"cache record {key!r}")
        layer = obj.get("layer")
        return cls(
            key=key,
            layer=Descriptor.from_json(layer) if layer is not None else None,
            diff_id=obj.get("diff_id"),
            config=obj.get("config"),
            metadata=obj.get("metadata") or {},
            blobs=obj.get("blobs") or (),
        )


@attrs.frozen
class CacheEntry:
    """A cache record's bookkeeping, for pruning: when it was filed and last hit, and its blobs."""

    key: str
    created: float
    last_used: float
    blobs: tuple[str, ...] = ()
    diff_id: str | None = None


@attrs.frozen
class RemoveResult:
    """What `rmi` did: tags removed, and image records deleted (their blobs wait for GC)."""

    untagged: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()


@attrs.frozen
class GCReport:
    removed_blobs: tuple[str, ...] = ()
    freed_bytes: int = 0
    kept_blobs: int = 0
    removed_temp_files: int = 0


@attrs.frozen
class CheckReport:
    """`check()`'s findings; `ok` when `problems` is empty."""

    blobs: int = 0
    images: int = 0
    tags: int = 0
    cache_records: int = 0
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems
