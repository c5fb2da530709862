"""ADD's local archives: recognising a tar by its bytes and unpacking it safely.

BuildKit unpacks an ADD source when its content (not its name) is a tar, plain or compressed
(gzip, bzip2, xz, zstd), and the first header decodes. The archive is user input: entries are
placed as if the extraction directory were `/` (what Docker's chrootarchive gets from chroot), so
`../x`, `/etc/x`, a symlink to `/` followed by `link/x`, or a hardlink to `../../host` all stay
inside it. Unlike a layer, an ADD archive has no whiteouts: `.wh.x` is an ordinary name.

`snapshot.apply_layer` is not reused: it gives `.wh.` names their layer meaning, knows only gzip
and zstd, and refuses writes through absolute symlinks instead of scoping them.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import stat as stat_mod
import tarfile
from typing import BinaryIO

from pybuildkit.errors import BuildError
from pybuildkit.execute.destfs import DestTree, write_stream
from pybuildkit.execute.manifest import WrittenEntry

__all__ = ["detect_compression", "is_archive", "extract_archive"]

_MAGICS = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


def detect_compression(head: bytes) -> str:
    """"gzip", "bzip2", "xz", "zstd" or "none", from a stream's first bytes."""
    for magic, name in _MAGICS:
        if head.startswith(magic):
            return name
    return "none"


def _decompressed(raw: BinaryIO, kind: str) -> BinaryIO:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if kind == "bzip2":
        return bz2.BZ2File(raw, mode="rb")  # type: ignore[return-value]
    if kind == "xz":
        return lzma.LZMAFile(raw, mode="rb")  # type: ignore[return-value]
    if kind == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)  # type: ignore[return-value]
    return raw


def _header_ok(block: bytes) -> bool:
    """Does a 512-byte block hold a tar header with a valid checksum (what Go's tar.Next needs)?"""
    if len(block) < 512 or block.count(0) == 512:
        return False
    try:
        stored = int(block[148:156].replace(b"\0", b" ").strip() or b"-1", 8)
    except ValueError:
        return False
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:512])
    signed = sum(b - 256 if b > 127 else b for b in block[:148]) + 8 * 32 + sum(
        b - 256 if b > 127 else b for b in block[156:512]
    )
    return stored in (unsigned, signed)


