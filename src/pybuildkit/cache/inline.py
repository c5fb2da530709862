"""`type=inline`: the cache records of an image's own layers, carried by the image manifest.

BuildKit embeds its inline cache in the image config; here it is a manifest annotation, so the
config (and the image ID) stays what a build without it makes, and the layers the records point at
are the image's own: nothing else to push. `--cache-from type=registry,ref=IMAGE` (or a local OCI
layout of the image) then reads the records back from the manifest.
"""

from __future__ import annotations

from collections.abc import Sequence

from pybuildkit.cache.artifact import CacheArtifact
from pybuildkit.errors import ImageError
from pybuildkit.oci.canonical import canonical_json, loads_json_object
from pybuildkit.oci.descriptor import Descriptor
from pybuildkit.oci.digest import validate_digest
from pybuildkit.oci.manifest import Manifest
from pybuildkit.store import CacheRecord, Store

__all__ = ["INLINE_ANNOTATION", "inline_annotations", "inline_artifact"]

INLINE_ANNOTATION = "vnd.pybuildkit.cache.inline.v1"


def inline_annotations(store: Store, keys: Sequence[str], layers: Sequence[Descriptor]) -> dict[str, str]:
    """The manifest annotation for the records under `keys` whose layer is one of `layers`."""
    in_image = {layer.digest for layer in layers}
    entries = {}
    for key in keys:
        record = store.get_cache(key)
        if record is None or record.layer is None or record.layer.digest not in in_image or not record.diff_id:
            continue
        entries[key] = {"layer": record.layer.digest, "diff_id": record.diff_id, "created": record.metadata.get("created")}
    if not entries:
        return {}
    return {INLINE_ANNOTATION: canonical_json({"version": 1, "records": entries}).decode("utf-8")}


def inline_artifact(manifest: Manifest) -> CacheArtifact | None:
    """The records an image manifest carries inline, or None if it carries none."""
    text = manifest.annotations.get(INLINE_ANNOTATION)
    if text is None:
        return None
    obj = loads_json_object(text, what="inline cache annotation")
    raw = obj.get("records", {})
    if obj.get("version") != 1 or not isinstance(raw, dict):
        raise ImageError("inline cache annotation: unsupported version or malformed records")
    layers = {layer.digest: layer for layer in manifest.layers}
    records = []
    for key, entry in raw.items():
        validate_digest(key)
        if not isinstance(entry, dict) or entry.get("layer") not in layers or not isinstance(entry.get("diff_id"), str):
            raise ImageError(f"inline cache annotation: record {key} does not name one of the image's layers")
        metadata = {"created": entry["created"]} if isinstance(entry.get("created"), str) else {}
        records.append(CacheRecord(key=key, layer=layers[entry["layer"]], diff_id=validate_digest(entry["diff_id"]), metadata=metadata))
    return CacheArtifact(records=records)
