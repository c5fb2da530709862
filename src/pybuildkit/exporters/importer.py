"""Bring images into the store: docker-archive and oci-archive tars (`pybuild load`), and OCI
layout directories (`oci-layout://DIR[:tag]`, which a Dockerfile's FROM can name).

Every blob is verified against its descriptor (digest and size) while it streams into the store,
and each layer against the config's diff_id, so nothing unverified is ever recorded as an image.
An OCI import keeps the manifest bytes verbatim: the image keeps its digest. A legacy
docker-archive has no manifest, so one is written (uncompressed OCI layers): the config digest,
Docker's image ID, is what survives.
"""

from __future__ import annotations

import json
import platform as host
import re
from collections.abc import Sequence
from pathlib import Path

from pybuildkit.errors import ImageError, PybuildkitError
from pybuildkit.oci import mediatypes as mt
from pybuildkit.oci.canonical import loads_json_object
from pybuildkit.oci.config import Image
from pybuildkit.oci.descriptor import Descriptor, Platform
from pybuildkit.oci.digest import digest_hex, is_digest, sha256_digest
from pybuildkit.oci.manifest import Index, Manifest, parse_manifest_or_index
from pybuildkit.oci.reference import parse_reference
from pybuildkit.store.compression import sniff_compression
from pybuildkit.store.records import StoredImage
from pybuildkit.store.store import Store, normalise_tag
from pybuildkit.exporters.sources import ArchiveSource, DirSource, TarSource

__all__ = [
    "load_archive",
    "import_oci_layout",
    "import_oci_source",
    "parse_oci_layout_ref",
    "host_platform",
    "OCI_LAYOUT_SCHEME",
]

OCI_LAYOUT_SCHEME = "oci-layout://"
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")


def host_platform() -> Platform:
    """The platform this machine runs natively (linux/amd64 on x86-64)."""
    machine = host.machine().lower()
    return Platform(architecture=_ARCH.get(machine, machine), os="linux", variant="v7" if machine == "armv7l" else None)


