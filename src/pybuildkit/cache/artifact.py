"""The exported cache as data: an OCI artifact whose config lists records and cache mounts.

An exported cache is one OCI image manifest with `artifactType` CACHE_ARTIFACT_TYPE. Its config
blob (CACHE_CONFIG_TYPE) holds every record (key -> layer descriptor, diff_id, created, key
inputs) and every exported cache mount (mount id -> tar layer); its `layers` are exactly the blobs
those reference, so any OCI tool (skopeo, a registry, `cp -r` of a layout) moves the whole cache
and a registry keeps every blob alive. No I/O here: the transfer code reads and writes bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from pybuildkit.errors import ImageError
from pybuildkit.oci.canonical import canonical_json, loads_json_object
from pybuildkit.oci.descriptor import Descriptor
from pybuildkit.oci.digest import sha256_digest, validate_digest
from pybuildkit.oci.manifest import Manifest
from pybuildkit.store.records import CacheRecord

__all__ = [
    "CACHE_ARTIFACT_TYPE",
    "CACHE_CONFIG_TYPE",
    "CACHE_FORMAT_VERSION",
    "MOUNT_ID_ANNOTATION",
    "MountLayer",
    "CacheArtifact",
    "check_manifest",
    "merge",
]

CACHE_ARTIFACT_TYPE = "application/vnd.pybuildkit.cache.v1+json"
CACHE_CONFIG_TYPE = "application/vnd.pybuildkit.cache.config.v1+json"
CACHE_FORMAT_VERSION = 1
MOUNT_ID_ANNOTATION = "vnd.pybuildkit.cache.mount.id"


@attrs.frozen
class MountLayer:
    """The content of one `RUN --mount=type=cache` directory, as a tar layer blob."""

    id: str
    layer: Descriptor
    diff_id: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "layer": self.layer.to_json(), "diff_id": self.diff_id}

    @classmethod
    def from_json(cls, obj: Any) -> MountLayer:
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not isinstance(obj.get("layer"), dict):
            raise ImageError("cache config: a mount entry needs an id and a layer")
        diff_id = obj.get("diff_id")
        if not isinstance(diff_id, str):
            raise ImageError(f"cache config: mount {obj['id']!r} has no diff_id")
        validate_digest(diff_id)
        return cls(id=obj["id"], layer=Descriptor.from_json(obj["layer"]), diff_id=diff_id)


def _record_json(record: CacheRecord) -> dict[str, Any]:
    return loads_json_object(record.to_bytes(), what=f"cache record {record.key!r}")


@attrs.frozen
class CacheArtifact:
    """Records and cache mounts to export or just imported; `config_bytes`/`manifest` are the wire form."""

    records: tuple[CacheRecord, ...] = attrs.field(default=(), converter=tuple)
    mounts: tuple[MountLayer, ...] = attrs.field(default=(), converter=tuple)

    def blobs(self) -> tuple[Descriptor, ...]:
        """Every blob the artifact carries, each once, records' first, in a stable order."""
        seen: dict[str, Descriptor] = {}
        for record in sorted(self.records, key=lambda r: r.key):
            if record.layer is not None:
                seen.setdefault(record.layer.digest, Descriptor(record.layer.media_type, record.layer.digest, record.layer.size))
        for mount in sorted(self.mounts, key=lambda m: m.id):
            seen.setdefault(
                mount.layer.digest,
                Descriptor(mount.layer.media_type, mount.layer.digest, mount.layer.size, annotations={MOUNT_ID_ANNOTATION: mount.id}),
            )
        return tuple(seen.values())

    def config_bytes(self) -> bytes:
        return canonical_json(
            {
                "version": CACHE_FORMAT_VERSION,
                "records": {r.key: _record_json(r) for r in self.records},
                "mounts": [m.to_json() for m in sorted(self.mounts, key=lambda m: m.id)],
            }
        )

    def manifest(self, extra_blobs: Sequence[Descriptor] = ()) -> Manifest:
        """The artifact manifest; `extra_blobs` are further blobs records name in `blobs` (kept alive too)."""
        config = self.config_bytes()
        layers = list(self.blobs())
        known = {d.digest for d in layers}
        layers.extend(d for d in extra_blobs if d.digest not in known)
        return Manifest(
            config=Descriptor(CACHE_CONFIG_TYPE, sha256_digest(config), len(config)),
            layers=tuple(layers),
            artifact_type=CACHE_ARTIFACT_TYPE,
        )

    @classmethod
    def from_config(cls, data: bytes) -> CacheArtifact:
        obj = loads_json_object(data, what="cache config")
        version = obj.get("version")
        if version != CACHE_FORMAT_VERSION:
            raise ImageError(
                f"cache config has format version {version!r}; this pybuildkit reads version {CACHE_FORMAT_VERSION}",
                hint="export the cache again with this version",
            )
        raw_records = obj.get("records", {})
        raw_mounts = obj.get("mounts", [])
        if not isinstance(raw_records, dict) or not isinstance(raw_mounts, list):
            raise ImageError("cache config: 'records' must be an object and 'mounts' a list")
        records = []
        for key, value in raw_records.items():
            validate_digest(key)
            if not isinstance(value, dict):
                raise ImageError(f"cache config: record {key!r} must be an object")
            records.append(CacheRecord.from_bytes(key, canonical_json(value)))
        return cls(records=records, mounts=[MountLayer.from_json(m) for m in raw_mounts])


def check_manifest(manifest: Manifest) -> None:
    """Refuse a manifest that is not a pybuildkit cache (someone pointed --cache-from at an image)."""
    if manifest.artifact_type != CACHE_ARTIFACT_TYPE or manifest.config.media_type != CACHE_CONFIG_TYPE:
        raise ImageError(
            f"not a pybuildkit cache: artifactType {manifest.artifact_type!r}, config {manifest.config.media_type!r}",
            hint="--cache-from reads what --cache-to wrote",
        )


def merge(artifacts: Iterable[CacheArtifact]) -> CacheArtifact:
    """One artifact with every record and mount of `artifacts`; the first one named wins."""
    records: dict[str, CacheRecord] = {}
    mounts: dict[str, MountLayer] = {}
    for artifact in artifacts:
        for record in artifact.records:
            records.setdefault(record.key, record)
        for mount in artifact.mounts:
            mounts.setdefault(mount.id, mount)
    return CacheArtifact(records=tuple(records.values()), mounts=tuple(mounts.values()))