def is_archive(path: str | os.PathLike[str]) -> bool:
    """True if `path` is a regular file whose (decompressed) content starts with a tar header."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as handle:
        if not stat_mod.S_ISREG(os.fstat(fd).st_mode):
            return False
        kind = detect_compression(handle.read(6))
        handle.seek(0)
        try:
            block = _decompressed(handle, kind).read(512)
        except Exception:  # any decoder's error means "not an archive we can open"
            return False
    return _header_ok(block)


def _parts(name: str) -> list[str]:
    """An entry name as components below the extraction root; `..` may not climb above it."""
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise BuildError(f"archive entry {name!r} points outside the extraction directory")
            parts.pop()
            continue
        parts.append(part)
    return parts


def _xattrs(member: tarfile.TarInfo) -> list[tuple[str, bytes]]:
    out = []
    for key, value in member.pax_headers.items():
        if key.startswith("SCHILY.xattr."):
            name = key[len("SCHILY.xattr.") :]
            if not name.startswith(("trusted.overlay.", "user.overlay.")):
                out.append((name, value.encode("utf-8", "surrogateescape")))
    return out


class _Extractor:
    def __init__(self, tree: DestTree, base: str) -> None:
        self.tree = tree
        self.base = base  # container path of the extraction directory
        # Resolution rooted at the extraction dir (chroot-like), records reported against the tree.
        self.scope = DestTree(tree.resolve(base), records=tree.records, report_root=tree.root)
        self.dirs: list[tuple[str, int, int]] = []

    def parent(self, parts: list[str]) -> str:
        return self.scope.ensure_dir("/" + "/".join(parts[:-1]))

    def record(self, host: str, kind: str, member: tarfile.TarInfo, **extra: object) -> None:
        self.tree.records.append(
            WrittenEntry(self.tree.rel(host), kind, member.mode & 0o7777, member.uid, member.gid, **extra)  # type: ignore[arg-type]
        )

    def member(self, tf: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        parts = _parts(m.name)
        if not parts:
            return
        mtime_ns = int(m.mtime) * 1_000_000_000
        if m.isdir():
            parent = self.parent(parts)
            host, _ = self.scope.open_dir(parent, parts[-1])
            self.tree.set_meta(host, uid=m.uid, gid=m.gid, mode=(m.mode & 0o7777) | 0o700, mtime_ns=None, xattrs=_xattrs(m))
            self.dirs.append((host, m.mode & 0o7777, mtime_ns))
            self.record(host, "dir", m)
            return
        parent = self.parent(parts)
        meta = dict(uid=m.uid, gid=m.gid, mtime_ns=mtime_ns, xattrs=_xattrs(m))
        if m.isreg():
            src = tf.extractfile(m)
            assert src is not None
            result: dict[str, object] = {}

            def make_file(tmp: str) -> None:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
                try:
                    result["content"], result["size"] = write_stream(src.read, fd)
                finally:
                    os.close(fd)
                self.tree.set_meta(tmp, mode=m.mode & 0o7777, **meta)  # type: ignore[arg-type]

            host = self.tree.place(parent, parts[-1], make_file)
            self.record(host, "file", m, size=result["size"], content=result["content"])
        elif m.issym():

            def make_link(tmp: str) -> None:
                os.symlink(m.linkname, tmp)
                self.tree.set_meta(tmp, mode=None, **meta)  # type: ignore[arg-type]

            host = self.tree.place(parent, parts[-1], make_link)
            self.record(host, "symlink", m, target=m.linkname)
        elif m.islnk():
            link_parts = _parts(m.linkname)
            if not link_parts:
                raise BuildError(f"archive hardlink {m.name!r} points at the extraction directory")
            source = os.path.join(self.parent(link_parts), link_parts[-1])
            try:
                st = os.lstat(source)
            except FileNotFoundError:
                raise BuildError(f"archive hardlink {m.name!r} -> {m.linkname!r}: target not found in the archive") from None
            if stat_mod.S_ISDIR(st.st_mode):
                raise BuildError(f"archive hardlink {m.name!r} points at a directory")
            host = self.tree.place(parent, parts[-1], lambda tmp: os.link(source, tmp, follow_symlinks=False))
            self.record(host, "hardlink", m, target="/" + "/".join(link_parts))
        elif m.isfifo() or m.ischr() or m.isblk():
            kind = "fifo" if m.isfifo() else ("char" if m.ischr() else "block")

            def make_node(tmp: str) -> None:
                if m.isfifo():
                    os.mkfifo(tmp, 0o600)
                else:
                    fmt = stat_mod.S_IFCHR if m.ischr() else stat_mod.S_IFBLK
                    os.mknod(tmp, fmt | 0o600, os.makedev(m.devmajor, m.devminor))
                self.tree.set_meta(tmp, mode=m.mode & 0o7777, **meta)  # type: ignore[arg-type]

            try:
                host = self.tree.place(parent, parts[-1], make_node)
            except PermissionError:
                if self.tree.is_root:
                    raise
                return  # device nodes need root; rootless builds skip them, as Docker does
            self.record(host, kind, m)
        else:
            raise BuildError(f"archive entry {m.name!r} has an unsupported type {m.type!r}")

    def finish(self) -> None:
        for host, mode, mtime_ns in reversed(self.dirs):
            os.chmod(host, mode)
            os.utime(host, ns=(mtime_ns, mtime_ns), follow_symlinks=False)


def extract_archive(archive: str | os.PathLike[str], tree: DestTree, dest: str, *, uid: int = 0, gid: int = 0) -> int:
    """Unpack `archive` into container directory `dest` of `tree` (made 0755 uid:gid if missing).

    Entries keep the archive's owners, modes, times and xattrs, as BuildKit's ADD does. Records
    land in `tree.records`; returns the number of entries. BuildError for a corrupt or hostile
    archive (what was placed before the bad entry stays; the caller discards the snapshot).
    """
    tree.ensure_dir(dest, uid=uid, gid=gid)
    extractor = _Extractor(tree, dest)
    count = 0
    try:
        with open(archive, "rb") as raw:
            kind = detect_compression(raw.read(6))
            raw.seek(0)
            stream = _decompressed(raw, kind)
            with tarfile.open(fileobj=stream, mode="r|") as tf:
                for member in tf:
                    tf.members.clear()  # stream mode would keep every header otherwise
                    count += 1
                    extractor.member(tf, member)
    except (tarfile.TarError, EOFError, lzma.LZMAError, OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise BuildError(f"cannot unpack {os.path.basename(os.fspath(archive))}: {reason}") from None
    except Exception as exc:
        if type(exc).__name__ == "ZstdError":
            raise BuildError(f"cannot unpack {os.path.basename(os.fspath(archive))}: {exc}") from None
        raise
    extractor.finish()
    return count
