"""Write a layer tar from a stream of entries: compressed, digested and diff-id'd in one pass.

The tar bytes are produced once, hashed once for the diff_id, compressed, and the compressed
bytes hashed once for the digest as they go to the caller's file object: no layer is held in
memory whole and nothing is read twice. Same entries, same options, same bytes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import attrs

from pybuildkit.atomicfile import atomic_writer
from pybuildkit.errors import ImageError, StoreError
from pybuildkit.snapshot import tarheader as th
from pybuildkit.snapshot.entries import Entry, walk_overlay_upper, walk_tree
from pybuildkit.snapshot.pgzip import GzipStream

__all__ = [
    "COMPRESSIONS",
    "MEDIA_TYPES",
    "GZIP_LEVEL",
    "ZSTD_LEVEL",
    "LayerInfo",
    "write_entries",
    "write_tree_layer",
    "write_diff_layer",
    "write_layer_file",
]

COMPRESSIONS = ("gzip", "zstd", "none")
MEDIA_TYPES = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}
#: Fixed levels: a layer's digest must not depend on a library default that might move.
GZIP_LEVEL = 6
ZSTD_LEVEL = 3

_FLUSH_AT = 1 << 20
_CHUNK = 1 << 20
_SMALL = 64 << 10  # files up to this size are read whole and written with their header
_TYPEFLAGS = {
    "file": th.TYPE_FILE,
    "hardlink": th.TYPE_HARDLINK,
    "symlink": th.TYPE_SYMLINK,
    "char": th.TYPE_CHAR,
    "block": th.TYPE_BLOCK,
    "dir": th.TYPE_DIR,
    "fifo": th.TYPE_FIFO,
}


@attrs.frozen
class LayerInfo:
    """What a manifest and an image config need to know about a written layer."""

    digest: str
    diff_id: str
    size: int
    media_type: str
    compression: str = "gzip"


class _Sink:
    """Tar bytes in; hashed, compressed, hashed again (compressed) and written out."""

    def __init__(self, out: BinaryIO, compression: str) -> None:
        if compression not in COMPRESSIONS:
            raise ImageError(f"unknown layer compression {compression!r}", hint=f"use one of {', '.join(COMPRESSIONS)}")
        self._out = out
        self._diff = hashlib.sha256()
        self._digest = hashlib.sha256() if compression != "none" else self._diff
        self.size = 0
        self._compression = compression
        if compression == "gzip":
            # Big layers deflate in parallel blocks; small ones are zlib's own gzip (see pgzip).
            self._cobj = GzipStream(GZIP_LEVEL)
        elif compression == "zstd":
            import zstandard

            self._cobj = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=False).compressobj()
        else:
            self._cobj = None
        self._pending: list[bytes] = []
        self._pending_size = 0

    def write(self, data: bytes) -> None:
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= _FLUSH_AT:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        self._diff.update(data)
        if self._cobj is None:
            self._emit_raw(data)
        else:
            self._emit(self._cobj.compress(data))

    def _emit_raw(self, data: bytes) -> None:
        self._out.write(data)
        self.size += len(data)

    def _emit(self, data: bytes) -> None:
        if data:
            self._digest.update(data)
            self._out.write(data)
            self.size += len(data)

    def close(self) -> None:
        """Release the compressor's worker threads when a layer is abandoned half-way."""
        if isinstance(self._cobj, GzipStream):
            self._cobj.close()

    def finish(self) -> LayerInfo:
        self._flush()
        if self._cobj is not None:
            self._emit(self._cobj.flush())
        return LayerInfo(
            digest="sha256:" + self._digest.hexdigest(),
            diff_id="sha256:" + self._diff.hexdigest(),
            size=self.size,
            media_type=MEDIA_TYPES[self._compression],
            compression=self._compression,
        )


