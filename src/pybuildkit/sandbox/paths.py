"""Resolve a path inside a root filesystem the way the container will see it.

An image is hostile input: `/etc` may be a symlink to `/../../host/etc`. Everything the builder
does inside a rootfs *from the host side* (reading /etc/passwd, creating mount points) goes through
`scoped_join`, which follows symlinks with the rootfs as `/` (chroot semantics, like
filepath-securejoin), so no path ever leaves the rootfs.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from pybuildkit.errors import SandboxError
from pybuildkit.fspath import resolve_in_root

__all__ = ["scoped_join", "read_scoped"]


def scoped_join(root: Path | str, unsafe: str) -> Path:
    """`root` joined with `unsafe`, every symlink resolved inside `root`; never escapes it
    (:func:`pybuildkit.fspath.resolve_in_root`); a link loop is the sandbox's error.

    Missing components are kept literally (the caller may be about to create them).
    """
    try:
        return Path(resolve_in_root(root, unsafe))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SandboxError(f"too many levels of symbolic links resolving {unsafe!r} in {os.fspath(root)}") from None
        raise


def read_scoped(root: Path | str, unsafe: str, *, limit: int = 16 << 20) -> bytes | None:
    """The bytes of a regular file inside `root`, or None if it does not exist.

    The final open uses O_NOFOLLOW so a symlink swapped in after resolution is refused.
    """
    path = scoped_join(root, unsafe)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise SandboxError(f"cannot read {unsafe} in {root}: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SandboxError(f"{unsafe} in {root} is not a regular file")
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1 << 16):
            size += len(chunk)
            if size > limit:
                raise SandboxError(f"{unsafe} in {root} is larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
