"""Tar header bytes, written by hand: ustar blocks plus PAX extended headers when a field overflows.

Python's `tarfile` builds a dict, a TarInfo and several intermediate strings per member, which
dominates the time of a layer made of many small files. Layers need only a narrow, fixed subset
of the format, so we encode it directly. The output is plain POSIX.1-2001 (PAX) that GNU tar,
Go's archive/tar and Python's tarfile all read. Pure: no I/O.
"""

from __future__ import annotations

__all__ = [
    "BLOCK",
    "END_OF_ARCHIVE",
    "TYPE_FILE",
    "TYPE_HARDLINK",
    "TYPE_SYMLINK",
    "TYPE_CHAR",
    "TYPE_BLOCK",
    "TYPE_DIR",
    "TYPE_FIFO",
    "encode_header",
    "padding",
]

BLOCK = 512
#: Two zero blocks end an archive.
END_OF_ARCHIVE = bytes(2 * BLOCK)

TYPE_FILE = b"0"
TYPE_HARDLINK = b"1"
TYPE_SYMLINK = b"2"
TYPE_CHAR = b"3"
TYPE_BLOCK = b"4"
TYPE_DIR = b"5"
TYPE_FIFO = b"6"
_TYPE_PAX = b"x"

_MAX_OCTAL_8 = 0o7777777  # 7 digits + NUL
_MAX_OCTAL_12 = 0o77777777777  # 11 digits + NUL
_PAX_NAME = b"././@PaxHeader"


_MAGIC = b"ustar\x0000"
_ZERO_IDS = bytes(64)  # uname, gname: empty on purpose, ids are what count
_ZERO_TAIL = bytes(155 + 12)  # prefix (unused: PAX carries long names) and padding
# The checksum field counts as eight spaces; zero padding adds nothing, so only the meaningful
# fields are summed (summing whole 512-byte blocks was a tenth of the writer's time).
_CHECKSUM_BASE = 8 * 0x20 + sum(_MAGIC)


def _ustar(
    name: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    typeflag: bytes,
    linkname: bytes,
    devmajor: int,
    devminor: int,
) -> bytes:
    numbers = b"%07o\0%07o\0%07o\0%011o\0%011o\0" % (mode, uid, gid, size, mtime)
    devices = b"%07o\0%07o\0" % (devmajor, devminor)
    checksum = _CHECKSUM_BASE + sum(name) + sum(numbers) + typeflag[0] + sum(linkname) + sum(devices)
    return b"".join(
        (
            name.ljust(100, b"\0"),
            numbers,
            b"%06o\0 " % checksum,
            typeflag,
            linkname.ljust(100, b"\0"),
            _MAGIC,
            _ZERO_IDS,
            devices,
            _ZERO_TAIL,
        )
    )


def _record(key: bytes, value: bytes) -> bytes:
    body = b" " + key + b"=" + value + b"\n"
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n = len(str(n)) + len(body)
    return str(n).encode() + body


def padding(size: int) -> bytes:
    """Zero bytes that complete a member's data of `size` bytes to a whole block."""
    return bytes(-size % BLOCK)


def encode_header(
    name: bytes,
    *,
    typeflag: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int = 0,
    mtime: int = 0,
    linkname: bytes = b"",
    devmajor: int = 0,
    devminor: int = 0,
    xattrs: tuple[tuple[bytes, bytes], ...] = (),
) -> bytes:
    """The header block(s) of one member: a PAX header first when any field does not fit ustar.

    Records are emitted in a fixed key order so equal members always give equal bytes; names that
    are not UTF-8 are flagged `hdrcharset=BINARY`, as POSIX requires, instead of being mangled.
    """
    records: list[tuple[bytes, bytes]] = []
    binary = False
    if len(name) > 100 or not name.isascii():
        records.append((b"path", name))
        binary |= not _is_utf8(name)
        name = name[:100]
    if len(linkname) > 100 or not linkname.isascii():
        records.append((b"linkpath", linkname))
        binary |= not _is_utf8(linkname)
        linkname = linkname[:100]
    if size > _MAX_OCTAL_12:
        records.append((b"size", b"%d" % size))
        size = 0
    if not 0 <= mtime <= _MAX_OCTAL_12:
        records.append((b"mtime", b"%d" % mtime))
        mtime = 0
    if uid > _MAX_OCTAL_8:
        records.append((b"uid", b"%d" % uid))
        uid = 0
    if gid > _MAX_OCTAL_8:
        records.append((b"gid", b"%d" % gid))
        gid = 0
    if devmajor > _MAX_OCTAL_8 or devminor > _MAX_OCTAL_8:
        # Kernel device numbers fit 12+20 bits; ustar's 21 bits cover them. Refuse silently-wrong.
        raise ValueError(f"device number {devmajor}:{devminor} does not fit a tar header")
    for key, value in xattrs:
        records.append((b"SCHILY.xattr." + key, value))
    header = _ustar(name, mode, uid, gid, size, mtime, typeflag, linkname, devmajor, devminor)
    if not records:
        return header
    if binary:
        records.insert(0, (b"hdrcharset", b"BINARY"))
    body = b"".join(_record(k, v) for k, v in records)
    pax = _ustar(_PAX_NAME, 0, 0, 0, len(body), 0, _TYPE_PAX, b"", 0, 0)
    return pax + body + padding(len(body)) + header


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
