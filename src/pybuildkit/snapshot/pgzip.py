"""Gzip the way pigz does: fixed-size blocks deflated concurrently, written in order.

Why: one zlib stream compresses at 20-40 MB/s on one core, and it dominated builds with big
layers. zlib releases the GIL while deflating, so a couple of threads give most of a second core.
Each block is a raw deflate stream primed with the previous block's last 32 KiB (the window a
serial deflate would have had), ended with a sync flush (byte-aligned, not final); the last
block ends with Z_FINISH. Their concatenation is one valid deflate stream, inside a fixed gzip
header and a trailer computed here.

Block boundaries depend only on the input bytes, never on how writes arrive or which thread
finishes first, so the same input always gives the same output. Streams no larger than the
threshold take zlib's own serial gzip, byte for byte what a single compressobj writes, so small
layers keep their digests.
"""

from __future__ import annotations

import collections
import struct
import zlib
from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["BLOCK_SIZE", "PARALLEL_THRESHOLD", "WORKERS", "GZIP_HEADER", "GzipStream"]

BLOCK_SIZE = 1 << 20
#: Above this many input bytes the stream goes parallel; below, thread start-up is not worth it.
PARALLEL_THRESHOLD = 4 << 20
WORKERS = 2
#: mtime 0, no name, no flags, XFL 0 and OS "Unix": what zlib writes at level 6 on Linux, but
#: fixed here so the bytes never depend on the host.
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
_WINDOW = 32 << 10


def _deflate_block(level: int, block: bytes, zdict: bytes, last: bool) -> bytes:
    if zdict:
        cobj = zlib.compressobj(level, zlib.DEFLATED, -15, zdict=zdict)
    else:
        cobj = zlib.compressobj(level, zlib.DEFLATED, -15)
    return cobj.compress(block) + cobj.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


class GzipStream:
    """`compress(data) -> bytes` and `flush() -> bytes`, like a zlib compressobj with wbits=31.

    At most `workers * 2` blocks are in flight, so memory stays bounded (a few MiB) whatever the
    stream's size. Call `close()` if the stream is abandoned, so worker threads end.
    """

    def __init__(
        self,
        level: int,
        *,
        threshold: int = PARALLEL_THRESHOLD,
        block_size: int = BLOCK_SIZE,
        workers: int = WORKERS,
    ) -> None:
        self._level = level
        self._threshold = threshold
        self._block_size = block_size
        self._workers = workers
        self._buf = bytearray()
        self._pool: ThreadPoolExecutor | None = None
        self._inflight: collections.deque[Future[bytes]] = collections.deque()
        self._zdict = b""
        self._crc = 0
        self._size = 0
        self._done = False

    def compress(self, data: bytes) -> bytes:
        self._buf += data
        if self._pool is None:
            if len(self._buf) <= self._threshold:
                return b""
            self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="pgzip")
            out = [GZIP_HEADER]
        else:
            out = []
        while len(self._buf) >= self._block_size:
            block = bytes(self._buf[: self._block_size])
            del self._buf[: self._block_size]
            self._submit(block, last=False)
            out.extend(self._drain(self._workers * 2))
        return b"".join(out)

    def flush(self) -> bytes:
        """The rest of the stream and the gzip trailer; the stream is finished after this."""
        if self._done:
            return b""
        self._done = True
        if self._pool is None:
            cobj = zlib.compressobj(self._level, zlib.DEFLATED, 31)
            data = cobj.compress(bytes(self._buf)) + cobj.flush()
            self._buf = bytearray()
            return data
        try:
            self._submit(bytes(self._buf), last=True)
            self._buf = bytearray()
            out = self._drain(0)
        finally:
            self.close()
        out.append(struct.pack("<II", self._crc, self._size & 0xFFFFFFFF))
        return b"".join(out)

    def close(self) -> None:
        """Stop the workers (pending blocks are dropped). Safe to call more than once."""
        for fut in self._inflight:
            fut.cancel()
        self._inflight.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _submit(self, block: bytes, *, last: bool) -> None:
        assert self._pool is not None
        self._crc = zlib.crc32(block, self._crc)
        self._size += len(block)
        self._inflight.append(self._pool.submit(_deflate_block, self._level, block, self._zdict, last))
        self._zdict = block[-_WINDOW:] if len(block) >= _WINDOW else (self._zdict + block)[-_WINDOW:]

    def _drain(self, keep: int) -> list[bytes]:
        """Finished blocks from the head, in order; waits while more than `keep` are in flight."""
        out = []
        while self._inflight and (len(self._inflight) > keep or self._inflight[0].done()):
            out.append(self._inflight.popleft().result())
        return out
