"""Our tar header reader against what real writers produce, and against broken streams."""

from __future__ import annotations

import io
import tarfile

import pytest

from pybuildkit.errors import ImageError
from pybuildkit.snapshot.tarreader import Member, TarReader


def read_all(blob: bytes, *, max_header: int = 1 << 20) -> list[tuple[Member, bytes]]:
    reader = TarReader(io.BytesIO(blob), max_header_bytes=max_header)
    return [(m, reader.read(1 << 30)) for m in reader]


def tar_of(infos: list[tuple[tarfile.TarInfo, bytes | None]], fmt: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for info, data in infos:
            if data is not None:
                info.size = len(data)
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def info(name: str, **fields: object) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    for k, v in fields.items():
        setattr(ti, k, v)
    return ti


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT], ids=["ustar", "gnu", "pax"])
def test_formats_round_trip(fmt: int) -> None:
    long_dir = "/".join(["segment"] * 15)  # > 100 bytes: ustar prefix, GNU 'L', PAX path
    hard_target = "a" if fmt == tarfile.USTAR_FORMAT else long_dir + "/file"  # ustar: 100 bytes max
    members = [
        (info(long_dir, type=tarfile.DIRTYPE, mode=0o755), None),
        (info(long_dir + "/file", mode=0o4755, uid=1000, gid=1000, mtime=1_700_000_000), b"data" * 300),
        (info("link", type=tarfile.SYMTYPE, linkname="target/" * 20 if fmt != tarfile.USTAR_FORMAT else "t"), None),
        (info("hard", type=tarfile.LNKTYPE, linkname=hard_target), None),
        (info("dev", type=tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666), None),
        (info("fifo", type=tarfile.FIFOTYPE), None),
    ]
    got = read_all(tar_of(members, fmt))
    assert [m.name.rstrip("/") for m, _ in got] == [long_dir, long_dir + "/file", "link", "hard", "dev", "fifo"]
    assert [m.kind for m, _ in got] == ["dir", "file", "symlink", "hardlink", "char", "fifo"]
    m, data = got[1]
    assert (m.mode, m.uid, m.gid, m.mtime, m.size, data) == (0o4755, 1000, 1000, 1_700_000_000, 1200, b"data" * 300)
    assert got[3][0].linkname == hard_target
    assert (got[4][0].devmajor, got[4][0].devminor) == (1, 3)


def test_gnu_base256_numbers_and_pax_overrides() -> None:
    gnu = tar_of([(info("big-ids", uid=10_000_000_000, gid=9_000_000_000, mtime=-100), b"")], tarfile.GNU_FORMAT)
    (m, _), = read_all(gnu)
    assert (m.uid, m.gid, m.mtime) == (10_000_000_000, 9_000_000_000, -100)
    pax = tar_of([(info("x", pax_headers={"mtime": "1234.5678", "SCHILY.xattr.user.a": "b"}), b"")], tarfile.PAX_FORMAT)
    (m, _), = read_all(pax)
    assert m.mtime == 1234 and m.xattrs == (("user.a", b"b"),)


def test_unread_data_is_skipped_and_old_style_dirs_recognised() -> None:
    blob = tar_of([(info("a"), b"x" * 5000), (info("olddir/"), b""), (info("b"), b"y")], tarfile.USTAR_FORMAT)
    reader = TarReader(io.BytesIO(blob), max_header_bytes=1024)
    first = next(reader)
    assert reader.read(10) == b"x" * 10
    rest = list(reader)
    assert [(m.name, m.kind) for m in [first, *rest]] == [("a", "file"), ("olddir/", "dir"), ("b", "file")]


def _corrupt_checksum(blob: bytes) -> bytes:
    return blob[:148] + b"0000000\0" + blob[156:]


def _negative_size(blob: bytes) -> bytes:
    head = bytearray(blob[:512])
    head[124:136] = b"\xff" * 12
    head[148:156] = b"        "
    head[148:156] = b"%06o\0 " % sum(head)
    return bytes(head) + blob[512:]


BROKEN = [
    ("empty", lambda ok: b""),
    ("no-end-marker", lambda ok: ok[:1024]),
    ("cut-in-header", lambda ok: ok[:300]),
    ("cut-in-data", lambda ok: ok[:700]),
    ("bad-checksum", _corrupt_checksum),
    ("negative-size", _negative_size),
    ("bad-octal", lambda ok: ok[:100] + b"99999999" + ok[108:]),
    ("bad-pax-record", lambda ok: tar_of([(info("p", pax_headers={"path": "x"}), b"")], tarfile.PAX_FORMAT).replace(b" path=", b" path ")),
    ("unknown-type", lambda ok: tar_of([(info("v", type=tarfile.GNUTYPE_SPARSE), b"")], tarfile.GNU_FORMAT)),
    ("pax-bigger-than-limit", lambda ok: tar_of([(info("p", pax_headers={"comment": "c" * 5000}), b"")], tarfile.PAX_FORMAT)),
]


@pytest.mark.parametrize("mangle", [m for _, m in BROKEN], ids=[n for n, _ in BROKEN])
def test_broken_streams_are_image_errors(mangle) -> None:  # type: ignore[no-untyped-def]
    ok = tar_of([(info("a"), b"z" * 600), (info("b"), b"")], tarfile.USTAR_FORMAT)
    with pytest.raises(ImageError):
        read_all(mangle(ok), max_header=1024)
