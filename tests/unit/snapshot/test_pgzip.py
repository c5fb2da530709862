"""Parallel gzip: valid gzip, deterministic whatever the write sizes, serial bytes for small streams."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import threading
import zlib
from pathlib import Path

import pytest

from pybuildkit.snapshot.pgzip import GZIP_HEADER, GzipStream


def _data(size: int) -> bytes:
    """Half random, half repetitive text: both deflate paths (matches and literals) get exercised."""
    rnd = os.urandom(size // 2)
    text = (b"the quick brown fox %d\n" * (size // 20 + 1))[: size - len(rnd)]
    return rnd + text


def _compress(data: bytes, step: int, **kw: int) -> bytes:
    stream = GzipStream(6, **kw)
    out = [stream.compress(data[i : i + step]) for i in range(0, len(data), step)]
    out.append(stream.flush())
    return b"".join(out)


# Small blocks and thresholds reach every boundary case cheaply: empty last block, blocks shorter
# than the 32 KiB window, a stream just over the threshold.
@pytest.mark.parametrize(
    ("size", "block", "threshold"),
    [(0, 4096, 0), (1, 4096, 0), (4096, 4096, 0), (4097, 4096, 100), (100_000, 4096, 1000),
     (300_000, 70_000, 1000), (3 * 65536, 65536, 65536), (1000, 4096, 10_000)],
)
def test_round_trip_and_determinism(size: int, block: int, threshold: int) -> None:
    data = _data(size)
    outs = {_compress(data, step, block_size=block, threshold=threshold) for step in (1000, 4096, 65537, max(size, 1))}
    assert len(outs) == 1, "output depends on how the input was split"
    out = outs.pop()
    assert gzip.decompress(out) == data
    assert zlib.decompress(out, 31) == data


def test_small_stream_is_zlibs_own_gzip() -> None:
    data = _data(200_000)
    cobj = zlib.compressobj(6, zlib.DEFLATED, 31)
    assert _compress(data, 65536) == cobj.compress(data) + cobj.flush()


def test_big_stream_parallel_valid_and_close_to_serial(tmp_path: Path) -> None:
    data = _data(6 << 20)
    out = _compress(data, 1 << 20)
    assert out.startswith(GZIP_HEADER)
    assert gzip.decompress(out) == data
    serial = gzip.compress(data, 6, mtime=0)
    assert len(out) <= len(serial) * 1.01
    if shutil.which("gzip"):
        path = tmp_path / "x.gz"
        path.write_bytes(out)
        subprocess.run(["gzip", "-t", str(path)], check=True)


def test_abandoned_stream_ends_its_threads() -> None:
    before = threading.active_count()
    stream = GzipStream(6, block_size=4096, threshold=0)
    stream.compress(_data(100_000))
    stream.close()
    stream.close()
    assert threading.active_count() == before
