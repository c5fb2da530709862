"""Image manifests and indexes (OCI 1.1, read-compatible with Docker schema 2).

A store keeps manifest bytes verbatim (their digest is the image's identity); these values are the
parsed view, and `to_bytes()` is how pybuildkit writes new ones: canonical JSON, so the same image
content always gets the same manifest digest.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

import attrs

from pybuildkit.errors import ImageError
from pybuildkit.oci import mediatypes as mt
from pybuildkit.oci.canonical import canonical_json
from pybuildkit.oci.descriptor import Descriptor, as_json_object
from pybuildkit.oci.digest import sha256_digest
from pybuildkit.oci.frozenmap import FrozenMap, freeze_map
from pybuildkit.oci.jsonfields import get_int, get_list, get_obj, get_opt_str, get_str_map

__all__ = ["Manifest", "Index", "parse_manifest_or_index"]


def _descriptors(items: Iterable[Any], what: str) -> tuple[Descriptor, ...]:
    out = []
    for item in items:
        if not isinstance(item, Mapping):
            raise ImageError(f"{what}: every entry must be a descriptor object")
        out.append(Descriptor.from_json(item))
    return tuple(out)


def _envelope_json(doc: Manifest | Index, body: dict[str, Any]) -> dict[str, Any]:
    """The fields a manifest and an index share, around the document's own `body`, in spec order."""
    out: dict[str, Any] = {"schemaVersion": doc.schema_version}
    if doc.media_type:
        out["mediaType"] = doc.media_type
    if doc.artifact_type:
        out["artifactType"] = doc.artifact_type
    out.update(body)
    if doc.subject is not None:
        out["subject"] = doc.subject.to_json()
    if doc.annotations:
        out["annotations"] = dict(doc.annotations)
    return out


def _envelope_fields(
    obj: Mapping[str, Any], what: str, media_types: Collection[str], *, version_hint: str | None = None
) -> dict[str, Any]:
    """The shared fields of a manifest or an index as constructor arguments, checked."""
    version = get_int(obj, "schemaVersion", what)
    if version != 2:
        raise ImageError(f"{what}: unsupported schemaVersion {version}", hint=version_hint)
    media_type = get_opt_str(obj, "mediaType", what)
    if media_type is not None and media_type not in media_types:
        raise ImageError(f"{what}: unexpected mediaType {media_type!r}")
    subject = get_obj(obj, "subject", what)
    return {
        "media_type": media_type,
        "annotations": get_str_map(obj, "annotations", what),
        "subject": Descriptor.from_json(subject) if subject is not None else None,
        "artifact_type": get_opt_str(obj, "artifactType", what),
        "schema_version": version,
    }


@attrs.frozen
class Manifest:
    """One image for one platform: a config blob and an ordered list of layer blobs."""

    config: Descriptor
    layers: tuple[Descriptor, ...] = attrs.field(default=(), converter=tuple)
    media_type: str | None = mt.OCI_MANIFEST
    annotations: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=freeze_map)
    subject: Descriptor | None = None
    artifact_type: str | None = None
    schema_version: int = 2

    def to_json(self) -> dict[str, Any]:
        return _envelope_json(self, {"config": self.config.to_json(), "layers": [layer.to_json() for layer in self.layers]})

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    def digest(self) -> str:
        return sha256_digest(self.to_bytes())

    def descriptor(self, **annotations: str) -> Descriptor:
        """The descriptor of `to_bytes()`, for an index or a store record."""
        data = self.to_bytes()
        return Descriptor(
            media_type=self.media_type or mt.OCI_MANIFEST,
            digest=sha256_digest(data),
            size=len(data),
            annotations=annotations,
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | bytes | str) -> Manifest:
        what = "image manifest"
        obj = as_json_object(data, what)
        envelope = _envelope_fields(obj, what, mt.MANIFEST_TYPES, version_hint="only schema 2 manifests are supported")
        config = get_obj(obj, "config", what)
        if config is None:
            raise ImageError(f"{what}: required field 'config' is missing")
        return cls(
            config=Descriptor.from_json(config),
            layers=_descriptors(get_list(obj, "layers", what), what),
            **envelope,
        )


@attrs.frozen
class Index:
    """A list of manifests (one per platform), or an OCI layout's `index.json`."""

    manifests: tuple[Descriptor, ...] = attrs.field(default=(), converter=tuple)
    media_type: str | None = mt.OCI_INDEX
    annotations: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=freeze_map)
    subject: Descriptor | None = None
    artifact_type: str | None = None
    schema_version: int = 2

    def to_json(self) -> dict[str, Any]:
        return _envelope_json(self, {"manifests": [m.to_json() for m in self.manifests]})

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | bytes | str) -> Index:
        what = "image index"
        obj = as_json_object(data, what)
        envelope = _envelope_fields(obj, what, mt.INDEX_TYPES)
        return cls(manifests=_descriptors(get_list(obj, "manifests", what), what), **envelope)


def parse_manifest_or_index(data: bytes, media_type: str | None = None) -> Manifest | Index:
    """Parse bytes that may be either, trusting `mediaType` inside over the hint, then the shape."""
    obj = as_json_object(data, "manifest")
    kind = obj.get("mediaType") or media_type
    if kind in mt.INDEX_TYPES or (kind is None and "manifests" in obj):
        return Index.from_json(obj)
    return Manifest.from_json(obj)
