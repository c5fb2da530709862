"""Apply a layer tar onto a directory, treating the tar as hostile.

Every path is resolved one component at a time from a directory fd with O_NOFOLLOW, so no entry
can land outside the target: `..` components, absolute names, hardlinks to outside, and writes
through a symlink that points outside (absolute, or climbing above the root) are refused with
`ImageError`. Relative symlinks that stay inside (Debian's `lib -> usr/lib`) are followed, as a
rootfs needs. Compression is recognised by magic bytes; PAX/GNU header sizes and the total
uncompressed size are bounded; the uncompressed stream is hashed on the way so the diff_id can be
checked without reading the layer twice.

Whiteouts have two meanings, chosen by the caller: "apply" deletes from the lower content already
in the target (flattening), "overlay" records them the way overlayfs reads a lowerdir (char
device 0/0, `trusted.overlay.opaque=y`), which is how a snapshot directory keeps one layer.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import os
import shutil
import stat
import zlib
from pathlib import Path
from typing import BinaryIO

import attrs

from pybuildkit.errors import ImageError, StoreError
from pybuildkit.snapshot.entries import OPAQUE_MARKER, WHITEOUT_PREFIX, is_private_xattr, trusted_xattrs_usable
from pybuildkit.snapshot.tarreader import Member, TarReader

__all__ = ["UnpackLimits", "ApplyResult", "apply_layer", "detect_compression"]

_CHUNK = 1 << 20
_MAX_SYMLINK_HOPS = 40
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@attrs.frozen
class UnpackLimits:
    """Bounds on what a layer may make us do; None means unbounded."""

    max_header_bytes: int = 1 << 20
    max_uncompressed_bytes: int | None = 64 << 30
    max_entries: int | None = 10_000_000
    max_path_bytes: int = 4096


@attrs.frozen
class ApplyResult:
    diff_id: str
    uncompressed_size: int
    entries: int


def detect_compression(head: bytes) -> str:
    """"gzip", "zstd" or "none", from a stream's first bytes."""
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return "none"


