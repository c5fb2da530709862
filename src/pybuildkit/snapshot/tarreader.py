"""Read tar headers from an untrusted stream: ustar, PAX (x/g) and GNU long names, nothing more.

Our own reader rather than `tarfile`'s stream mode: that one re-slices its whole buffer on every
read and parses a header through several dicts; and a hostile layer calls for bounds checked
before anything is read into memory (extended header sizes), checksums verified, and every
malformed field reported as an `ImageError` rather than whatever exception a parser happens to
raise. Formats layers never use (sparse files, multi-volume) are refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import attrs

from pybuildkit.errors import ImageError

__all__ = ["Member", "TarReader"]

_BLOCK = 512
_CHUNK = 1 << 20
_REGULAR = (b"0", b"\0", b"7")
_KNOWN = {b"0": "file", b"\0": "file", b"7": "file", b"1": "hardlink", b"2": "symlink",
          b"3": "char", b"4": "block", b"5": "dir", b"6": "fifo"}


class _Source(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


@attrs.frozen
class Member:
    """One tar member's header, with PAX/GNU overrides already applied."""

    name: str
    kind: str  # "file", "hardlink", "symlink", "char", "block", "dir", "fifo"
    mode: int
    uid: int
    gid: int
    size: int
    mtime: int
    linkname: str = ""
    devmajor: int = 0
    devminor: int = 0
    xattrs: tuple[tuple[str, bytes], ...] = ()


def _decode(raw: bytes) -> str:
    # File names are bytes on Linux; surrogateescape round-trips any of them to os calls.
    return raw.decode("utf-8", "surrogateescape")


def _cstr(field: bytes) -> bytes:
    end = field.find(b"\0")
    return field if end < 0 else field[:end]


def _number(field: bytes, what: str) -> int:
    if field[:1] and field[0] & 0x80:  # GNU base-256
        value = int.from_bytes(field[1:], "big")
        if field[0] == 0xFF:
            value -= 1 << (8 * (len(field) - 1))
        else:
            value += (field[0] & 0x3F) << (8 * (len(field) - 1))
        return value
    text = _cstr(field).strip(b" \0")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise ImageError(f"layer has a tar header with a bad {what} field {field!r}") from None


