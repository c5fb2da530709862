"""pybuildkit.oci: OCI image-spec data as frozen values, with no I/O.

Descriptors, manifests, indexes, image configs, media types, canonical JSON, digests and image
references. Everything here is pure so the planner and tests can use it without a store.
"""

from __future__ import annotations

from pybuildkit.oci import mediatypes
from pybuildkit.oci.canonical import canonical_json, loads_json_object
from pybuildkit.oci.config import Healthcheck, History, Image, ImageConfig, RootFS
from pybuildkit.oci.descriptor import Descriptor, Platform
from pybuildkit.oci.digest import digest_hex, is_digest, is_hex_prefix, sha256_digest, short_id, validate_digest
from pybuildkit.oci.frozenmap import FrozenMap
from pybuildkit.oci.manifest import Index, Manifest, parse_manifest_or_index
from pybuildkit.oci.reference import Reference, parse_reference

__all__ = [
    "mediatypes",
    "canonical_json",
    "loads_json_object",
    "Healthcheck",
    "History",
    "Image",
    "ImageConfig",
    "RootFS",
    "Descriptor",
    "Platform",
    "digest_hex",
    "is_digest",
    "is_hex_prefix",
    "sha256_digest",
    "short_id",
    "validate_digest",
    "FrozenMap",
    "Index",
    "Manifest",
    "parse_manifest_or_index",
    "Reference",
    "parse_reference",
]