class _Prefixed(io.RawIOBase):
    """The bytes already peeked, then the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n < 0 or n >= len(self._head):
                head, self._head = self._head, b""
                return head + (self._rest.read(n - len(head)) if n > len(head) else b"")
            head, self._head = self._head[:n], self._head[n:]
            return head
        return self._rest.read(n)

    def readinto(self, buf) -> int:  # type: ignore[no-untyped-def]
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)


class _Counted(io.RawIOBase):
    """The uncompressed tar: hashed for the diff_id and cut off at the size limit."""

    def __init__(self, inner: BinaryIO, limit: int | None) -> None:
        self._inner = inner
        self._limit = limit
        self.hash = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        try:
            data = self._inner.read(n if n is not None and n >= 0 else _CHUNK)
        except (OSError, EOFError, zlib.error) as exc:
            raise ImageError(f"layer is not a valid compressed stream: {exc}") from exc
        except Exception as exc:  # zstandard raises its own ZstdError
            if type(exc).__name__ == "ZstdError":
                raise ImageError(f"layer is not a valid zstd stream: {exc}") from exc
            raise
        self.size += len(data)
        if self._limit is not None and self.size > self._limit:
            raise ImageError(
                f"layer expands beyond {self._limit} bytes uncompressed",
                hint="a decompression bomb, or raise UnpackLimits.max_uncompressed_bytes",
            )
        self.hash.update(data)
        return data

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass


def _open_stream(layer: BinaryIO, limits: UnpackLimits) -> _Counted:
    head = layer.read(4)
    kind = detect_compression(head)
    raw: BinaryIO = _Prefixed(head, layer)  # type: ignore[assignment]
    if kind == "gzip":
        inner: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    elif kind == "zstd":
        import zstandard

        inner = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)  # type: ignore[assignment]
    else:
        inner = raw
    return _Counted(inner, limits.max_uncompressed_bytes)


def _components(name: str, limits: UnpackLimits, what: str = "entry") -> list[str]:
    if len(os.fsencode(name)) > limits.max_path_bytes:
        raise ImageError(f"layer {what} name is longer than {limits.max_path_bytes} bytes")
    if "\0" in name:
        raise ImageError(f"layer {what} {name!r} has a NUL byte in its name")
    if name.startswith("/"):
        raise ImageError(f"layer {what} {name!r} is an absolute path", hint="layer paths are relative to the root")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ImageError(f"layer {what} {name!r} climbs out with '..'")
    return parts


class _Target:
    """A directory opened once; paths below it resolved fd by fd, never through the host's '/'."""

    def __init__(self, root: Path) -> None:
        self.fd = os.open(root, _DIR_FLAGS)
        self._cached: tuple[tuple[str, ...], int] | None = None

    def close(self) -> None:
        self.forget()
        os.close(self.fd)

    def forget(self) -> None:
        """Drop the cached parent fd: a removal may have changed what a path resolves to."""
        if self._cached is not None:
            os.close(self._cached[1])
            self._cached = None

    def parent(self, parts: list[str], *, create: bool) -> int | None:
        """A borrowed fd of the directory holding the last component (None if absent and not
        `create`)."""
        key = tuple(parts[:-1])
        if self._cached is not None and self._cached[0] == key:
            return self._cached[1]
        fd = self.open_dir(list(key), create=create)
        if fd is None:
            return None
        self.forget()
        self._cached = (key, fd)
        return fd

    def open_dir(self, parts: list[str], *, create: bool) -> int | None:
        """An owned fd of the directory `parts`, following only symlinks that stay inside."""
        fd = os.dup(self.fd)
        stack: list[int] = []
        pending = list(parts)
        hops = 0
        try:
            while pending:
                comp = pending.pop(0)
                if comp in ("", "."):
                    continue
                if comp == "..":
                    if not stack:
                        raise ImageError(f"layer path {'/'.join(parts)!r} resolves outside the target through a symlink")
                    os.close(fd)
                    fd = stack.pop()
                    continue
                try:
                    nfd = os.open(comp, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        return None
                    os.mkdir(comp, 0o755, dir_fd=fd)
                    nfd = os.open(comp, _DIR_FLAGS, dir_fd=fd)
                    os.fchmod(nfd, 0o755)
                except OSError as exc:
                    if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                        raise
                    st = os.lstat(comp, dir_fd=fd)
                    if not stat.S_ISLNK(st.st_mode):
                        raise ImageError(f"layer path {'/'.join(parts)!r} goes through {comp!r}, which is not a directory") from None
                    hops += 1
                    if hops > _MAX_SYMLINK_HOPS:
                        raise ImageError(f"layer path {'/'.join(parts)!r}: too many symlinks") from None
                    target = os.readlink(comp, dir_fd=fd)
                    if target.startswith("/"):
                        raise ImageError(
                            f"layer path {'/'.join(parts)!r} writes through symlink {comp!r} -> {target!r}, "
                            "which points outside the layer"
                        ) from None
                    pending[0:0] = target.split("/")
                    continue
                stack.append(fd)
                fd = nfd
            result, fd = fd, -1
            return result
        finally:
            for sfd in stack:
                os.close(sfd)
            if fd >= 0:
                os.close(fd)


def _remove(parent_fd: int, name: str) -> bool:
    """Remove `name` (a whole subtree if a directory); True if something was there."""
    try:
        st = os.lstat(name, dir_fd=parent_fd)
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(name, dir_fd=parent_fd)
    else:
        os.unlink(name, dir_fd=parent_fd)
    return True


def _proc_path(parent_fd: int, name: str) -> str:
    return f"/proc/self/fd/{parent_fd}/{name}"


class _Applier:
    def __init__(self, target: Path, whiteouts: str, limits: UnpackLimits) -> None:
        self.t = _Target(target)
        self.whiteouts = whiteouts
        self.limits = limits
        self.written: set[str] = set()
        self.dirs: list[tuple[list[str], int, int]] = []
        self.is_root = os.geteuid() == 0
        self.opaque_xattr = "trusted.overlay.opaque" if trusted_xattrs_usable() else "user.overlay.opaque"

    def close(self) -> None:
        self.t.close()

    # -- per member -------------------------------------------------------------------------
    def member(self, tf: TarReader, m: Member) -> None:
        parts = _components(m.name, self.limits)
        if not parts:
            return  # the root itself: its metadata belongs to whoever owns the target
        base = parts[-1]
        if base.startswith(WHITEOUT_PREFIX):
            self.whiteout(parts)
            return
        pfd = self.t.parent(parts, create=True)
        assert pfd is not None
        self.written.add("/".join(parts))
        if m.kind == "dir":
            self.directory(pfd, parts, m)
            return
        if _remove(pfd, base):
            self.t.forget()
            pfd = self.t.parent(parts, create=True)
            assert pfd is not None
        if m.kind == "file":
            self.regular(tf, m, pfd, base)
        elif m.kind == "symlink":
            os.symlink(m.linkname, base, dir_fd=pfd)
            self.finish_nonfile(pfd, base, m, chmod=False)
        elif m.kind == "hardlink":
            self.hardlink(m, pfd, base)
        else:
            self.special(m, pfd, base)

    def regular(self, tf: TarReader, m: Member, pfd: int, base: str) -> None:
        fd = os.open(base, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=pfd)
        try:
            remaining = m.size
            while remaining:
                chunk = tf.read(min(remaining, _CHUNK))
                if not chunk:
                    raise ImageError(f"layer is truncated inside {m.name!r}")
                _write_all(fd, chunk)
                remaining -= len(chunk)
            self.owner(lambda: os.fchown(fd, m.uid, m.gid))
            os.fchmod(fd, m.mode & 0o7777)
            self.xattrs(fd, m)
            os.utime(fd, (m.mtime, m.mtime))
        finally:
            os.close(fd)

    def directory(self, pfd: int, parts: list[str], m: Member) -> None:
        base = parts[-1]
        try:
            st = os.lstat(base, dir_fd=pfd)
        except FileNotFoundError:
            st = None
        if st is not None and not stat.S_ISDIR(st.st_mode):
            os.unlink(base, dir_fd=pfd)
            st = None
        if st is None:
            os.mkdir(base, 0o700, dir_fd=pfd)
        fd = os.open(base, _DIR_FLAGS, dir_fd=pfd)
        try:
            self.owner(lambda: os.fchown(fd, m.uid, m.gid))
            self.xattrs(fd, m)
            # Mode and time last, after children: a 0555 dir must still take its entries, and
            # creating children would bump the time again.
            os.fchmod(fd, (m.mode & 0o7777) | 0o700)
        finally:
            os.close(fd)
        self.dirs.append((parts, m.mode & 0o7777, int(m.mtime)))

    def hardlink(self, m: Member, pfd: int, base: str) -> None:
        src_parts = _components(m.linkname, self.limits, "hardlink target")
        if not src_parts:
            raise ImageError(f"layer hardlink {m.name!r} points at the root directory")
        sfd = self.t.open_dir(src_parts[:-1], create=False)
        if sfd is None:
            raise ImageError(f"layer hardlink {m.name!r} -> {m.linkname!r}: target does not exist in the layer")
        try:
            try:
                st = os.lstat(src_parts[-1], dir_fd=sfd)
            except FileNotFoundError:
                raise ImageError(f"layer hardlink {m.name!r} -> {m.linkname!r}: target does not exist") from None
            if stat.S_ISDIR(st.st_mode):
                raise ImageError(f"layer hardlink {m.name!r} points at a directory")
            os.link(src_parts[-1], base, src_dir_fd=sfd, dst_dir_fd=pfd, follow_symlinks=False)
        finally:
            os.close(sfd)

    def special(self, m: Member, pfd: int, base: str) -> None:
        if m.kind == "fifo":
            os.mkfifo(base, 0o600, dir_fd=pfd)
        else:
            kind = stat.S_IFCHR if m.kind == "char" else stat.S_IFBLK
            try:
                os.mknod(base, kind | 0o600, os.makedev(m.devmajor, m.devminor), dir_fd=pfd)
            except PermissionError:
                if self.is_root:
                    raise
                return  # device nodes need root; rootless unpacking skips them, as Docker does
        self.finish_nonfile(pfd, base, m, chmod=True)

    def finish_nonfile(self, pfd: int, base: str, m: Member, *, chmod: bool) -> None:
        self.owner(lambda: os.chown(base, m.uid, m.gid, dir_fd=pfd, follow_symlinks=False))
        if chmod:
            # The object was just created by us as a non-symlink, so following is harmless.
            os.chmod(_proc_path(pfd, base), m.mode & 0o7777)
        if m.xattrs:
            for key, value in _xattrs_of(m):
                try:
                    os.setxattr(_proc_path(pfd, base), key, value, follow_symlinks=False)
                except OSError:
                    pass
        os.utime(base, (m.mtime, m.mtime), dir_fd=pfd, follow_symlinks=False)

    def owner(self, chown) -> None:  # type: ignore[no-untyped-def]
        try:
            chown()
        except PermissionError:
            if self.is_root:
                raise

    def xattrs(self, fd: int, m: Member) -> None:
        if not m.xattrs:
            return
        for key, value in _xattrs_of(m):
            try:
                os.setxattr(fd, key, value)
            except OSError as exc:
                if exc.errno not in (errno.ENOTSUP, errno.EPERM, errno.EACCES):
                    raise

    # -- whiteouts ----------------------------------------------------------------------------
    def whiteout(self, parts: list[str]) -> None:
        base = parts[-1]
        if base == OPAQUE_MARKER:
            self.opaque(parts[:-1])
            return
        victim = base[len(WHITEOUT_PREFIX):]
        if victim in ("", ".", "..") or victim.startswith(WHITEOUT_PREFIX):
            return  # aufs metadata (`.wh..wh.plnk` …) or nonsense: nothing to delete
        if self.whiteouts == "overlay":
            pfd = self.t.parent(parts, create=True)
            assert pfd is not None
            if _remove(pfd, victim):
                self.t.forget()
                pfd = self.t.parent(parts, create=True)
                assert pfd is not None
            try:
                os.mknod(victim, stat.S_IFCHR | 0o000, os.makedev(0, 0), dir_fd=pfd)
            except PermissionError as exc:
                raise StoreError(
                    "keeping a layer's whiteouts in overlay format needs CAP_MKNOD",
                    hint="run as root (or root in a user namespace), or apply layers flattened",
                ) from exc
            return
        pfd = self.t.parent(parts, create=False)
        if pfd is not None and _remove(pfd, victim):
            self.t.forget()

    def opaque(self, dir_parts: list[str]) -> None:
        fd = self.t.open_dir(dir_parts, create=True)
        assert fd is not None
        try:
            if self.whiteouts == "overlay":
                os.setxattr(fd, self.opaque_xattr, b"y")
            else:
                self._clear_lower(fd, "/".join(dir_parts))
                self.t.forget()
        finally:
            os.close(fd)

    def _clear_lower(self, fd: int, prefix: str) -> None:
        """Delete what lower layers put below a dir, keeping what this layer already wrote."""
        for name in os.listdir(fd):
            rel = f"{prefix}/{name}" if prefix else name
            if rel not in self.written:
                _remove(fd, name)
                continue
            try:
                cfd = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError:
                continue
            try:
                self._clear_lower(cfd, rel)
            finally:
                os.close(cfd)

    def finish(self) -> None:
        for parts, mode, mtime in reversed(self.dirs):
            try:
                fd = self.t.open_dir(parts, create=False)
            except ImageError:
                continue  # replaced by a non-directory later in the layer
            if fd is None:
                continue
            try:
                os.fchmod(fd, mode)
                os.utime(fd, (mtime, mtime))
            finally:
                os.close(fd)


def _xattrs_of(m: Member) -> list[tuple[str, bytes]]:
    # A layer must not smuggle in overlayfs' (or our) control attributes.
    return [(k, v) for k, v in m.xattrs if not is_private_xattr(k)]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def apply_layer(
    layer: BinaryIO,
    target: Path,
    *,
    whiteouts: str = "apply",
    limits: UnpackLimits = UnpackLimits(),
    expect_diff_id: str | None = None,
) -> ApplyResult:
    """Unpack the layer read from `layer` (any compression) onto the existing dir `target`.

    `whiteouts="apply"` deletes what `.wh.` entries name (flattening onto lower content);
    `"overlay"` stores them as overlayfs whiteouts instead. Duplicate entries: the last wins.
    Raises `ImageError` for malformed or hostile input, and if `expect_diff_id` does not match.
    """
    if whiteouts not in ("apply", "overlay"):
        raise ValueError(f"whiteouts must be 'apply' or 'overlay', not {whiteouts!r}")
    stream = _open_stream(layer, limits)
    applier = _Applier(Path(target), whiteouts, limits)
    count = 0
    try:
        try:
            reader = TarReader(stream, max_header_bytes=limits.max_header_bytes)
            for m in reader:
                count += 1
                if limits.max_entries is not None and count > limits.max_entries:
                    raise ImageError(f"layer has more than {limits.max_entries} entries")
                applier.member(reader, m)
        except UnicodeError as exc:
            raise ImageError(f"layer has an undecodable header: {exc}") from exc
        except (ImageError, StoreError):
            raise
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StoreError(f"no space left to apply layer: {exc}") from exc
            raise ImageError(f"cannot apply layer entry: {exc}") from exc
        stream.drain()
        applier.finish()
    finally:
        applier.close()
    diff_id = "sha256:" + stream.hash.hexdigest()
    if expect_diff_id is not None and diff_id != expect_diff_id:
        raise ImageError(f"layer diff_id is {diff_id}, expected {expect_diff_id}", hint="the layer blob is corrupt")
    return ApplyResult(diff_id=diff_id, uncompressed_size=stream.size, entries=count)