class TarReader:
    """Members of a tar stream, one at a time, each with a way to read its data."""

    def __init__(self, source: _Source, *, max_header_bytes: int) -> None:
        self._src = source
        self._buf = b""
        self._pos = 0
        self._max_header = max_header_bytes
        self._remaining = 0  # data bytes of the current member not yet consumed
        self._pad = 0

    # -- buffered exact reads -------------------------------------------------------------------
    def _fill(self, need: int) -> bool:
        while len(self._buf) - self._pos < need:
            chunk = self._src.read(max(_CHUNK, need))
            if not chunk:
                return False
            self._buf = self._buf[self._pos :] + chunk
            self._pos = 0
        return True

    def _take(self, n: int) -> bytes:
        if not self._fill(n):
            raise ImageError("layer is truncated: the tar stream ends inside a member")
        data = self._buf[self._pos : self._pos + n]
        self._pos += n
        return data

    def _skip(self, n: int) -> None:
        while n:
            avail = len(self._buf) - self._pos
            if avail == 0:
                if not self._fill(1):
                    raise ImageError("layer is truncated: the tar stream ends inside a member")
                continue
            step = min(n, avail)
            self._pos += step
            n -= step

    def read(self, n: int) -> bytes:
        """Up to `n` bytes of the current member's data (b"" once it is all read)."""
        n = min(n, self._remaining)
        if n <= 0:
            return b""
        avail = len(self._buf) - self._pos
        if avail == 0:
            if not self._fill(1):
                raise ImageError("layer is truncated: the tar stream ends inside a member")
            avail = len(self._buf) - self._pos
        n = min(n, avail)
        data = self._buf[self._pos : self._pos + n]
        self._pos += n
        self._remaining -= n
        return data

    # -- headers ----------------------------------------------------------------------------------
    def _block(self) -> bytes | None:
        """The next header block, or None at the end of the archive."""
        if not self._fill(_BLOCK):
            # Every tar writer ends with zero blocks; their absence is how a cut-short stream
            # shows (zstd's reader does not report a truncated frame), so it is an error.
            if len(self._buf) - self._pos == 0:
                raise ImageError("layer is truncated: the tar stream ends without its end-of-archive blocks")
            raise ImageError("layer is truncated inside a tar header")
        block = self._take(_BLOCK)
        if block.count(0) == _BLOCK:
            return None
        stored = _number(block[148:156], "checksum")
        unsigned = sum(block[:148]) + 8 * 0x20 + sum(block[156:])
        if stored != unsigned:
            signed = unsigned - 2 * sum(b for b in block[:148] + block[156:] if b > 127)
            if stored != signed:
                raise ImageError("layer has a tar header with a bad checksum: not a tar, or corrupt")
        return block

    def _extended(self, size: int, what: str) -> bytes:
        if size < 0 or size > self._max_header:
            raise ImageError(f"layer has a {size}-byte {what} header (limit {self._max_header})")
        data = self._take(size)
        self._skip(-size % _BLOCK)
        return data

    @staticmethod
    def _pax_records(data: bytes) -> dict[bytes, bytes]:
        records: dict[bytes, bytes] = {}
        pos = 0
        while pos < len(data):
            if data[pos] == 0:
                break  # some writers pad with NULs
            space = data.find(b" ", pos)
            if space < 0:
                raise ImageError("layer has a malformed PAX record")
            try:
                length = int(data[pos:space])
            except ValueError:
                raise ImageError("layer has a malformed PAX record length") from None
            end = pos + length
            if length <= 0 or end > len(data) or data[end - 1 : end] != b"\n":
                raise ImageError("layer has a malformed PAX record")
            key, eq, value = data[space + 1 : end - 1].partition(b"=")
            if not eq:
                raise ImageError("layer has a PAX record without '='")
            records[key] = value
            pos = end
        return records

    def __iter__(self) -> Iterator[Member]:
        return self

    def __next__(self) -> Member:
        # Whatever the caller did not read of the previous member is skipped here.
        self._skip(self._remaining + self._pad)
        self._remaining = self._pad = 0
        pax: dict[bytes, bytes] = {}
        long_name: bytes | None = None
        long_link: bytes | None = None
        while True:
            block = self._block()
            if block is None:
                raise StopIteration
            typeflag = block[156:157]
            size = _number(block[124:136], "size")
            if typeflag == b"x":
                pax.update(self._pax_records(self._extended(size, "PAX extended")))
                continue
            if typeflag == b"g":
                self._extended(size, "PAX global")  # global defaults: nothing a layer relies on
                continue
            if typeflag == b"L":
                long_name = _cstr(self._extended(size, "GNU long name"))
                continue
            if typeflag == b"K":
                long_link = _cstr(self._extended(size, "GNU long link"))
                continue
            break
        if typeflag == b"S" or any(k.startswith(b"GNU.sparse.") for k in pax):
            raise ImageError("layer has a GNU sparse file, which layers do not use")
        kind = _KNOWN.get(typeflag)
        if kind is None:
            raise ImageError(f"layer has a tar member of unsupported type {typeflag!r}")
        name = _cstr(block[0:100])
        if block[257:263] == b"ustar\0":
            prefix = _cstr(block[345:500])
            if prefix:
                name = prefix + b"/" + name
        if long_name is not None:
            name = long_name
        if b"path" in pax:
            name = pax[b"path"]
        linkname = pax.get(b"linkpath", long_link if long_link is not None else _cstr(block[157:257]))
        if typeflag in _REGULAR and name.endswith(b"/"):
            kind = "dir"  # pre-POSIX tars mark directories by a trailing slash only
        if b"size" in pax:
            size = _pax_int(pax[b"size"], "size")
        if size < 0:
            raise ImageError("layer has a tar member with a negative size")
        xattrs = tuple(
            (_decode(k[len(b"SCHILY.xattr.") :]), v) for k, v in pax.items() if k.startswith(b"SCHILY.xattr.")
        )
        member = Member(
            name=_decode(name),
            kind=kind,
            mode=_number(block[100:108], "mode") & 0o7777,
            uid=_pax_int(pax[b"uid"], "uid") if b"uid" in pax else _number(block[108:116], "uid"),
            gid=_pax_int(pax[b"gid"], "gid") if b"gid" in pax else _number(block[116:124], "gid"),
            size=size if kind == "file" else 0,
            mtime=_pax_int(pax[b"mtime"].split(b".")[0], "mtime") if b"mtime" in pax else _number(block[136:148], "mtime"),
            linkname=_decode(linkname),
            devmajor=_number(block[329:337], "devmajor") if kind in ("char", "block") else 0,
            devminor=_number(block[337:345], "devminor") if kind in ("char", "block") else 0,
            xattrs=xattrs,
        )
        # Only regular files carry data blocks; other types' size fields are ignored (POSIX).
        self._remaining = member.size
        self._pad = -member.size % _BLOCK
        return member


def _pax_int(value: bytes, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ImageError(f"layer has a bad PAX {what} value {value[:40]!r}") from None