def write_entries(
    entries: Iterable[Entry],
    out: BinaryIO,
    *,
    compression: str = "gzip",
    source_date_epoch: int | None = None,
) -> LayerInfo:
    """Write `entries` as a layer to `out` and return its digests.

    `source_date_epoch` clamps every mtime to at most that value (reproducible builds' rule:
    older files keep their times, newer ones get the epoch).
    """
    sink = _Sink(out, compression)
    try:
        return _write_all(entries, sink, source_date_epoch)
    finally:
        sink.close()


def _write_all(entries: Iterable[Entry], sink: _Sink, source_date_epoch: int | None) -> LayerInfo:
    for entry in entries:
        mtime = entry.mtime
        if source_date_epoch is not None and mtime > source_date_epoch:
            mtime = source_date_epoch
        name = os.fsencode(entry.path)
        if entry.kind == "dir":
            name += b"/"
        size = entry.size if entry.kind == "file" else 0
        header = th.encode_header(
                name,
                typeflag=_TYPEFLAGS[entry.kind],
                mode=entry.mode,
                uid=entry.uid,
                gid=entry.gid,
                size=size,
                mtime=mtime,
                linkname=os.fsencode(entry.linkname),
                devmajor=entry.devmajor,
                devminor=entry.devminor,
                xattrs=tuple((os.fsencode(k), v) for k, v in entry.xattrs) if entry.xattrs else (),
            )
        if not size:
            sink.write(header)
        elif size <= _SMALL:
            sink.write(header + _read_small(entry) + th.padding(size))
        else:
            sink.write(header)
            _copy_content(entry, sink)
    sink.write(th.END_OF_ARCHIVE)
    return sink.finish()


def _read_small(entry: Entry) -> bytes:
    """A small file's bytes in one read, cut or zero-padded to the size the header states."""
    assert entry.source is not None
    try:
        fd = os.open(entry.source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise StoreError(f"cannot read {entry.source} for a layer: {exc.strerror}") from exc
    try:
        data = os.read(fd, entry.size)
        while len(data) < entry.size:
            more = os.read(fd, entry.size - len(data))
            if not more:
                return data + bytes(entry.size - len(data))
            data += more
    finally:
        os.close(fd)
    return data


def _copy_content(entry: Entry, sink: _Sink) -> None:
    """Exactly `entry.size` bytes: a file that changed under us is cut or zero-padded, so the
    header never lies (the alternative is a corrupt tar)."""
    assert entry.source is not None
    remaining = entry.size
    try:
        fd = os.open(entry.source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise StoreError(f"cannot read {entry.source} for a layer: {exc.strerror}") from exc
    try:
        while remaining:
            chunk = os.read(fd, min(remaining, _CHUNK))
            if not chunk:
                break
            sink.write(chunk)
            remaining -= len(chunk)
    finally:
        os.close(fd)
    if remaining:
        sink.write(bytes(remaining))
    sink.write(th.padding(entry.size))


def write_tree_layer(
    root: Path | str,
    out: BinaryIO,
    *,
    compression: str = "gzip",
    source_date_epoch: int | None = None,
) -> LayerInfo:
    """A layer holding everything below `root` (a rootfs, or files staged for a COPY)."""
    return write_entries(walk_tree(root), out, compression=compression, source_date_epoch=source_date_epoch)


def write_diff_layer(
    upper: Path | str,
    out: BinaryIO,
    *,
    compression: str = "gzip",
    source_date_epoch: int | None = None,
) -> LayerInfo:
    """A layer holding the changes an overlayfs upper dir records, whiteouts in OCI's spelling."""
    return write_entries(
        walk_overlay_upper(upper), out, compression=compression, source_date_epoch=source_date_epoch
    )


def write_layer_file(
    entries: Iterable[Entry],
    dest: Path,
    *,
    compression: str = "gzip",
    source_date_epoch: int | None = None,
) -> LayerInfo:
    """Write a layer to `dest` atomically: temp file in the same dir, fsync, rename.

    A failure half-way leaves nothing behind, so a later run never mistakes a torn file for a layer.
    """
    with atomic_writer(dest, 0o600) as f:
        return write_entries(entries, f, compression=compression, source_date_epoch=source_date_epoch)
