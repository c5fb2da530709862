"""Hand-written headers must read back, field for field, through Python's own tar reader."""

from __future__ import annotations

import io
import tarfile

import pytest

from pybuildkit.snapshot import tarheader as th


def read_back(header: bytes, data: bytes = b"") -> tarfile.TarInfo:
    blob = header + data + th.padding(len(data)) + th.END_OF_ARCHIVE
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tf:
        (member,) = tf.getmembers()
    return member


CASES = [
    pytest.param(dict(name=b"a.txt", typeflag=th.TYPE_FILE, mode=0o644, uid=0, gid=0, size=3), {"name": "a.txt", "size": 3}, id="plain"),
    pytest.param(dict(name=b"n" * 100, typeflag=th.TYPE_FILE, mode=0o600, uid=1, gid=2), {"name": "n" * 100}, id="name-exactly-100"),
    pytest.param(dict(name=b"d/" * 80 + b"f", typeflag=th.TYPE_FILE, mode=0o644, uid=0, gid=0), {"name": "d/" * 80 + "f"}, id="long-name-pax"),
    pytest.param(dict(name="ü-名前".encode(), typeflag=th.TYPE_FILE, mode=0o644, uid=0, gid=0), {"name": "ü-名前"}, id="utf8-name"),
    pytest.param(dict(name=b"bad\xff", typeflag=th.TYPE_FILE, mode=0o644, uid=0, gid=0), {"name": "bad\udcff"}, id="non-utf8-name"),
    pytest.param(dict(name=b"l", typeflag=th.TYPE_SYMLINK, mode=0o777, uid=0, gid=0, linkname=b"t/" * 70), {"linkname": "t/" * 70}, id="long-linkname"),
    pytest.param(dict(name=b"big-ids", typeflag=th.TYPE_FILE, mode=0o644, uid=10_000_000, gid=3_000_000_000), {"uid": 10_000_000, "gid": 3_000_000_000}, id="big-ids"),
    pytest.param(dict(name=b"old", typeflag=th.TYPE_FILE, mode=0o644, uid=0, gid=0, mtime=-5), {"mtime": -5}, id="negative-mtime"),
    pytest.param(dict(name=b"suid", typeflag=th.TYPE_FILE, mode=0o4755, uid=0, gid=0, mtime=1_700_000_000), {"mode": 0o4755, "mtime": 1_700_000_000}, id="setuid"),
    pytest.param(dict(name=b"dev", typeflag=th.TYPE_CHAR, mode=0o666, uid=0, gid=0, devmajor=1, devminor=3), {"devmajor": 1, "devminor": 3, "type": tarfile.CHRTYPE}, id="chardev"),
    pytest.param(dict(name=b"x", typeflag=th.TYPE_FILE, mode=0o644, uid=0, gid=0, xattrs=((b"user.k", b"v\x00\xff"), (b"security.capability", b"\x01\x02"))),
                 {"pax_headers": {"SCHILY.xattr.user.k": "v\x00\udcff", "SCHILY.xattr.security.capability": "\x01\x02"}}, id="xattrs"),
]


@pytest.mark.parametrize(("fields", "expected"), CASES)
def test_header_reads_back(fields: dict, expected: dict) -> None:
    size = fields.get("size", 0)
    member = read_back(th.encode_header(**fields), b"x" * size)
    for attr, value in expected.items():
        got = getattr(member, attr)
        if attr == "pax_headers":
            got = {k: v for k, v in got.items() if k.startswith("SCHILY")}
        assert got == value, attr
    assert member.uname == "" and member.gname == ""


@pytest.mark.parametrize("length", range(1, 40))
def test_pax_record_length_is_self_consistent_across_digit_boundaries(length: int) -> None:
    record = th._record(b"k", b"v" * length)
    size, _, rest = record.partition(b" ")
    assert int(size) == len(record)
    assert rest == b"k=" + b"v" * length + b"\n"


def test_header_is_a_whole_number_of_blocks_and_plain_ustar_when_it_fits() -> None:
    header = th.encode_header(b"f", typeflag=th.TYPE_FILE, mode=0o644, uid=0, gid=0)
    assert len(header) == th.BLOCK
    assert header[257:265] == b"ustar\x0000"
    long = th.encode_header(b"f" * 300, typeflag=th.TYPE_FILE, mode=0o644, uid=0, gid=0)
    assert len(long) % th.BLOCK == 0 and long[156:157] == b"x"
