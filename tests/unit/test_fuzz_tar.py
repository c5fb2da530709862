"""Fuzzing the layer tar reader and the unpacker: random and mutated archives give ImageError or
a result, never another exception, and never a file outside the target directory.

`check_tar` is the property (also driven by atheris in benchmarks/fuzz.py): the bytes are read by
`TarReader` (every member's data consumed), then applied by `apply_layer` into a fresh directory
under tight limits, whose parent must hold nothing else afterwards.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybuildkit.errors import PybuildkitError
from pybuildkit.snapshot.tarreader import TarReader
from pybuildkit.snapshot.unpack import UnpackLimits, apply_layer

__all__ = ["check_tar", "seed_tars"]

LIMITS = UnpackLimits(max_header_bytes=64 << 10, max_uncompressed_bytes=4 << 20, max_entries=500)


def seed_tars() -> list[bytes]:
    """Small valid archives with every member kind layers use, in the formats writers emit."""
    out = []
    for fmt in (tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
            for name, kind, extra in [
                ("d", tarfile.DIRTYPE, ""), ("d/f", tarfile.REGTYPE, "data"), ("d/l", tarfile.SYMTYPE, "f"),
                ("d/h", tarfile.LNKTYPE, "d/f"), ("d/.wh.gone", tarfile.REGTYPE, ""), ("p", tarfile.FIFOTYPE, ""),
                ("n" * (120 if fmt != tarfile.USTAR_FORMAT else 90), tarfile.REGTYPE, "long"),
            ]:
                info = tarfile.TarInfo(name)
                info.type = kind
                data = extra.encode() if kind == tarfile.REGTYPE else b""
                if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                    info.linkname = extra
                info.size = len(data)
                if fmt == tarfile.PAX_FORMAT and name == "d/f":
                    info.pax_headers = {"SCHILY.xattr.user.k": "v", "comment": "c"}
                tar.addfile(info, io.BytesIO(data))
        out.append(buf.getvalue())
    return out


SEEDS = seed_tars()


def check_tar(data: bytes) -> None:
    try:
        for member in TarReader(io.BytesIO(data), max_header_bytes=64 << 10):
            assert member.name is not None
    except PybuildkitError:
        pass
    parent = Path(tempfile.mkdtemp(prefix="fuzz-tar-"))
    try:
        (parent / "target").mkdir()
        try:
            apply_layer(io.BytesIO(data), parent / "target", limits=LIMITS)
        except PybuildkitError:
            pass
        assert os.listdir(parent) == ["target"], os.listdir(parent)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(("byte", "digits", "cut", "splice")))
        if action == "byte":
            data[pos] = draw(st.integers(0, 255))
        elif action == "digits":  # numeric fields are where parsers break
            data[pos : pos + 8] = draw(st.sampled_from((b"77777777", b"\x80\x00\x00\x00\x00\x00\x00\x01", b"-1      ", b"        ")))
        elif action == "cut":
            del data[pos:]
            if not data:
                data = bytearray(b"\0")
        else:
            data[pos:pos] = draw(st.binary(max_size=16))
    return bytes(data)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    check_tar(data)


@FUZZ
@given(mutated())
def test_mutated_archives(data: bytes) -> None:
    check_tar(data)


def test_seeds_unpack() -> None:
    for seed in SEEDS:
        check_tar(seed)