def load_archive(store: Store, path: Path | str, *, name: str | None = None) -> list[StoredImage]:
    """Import every image of a docker-archive or oci-archive tar, with the tags it records.

    `name` gives a repository to OCI entries that carry only a bare tag in `ref.name`.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    with TarSource(path) as source, store.lease():
        if source.exists("oci-layout") and source.exists("index.json"):
            return _load_oci(store, source, ref_name=None, name=name, platform=None)
        if source.exists("manifest.json"):
            return _load_docker(store, source)
    raise ImageError(f"{path} is neither a docker-archive nor an oci-archive", hint="expected manifest.json or oci-layout + index.json inside")


def import_oci_layout(
    store: Store,
    directory: Path | str,
    ref_name: str | None = None,
    *,
    digest: str | None = None,
    platform: Platform | None = None,
    keep_tags: bool = False,
    name: str | None = None,
) -> StoredImage:
    """Import one image from an OCI layout directory: the entry whose ref.name is `ref_name`, or
    whose digest is `digest`, or the only entry. From an index, the `platform` (default: this
    host's) manifest is taken. The image is left untagged unless `keep_tags` (a build's base image
    must not overwrite the user's tags behind their back)."""
    source = DirSource(Path(directory))
    with store.lease():
        images = _load_oci(
            store, source, ref_name=ref_name, name=name, platform=platform, digest=digest, single=True, keep_tags=keep_tags
        )
    return images[0]


def parse_oci_layout_ref(spec: str) -> tuple[Path, str | None, str | None]:
    """`oci-layout://DIR[:tag][@sha256:...]` -> (DIR, tag, digest)."""
    if not spec.startswith(OCI_LAYOUT_SCHEME):
        raise ImageError(f"not an oci-layout reference: {spec!r}", hint="expected oci-layout://DIR[:tag]")
    rest = spec[len(OCI_LAYOUT_SCHEME) :]
    digest = None
    if "@" in rest:
        rest, _, digest = rest.rpartition("@")
        if not is_digest(digest):
            raise ImageError(f"invalid digest in {spec!r}")
    tag = None
    head, colon, tail = rest.rpartition(":")
    if colon and head and "/" not in tail and _TAG_RE.match(tail):
        rest, tag = head, tail
    if not rest:
        raise ImageError(f"missing directory in {spec!r}")
    return Path(rest), tag, digest


def import_oci_source(store: Store, spec: str, *, platform: Platform | None = None) -> StoredImage:
    """The FROM hook: import `oci-layout://DIR[:tag][@digest]` into the store (untagged)."""
    directory, tag, digest = parse_oci_layout_ref(spec)
    return import_oci_layout(store, directory, tag, digest=digest, platform=platform)


# -- OCI ---------------------------------------------------------------------------------------


def _blob_name(digest: str) -> str:
    return f"blobs/sha256/{digest_hex(digest)}"


def _read_verified(source: ArchiveSource, desc: Descriptor) -> bytes:
    data = source.read_small(_blob_name(desc.digest))
    if len(data) != desc.size:
        raise ImageError(f"blob {desc.digest}: size {len(data)} does not match its descriptor ({desc.size})")
    actual = sha256_digest(data)
    if actual != desc.digest:
        raise ImageError(f"blob {desc.digest} is corrupt: its content hashes to {actual}")
    return data


def _copy_blob(store: Store, source: ArchiveSource, desc: Descriptor) -> None:
    name = _blob_name(desc.digest)
    if not source.exists(name):
        raise ImageError(f"blob {desc.digest} ({desc.media_type}) is missing from the archive")
    with source.open(name) as stream:
        store.put_stream(stream, media_type=desc.media_type, expected_digest=desc.digest, expected_size=desc.size)


def _select_platform(manifests: Sequence[Descriptor], wanted: Platform) -> Descriptor:
    candidates = [m for m in manifests if m.media_type in mt.MANIFEST_TYPES or m.media_type in mt.INDEX_TYPES]
    for m in candidates:
        p = m.platform
        if p is not None and p.os == wanted.os and p.architecture == wanted.architecture:
            if wanted.variant is None or p.variant in (None, wanted.variant):
                return m
    unlabelled = [m for m in candidates if m.platform is None]
    if len(unlabelled) == 1:
        return unlabelled[0]
    offered = ", ".join(str(m.platform) for m in candidates if m.platform is not None) or "none"
    raise ImageError(f"no manifest for platform {wanted} in the index (offered: {offered})")


def _import_manifest(store: Store, source: ArchiveSource, desc: Descriptor, platform: Platform, tags: list[str], depth: int = 0) -> StoredImage:
    if depth > 4:
        raise ImageError("image indexes nest too deeply")
    data = _read_verified(source, desc)
    parsed = parse_manifest_or_index(data, desc.media_type)
    if isinstance(parsed, Index):
        child = _select_platform(parsed.manifests, platform)
        return _import_manifest(store, source, child, platform, tags, depth + 1)
    assert isinstance(parsed, Manifest)
    for blob in (parsed.config, *parsed.layers):
        _copy_blob(store, source, blob)
    config = Image.from_json(store.read_blob(parsed.config.digest))
    if len(config.rootfs.diff_ids) != len(parsed.layers):
        raise ImageError(f"image {desc.digest}: {len(parsed.layers)} layers but {len(config.rootfs.diff_ids)} diff_ids")
    for layer, diff_id in zip(parsed.layers, config.rootfs.diff_ids):
        actual = store.layer_diff_id(layer.digest)
        if actual != diff_id:
            raise ImageError(f"layer {layer.digest} uncompresses to {actual}, but the config says {diff_id}")
    return store.add_manifest(data, tags=tags)


def _entry_tags(desc: Descriptor, name: str | None) -> list[str]:
    """Tags an index entry asks for: containerd's full name, else a full ref.name, else
    `name` with a bare ref.name as its tag."""
    full = desc.annotations.get(mt.ANNOTATION_CONTAINERD_NAME)
    ref_name = desc.annotations.get(mt.ANNOTATION_REF_NAME)
    try:
        if full:
            return [normalise_tag(full)]
        if ref_name and (":" in ref_name or "/" in ref_name):
            return [normalise_tag(ref_name)]
        if name:
            ref = parse_reference(name)
            return [ref.with_tag(ref_name).tagged() if ref_name else ref.tagged()]
    except PybuildkitError as exc:
        raise ImageError(f"archive names an invalid tag: {exc.message}") from None
    return []


def _load_oci(
    store: Store,
    source: ArchiveSource,
    *,
    ref_name: str | None,
    name: str | None,
    platform: Platform | None,
    digest: str | None = None,
    single: bool = False,
    keep_tags: bool = True,
) -> list[StoredImage]:
    layout = loads_json_object(source.read_small("oci-layout"), what="oci-layout")
    if layout.get("imageLayoutVersion") != mt.OCI_LAYOUT_VERSION:
        raise ImageError(f"unsupported OCI layout version {layout.get('imageLayoutVersion')!r}")
    index = Index.from_json(source.read_small("index.json"))
    entries = list(index.manifests)
    if ref_name is not None:
        entries = [m for m in entries if m.annotations.get(mt.ANNOTATION_REF_NAME) == ref_name]
        if not entries:
            known = sorted({m.annotations.get(mt.ANNOTATION_REF_NAME, "") for m in index.manifests} - {""})
            raise ImageError(f"no image tagged {ref_name!r} in the OCI layout", hint=f"tags present: {', '.join(known) or 'none'}")
    if digest is not None:
        entries = [m for m in entries if m.digest == digest]
        if not entries:
            raise ImageError(f"no manifest {digest} in the OCI layout's index")
    if not entries:
        raise ImageError("the OCI layout's index.json lists no images")
    if single and len(entries) > 1:
        raise ImageError(f"the OCI layout holds {len(entries)} images", hint="name one: oci-layout://DIR:TAG")
    wanted = platform or host_platform()
    return [_import_manifest(store, source, entry, wanted, _entry_tags(entry, name) if keep_tags else []) for entry in entries]


# -- docker-archive ----------------------------------------------------------------------------


def _load_docker(store: Store, source: TarSource) -> list[StoredImage]:
    try:
        entries = json.loads(source.read_small("manifest.json"))
    except ValueError as exc:
        raise ImageError(f"manifest.json is not valid JSON: {exc}") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ImageError("manifest.json must be a list of objects")
    loaded = []
    for entry in entries:
        config_name = entry.get("Config")
        layer_names = entry.get("Layers") or []
        repo_tags = entry.get("RepoTags") or []
        if not isinstance(config_name, str) or not isinstance(layer_names, list) or not isinstance(repo_tags, list):
            raise ImageError("manifest.json entry needs Config (string), Layers and RepoTags (lists)")
        if not all(isinstance(x, str) for x in (*layer_names, *repo_tags)):
            raise ImageError("manifest.json Layers and RepoTags must be strings")
        config_bytes = source.read_small(config_name)
        config = Image.from_json(config_bytes)
        diff_ids = config.rootfs.diff_ids
        if len(diff_ids) != len(layer_names):
            raise ImageError(f"{config_name}: {len(layer_names)} layers but {len(diff_ids)} diff_ids")
        config_desc = store.put_bytes(config_bytes, media_type=mt.OCI_CONFIG)
        layers = [_docker_layer(store, source, layer_name, diff_id) for layer_name, diff_id in zip(layer_names, diff_ids)]
        manifest = Manifest(config=config_desc, layers=layers)
        try:
            tags = [normalise_tag(t) for t in repo_tags]
        except PybuildkitError as exc:
            raise ImageError(f"manifest.json names an invalid tag: {exc.message}") from None
        loaded.append(store.add_manifest(manifest.to_bytes(), tags=tags))
    return loaded


def _docker_layer(store: Store, source: TarSource, name: str, diff_id: str) -> Descriptor:
    with source.open(name) as stream:
        kind = sniff_compression(stream.read(4))
        stream.seek(0)
        if kind == "none":
            return store.put_stream(stream, media_type=mt.OCI_LAYER, expected_digest=diff_id)
        media_type = mt.OCI_LAYER_GZIP if kind == "gzip" else mt.OCI_LAYER_ZSTD
        desc = store.put_stream(stream, media_type=media_type)
    actual = store.layer_diff_id(desc.digest)
    if actual != diff_id:
        raise ImageError(f"layer {name} uncompresses to {actual}, but the config says {diff_id}")
    return desc
