"""OCI content descriptors and platforms: how one blob points at another.

Field names on the wire are the OCI ones (`mediaType`, `artifactType`, `os.version`); empty
optional fields are omitted, as containerd, BuildKit and skopeo write them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pybuildkit.errors import ImageError
from pybuildkit.oci.canonical import canonical_json, loads_json_object
from pybuildkit.oci.digest import validate_digest
from pybuildkit.oci.frozenmap import FrozenMap, freeze_map
from pybuildkit.oci.jsonfields import get_int, get_list, get_obj, get_opt_str, get_str, get_str_list, get_str_map

__all__ = ["Platform", "Descriptor", "as_json_object"]


def as_json_object(data: Mapping[str, Any] | bytes | str, what: str) -> dict[str, Any]:
    """Accept an already-parsed object or raw JSON text/bytes."""
    if isinstance(data, (bytes, bytearray, str)):
        return loads_json_object(bytes(data) if isinstance(data, bytearray) else data, what=what)
    if not isinstance(data, Mapping):
        raise ImageError(f"{what} must be a JSON object")
    return dict(data)


@attrs.frozen
class Platform:
    """The platform an image runs on (`architecture`, `os`, optional `variant`, `os.version`...)."""

    architecture: str
    os: str
    variant: str | None = None
    os_version: str | None = None
    os_features: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        if self.variant:
            out["variant"] = self.variant
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | bytes | str) -> Platform:
        obj = as_json_object(data, "platform")
        return cls(
            architecture=get_str(obj, "architecture", "platform"),
            os=get_str(obj, "os", "platform"),
            variant=get_opt_str(obj, "variant", "platform"),
            os_version=get_opt_str(obj, "os.version", "platform"),
            os_features=get_str_list(obj, "os.features", "platform") or (),
        )

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text


def _check_digest(_: Any, __: Any, value: str) -> None:
    validate_digest(value)


def _check_size(_: Any, __: Any, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ImageError(f"invalid descriptor size: {value!r}")


@attrs.frozen
class Descriptor:
    """A typed, sized, digested reference to a blob."""

    media_type: str
    digest: str = attrs.field(validator=_check_digest)
    size: int = attrs.field(validator=_check_size)
    annotations: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=freeze_map)
    platform: Platform | None = None
    urls: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    artifact_type: str | None = None
    data: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.urls:
            out["urls"] = list(self.urls)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.data is not None:
            out["data"] = self.data
        if self.platform is not None:
            out["platform"] = self.platform.to_json()
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        return out

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | bytes | str) -> Descriptor:
        what = "descriptor"
        obj = as_json_object(data, what)
        platform = get_obj(obj, "platform", what)
        return cls(
            media_type=get_str(obj, "mediaType", what),
            digest=get_str(obj, "digest", what),
            size=get_int(obj, "size", what),
            annotations=get_str_map(obj, "annotations", what),
            platform=Platform.from_json(platform) if platform is not None else None,
            urls=tuple(str(u) for u in get_list(obj, "urls", what)),
            artifact_type=get_opt_str(obj, "artifactType", what),
            data=get_opt_str(obj, "data", what),
        )

    def with_annotations(self, **more: str) -> Descriptor:
        """A copy with extra annotations (Python names can't hold dots: pass a dict via evolve for those)."""
        merged = dict(self.annotations)
        merged.update(more)
        return attrs.evolve(self, annotations=merged)
