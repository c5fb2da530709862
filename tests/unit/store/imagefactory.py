"""Small real images for store and exporter tests: layer tars made with tarfile, stored for real.

Shared by tests/unit/store and tests/integration (test_store*, test_export*), so every test builds
its images the same way and none needs a base image or the network.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Mapping

import zstandard

from pybuildkit.oci import History, Image, ImageConfig, mediatypes as mt, sha256_digest
from pybuildkit.oci.descriptor import Descriptor
from pybuildkit.store import Store, StoredImage

__all__ = ["layer_tar", "put_layer", "make_image", "CREATED"]

CREATED = "2024-01-01T00:00:00Z"


def layer_tar(files: Mapping[str, bytes], *, dirs: tuple[str, ...] = (), symlinks: Mapping[str, str] | None = None) -> bytes:
    """A deterministic uncompressed layer tar holding `files` (path -> content)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        entries: list[tuple[str, tarfile.TarInfo, bytes | None]] = []
        for name in dirs:
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            entries.append((name, info, None))
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            entries.append((name, info, data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            entries.append((name, info, None))
        for _, info, data in sorted(entries, key=lambda e: e[0]):
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def put_layer(store: Store, raw: bytes, compression: str = "gzip") -> tuple[Descriptor, str]:
    """Store `raw` as a layer blob; returns (descriptor, diff_id)."""
    if compression == "gzip":
        blob, media_type = gzip.compress(raw, mtime=0), mt.OCI_LAYER_GZIP
    elif compression == "zstd":
        blob, media_type = zstandard.ZstdCompressor().compress(raw), mt.OCI_LAYER_ZSTD
    else:
        blob, media_type = raw, mt.OCI_LAYER
    return store.put_bytes(blob, media_type=media_type), sha256_digest(raw)


def make_image(
    store: Store,
    layers: list[Mapping[str, bytes]] | None = None,
    *,
    tags: tuple[str, ...] = ("test/hello:latest",),
    compression: str | tuple[str, ...] = "gzip",
    cmd: tuple[str, ...] = ("/bin/sh",),
    label: str = "",
) -> StoredImage:
    """An image of one layer per mapping in `layers`, plus one config-only (empty_layer) step."""
    layers = layers if layers is not None else [{"hello.txt": b"hello\n"}]
    kinds = (compression,) * len(layers) if isinstance(compression, str) else compression
    image = Image(created=CREATED, config=ImageConfig(env=("PATH=/bin",), cmd=cmd, labels={"test": label} if label else {}))
    descriptors = []
    for index, (files, kind) in enumerate(zip(layers, kinds)):
        desc, diff_id = put_layer(store, layer_tar(files), kind)
        descriptors.append(desc)
        image = image.with_layer(diff_id, History(created=CREATED, created_by=f"COPY layer{index} /"))
    image = image.with_history(History(created=CREATED, created_by='CMD ["/bin/sh"]'))
    return store.put_image(image, descriptors, tags=tags)
