"""Resolving a path inside a root directory as if that root were `/` (chroot semantics).

A build context and an image rootfs are both hostile input: `/etc` may be a link to
`../../../host/etc`, a context file may link to `/root/.ssh`. Whenever the builder looks into one
from the host side it must follow links the way the container (or BuildKit's context walk) would,
with the root as `/`, like filepath-securejoin: an absolute target restarts at the root, `..`
stops there, so the result can never name anything outside the root.

This is the one implementation; the context layer (`context.resolve_in_root`) and the sandbox
layer (`sandbox.paths.scoped_join`) only turn a link loop into their own project error.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import deque

__all__ = ["MAX_SYMLINKS", "resolve_in_root"]

MAX_SYMLINKS = 255


def resolve_in_root(root: str | os.PathLike[str], path: str) -> str:
    """`root` joined with `path` (absolute or relative to the root), every link resolved inside it.

    Missing or non-directory components are kept literally (the caller decides whether absence is
    an error, or is about to create them); a `..` after one is applied lexically.

    Raises OSError(ELOOP) after MAX_SYMLINKS links; other lstat/readlink errors propagate.
    """
    base = os.fspath(root)
    pending = deque(path.split("/"))
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
        candidate = os.path.join(base, *resolved, part)
        try:
            st = os.lstat(candidate)
        except (FileNotFoundError, NotADirectoryError):
            resolved.append(part)
            continue
        if not stat.S_ISLNK(st.st_mode):
            resolved.append(part)
            continue
        hops += 1
        if hops > MAX_SYMLINKS:
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
        target = os.readlink(candidate)
        if target.startswith("/"):
            resolved = []
        pending.extendleft(reversed(target.split("/")))
    return os.path.join(base, *resolved) if resolved else base
