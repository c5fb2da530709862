"""Reading layer blobs uncompressed, whatever they were compressed with.

The media type says what a layer should be, but archives from the wild lie (Docker's legacy
archives hold plain tars under gzip names), so the magic number decides.
"""

from __future__ import annotations

import gzip
import io
from typing import BinaryIO

from pybuildkit.errors import ImageError

__all__ = ["GZIP_MAGIC", "ZSTD_MAGIC", "sniff_compression", "open_uncompressed"]

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def sniff_compression(head: bytes) -> str:
    """`"gzip"`, `"zstd"` or `"none"` from a blob's first bytes."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


def open_uncompressed(raw: BinaryIO) -> BinaryIO:
    """Wrap a (seekable or peekable) binary stream so reads return the uncompressed bytes."""
    buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw)  # type: ignore[arg-type]
    head = buffered.peek(4)[:4]  # type: ignore[union-attr]
    kind = sniff_compression(head)
    if kind == "gzip":
        return gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[return-value]
    if kind == "zstd":
        try:
            import zstandard
        except ImportError as exc:  # pragma: no cover - zstandard is a declared dependency
            raise ImageError("a zstd-compressed layer needs the 'zstandard' package") from exc
        return zstandard.ZstdDecompressor().stream_reader(buffered, read_across_frames=True)  # type: ignore[return-value]
    return buffered  # type: ignore[return-value]
