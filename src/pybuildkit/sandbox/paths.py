"""Resolve a path inside a root filesystem the way the container will see it.

An image is hostile input: `/etc` may be a symlink to `/../../host/etc`. Everything the builder
does inside a rootfs *from the host side* (reading /etc/passwd, creating mount points) goes through
`scoped_join`, which follows symlinks with the rootfs as `/` (chroot semantics, like
filepath-securejoin), so no path ever leaves the rootfs.
"""

from __future__ import annotations

import os
import stat
from collections import deque
from pathlib import Path

from pybuildkit.errors import SandboxError

__all__ = ["MAX_SYMLINKS", "scoped_join", "read_scoped"]

MAX_SYMLINKS = 255


def scoped_join(root: Path | str, unsafe: str) -> Path:
    """`root` joined with `unsafe`, every symlink resolved inside `root`; never escapes it.

    Missing components are kept literally (the caller may be about to create them).
    """
    root_s = os.fspath(root)
    pending = deque(unsafe.split("/"))
    resolved: list[str] = []
    hops = 0
    while pending:
        part = pending.popleft()
        if part in ("", "."):
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root_s, *resolved, part)
        try:
            st = os.lstat(candidate)
        except (FileNotFoundError, NotADirectoryError):
            resolved.append(part)
            continue
        if stat.S_ISLNK(st.st_mode):
            hops += 1
            if hops > MAX_SYMLINKS:
                raise SandboxError(f"too many levels of symbolic links resolving {unsafe!r} in {root_s}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            pending.extendleft(reversed(target.split("/")))
            continue
        resolved.append(part)
    return Path(root_s, *resolved)


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
