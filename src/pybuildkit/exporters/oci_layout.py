"""Write an image from the store as an OCI image layout: a directory, or a tar of one.

The index entry carries `org.opencontainers.image.ref.name` (the tag `oci:DIR:TAG` finds, in
skopeo and umoci) and containerd's `io.containerd.image.name` (the full name, so `pybuild load`
and Docker 25 get the repository back).
"""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import attrs

from pybuildkit.atomicfile import atomic_writer
from pybuildkit.errors import ImageError, PybuildkitError, StoreError
from pybuildkit.oci import mediatypes as mt
from pybuildkit.oci.canonical import canonical_json
from pybuildkit.oci.descriptor import Descriptor, Platform
from pybuildkit.oci.digest import digest_hex
from pybuildkit.oci.manifest import Index
from pybuildkit.oci.reference import parse_reference
from pybuildkit.store.records import StoredImage
from pybuildkit.store.store import Store
from pybuildkit.exporters.tarball import HashingReader, TarEntry, atomic_output, write_tar

__all__ = ["export_oci_layout", "export_oci_archive", "index_entry", "layout_blobs", "OCI_LAYOUT_FILE"]

OCI_LAYOUT_FILE = canonical_json({"imageLayoutVersion": mt.OCI_LAYOUT_VERSION})


def _names(ref: str, image: StoredImage, tag: str | None) -> tuple[str | None, str | None]:
    """(ref.name, full name) for the index entry: the tag `ref` used, else the image's first tag."""
    full: str | None = None
    with contextlib.suppress(PybuildkitError):
        parsed = parse_reference(ref)
        if not parsed.digest and parsed.tagged() in image.tags:
            full = parsed.tagged()
    if full is None and image.tags:
        full = image.tags[0]
    if tag is None:
        tag = parse_reference(full).tag if full else None
    return (tag or None), full


def index_entry(image: StoredImage, ref_name: str | None, full_name: str | None) -> Descriptor:
    """The index.json descriptor of `image`, annotated and with its platform."""
    annotations: dict[str, str] = {}
    if ref_name:
        annotations[mt.ANNOTATION_REF_NAME] = ref_name
    if full_name:
        annotations[mt.ANNOTATION_CONTAINERD_NAME] = full_name
    platform = None
    if image.config.architecture and image.config.os:
        platform = Platform(architecture=image.config.architecture, os=image.config.os, variant=image.config.variant)
    return Descriptor(
        media_type=image.media_type,
        digest=image.digest,
        size=image.size,
        annotations=annotations,
        platform=platform,
    )


def layout_blobs(image: StoredImage) -> list[Descriptor]:
    """Every blob a layout of `image` holds: manifest, config, layers (each once)."""
    seen: dict[str, Descriptor] = {}
    for desc in (image.descriptor, image.manifest.config, *image.manifest.layers):
        seen.setdefault(desc.digest, desc)
    return list(seen.values())


def _opener(store: Store, digest: str) -> Callable[[], BinaryIO]:
    return lambda: store.open_blob(digest)


def export_oci_archive(store: Store, ref: str, dest: Path, *, tag: str | None = None) -> Descriptor:
    """Write `ref` as an OCI layout tar (`oci-archive:` in skopeo); returns the index entry."""
    image = store.image(ref)
    ref_name, full = _names(ref, image, tag)
    entry = index_entry(image, ref_name, full)
    index = Index(manifests=(entry,), media_type=mt.OCI_INDEX)
    index_bytes = index.to_bytes()
    entries = [
        TarEntry("blobs/"),
        TarEntry("blobs/sha256/"),
        TarEntry("oci-layout", len(OCI_LAYOUT_FILE), _bytes_opener(OCI_LAYOUT_FILE)),
        TarEntry("index.json", len(index_bytes), _bytes_opener(index_bytes)),
    ]
    for desc in layout_blobs(image):
        entries.append(TarEntry(f"blobs/sha256/{digest_hex(desc.digest)}", desc.size, _opener(store, desc.digest)))

    def verify(entry: TarEntry, reader: HashingReader) -> None:
        name = entry.name
        if name.startswith("blobs/sha256/") and reader.digest != "sha256:" + name.rsplit("/", 1)[1]:
            raise StoreError(f"store blob {name} is corrupt; run `pybuild store check`")

    with atomic_output(Path(dest)) as out:
        write_tar(out, entries, verify=verify)
    return entry


def _bytes_opener(data: bytes) -> Callable[[], BinaryIO]:
    return lambda: io.BytesIO(data)


def export_oci_layout(store: Store, ref: str, dest: Path, *, tag: str | None = None) -> Descriptor:
    """Write `ref` into the OCI layout directory `dest` (created, or merged into an existing
    layout: an entry with the same ref.name is replaced). Blobs land before index.json, each by
    rename, so a reader never sees an index pointing at a missing or partial blob."""
    dest = Path(dest)
    image = store.image(ref)
    ref_name, full = _names(ref, image, tag)
    entry = index_entry(image, ref_name, full)
    existing = _existing_index(dest)
    blob_dir = dest / "blobs" / "sha256"
    try:
        blob_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create {blob_dir}: {exc.strerror}") from None
    for desc in layout_blobs(image):
        target = blob_dir / digest_hex(desc.digest)
        if target.is_file() and target.stat().st_size == desc.size:
            continue
        _copy_blob(store, desc, target)
    keep = [m for m in existing.manifests if not (ref_name and m.annotations.get(mt.ANNOTATION_REF_NAME) == ref_name)]
    keep = [m for m in keep if not (m.digest == entry.digest and m.annotations == entry.annotations)]
    index = attrs.evolve(existing, manifests=(*keep, entry))
    with atomic_output(dest / "oci-layout") as out:
        out.write(OCI_LAYOUT_FILE)
    with atomic_output(dest / "index.json") as out:
        out.write(index.to_bytes())
    return entry


def _existing_index(dest: Path) -> Index:
    if not dest.exists():
        return Index(media_type=mt.OCI_INDEX)
    if not dest.is_dir():
        raise StoreError(f"{dest} exists and is not a directory")
    index_path = dest / "index.json"
    if index_path.is_file():
        try:
            return Index.from_json(index_path.read_bytes())
        except ImageError as exc:
            raise StoreError(f"{dest} holds an unreadable index.json: {exc.message}") from None
    if any(dest.iterdir()):
        raise StoreError(f"{dest} is not empty and is not an OCI layout", hint="choose an empty or new directory")
    return Index(media_type=mt.OCI_INDEX)


def _copy_blob(store: Store, desc: Descriptor, target: Path) -> None:
    with atomic_writer(target) as out, store.open_blob(desc.digest) as src:
        shutil.copyfileobj(src, out, 1 << 20)
