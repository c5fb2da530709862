"""What goes into a layer, as a stream of `Entry` values, read from a directory tree.

Two readings of a directory: a full tree (a rootfs, or a COPY result staged in a dir), and an
overlayfs upper dir, whose whiteouts (char device 0/0) and opaque markers (`*.overlay.opaque`
xattr) become OCI whiteout entries. Both walks emit entries in one canonical order — depth first,
each directory's children sorted by their name *in the tar* — so the same tree always gives the
same layer, and the copy fallback (which builds its own entry stream) can match it byte for byte.
"""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import attrs

__all__ = [
    "Entry",
    "KINDS",
    "WHITEOUT_PREFIX",
    "OPAQUE_MARKER",
    "OVERLAY_OPAQUE_XATTRS",
    "PRIVATE_XATTR_PREFIXES",
    "is_private_xattr",
    "trusted_xattrs_usable",
    "read_xattrs",
    "entry_for",
    "whiteout_entry",
    "opaque_entry",
    "walk_tree",
    "walk_overlay_upper",
    "walk_subtree",
    "is_overlay_whiteout",
    "is_overlay_opaque",
    "sorted_children",
]

KINDS = ("file", "hardlink", "symlink", "char", "block", "dir", "fifo")
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OVERLAY_OPAQUE_XATTRS = ("trusted.overlay.opaque", "user.overlay.opaque")
#: Overlayfs' bookkeeping and our own copy-backend markers: never part of a layer, in or out.
PRIVATE_XATTR_PREFIXES = ("trusted.overlay.", "user.overlay.", "trusted.pybuildkit.", "user.pybuildkit.")


@attrs.frozen
class Entry:
    """One tar member to be: `path` is relative, '/'-separated, without a trailing slash.

    `source` is the absolute path to read a regular file's bytes from; `size` is what the header
    claims and exactly what is written. Whiteouts are plain `kind="file"` entries of size 0.
    """

    path: str
    kind: str
    mode: int = 0
    uid: int = 0
    gid: int = 0
    size: int = 0
    mtime: int = 0
    linkname: str = ""
    devmajor: int = 0
    devminor: int = 0
    xattrs: tuple[tuple[str, bytes], ...] = ()
    source: str | None = None


def trusted_xattrs_usable() -> bool:
    """Real root: `trusted.*` xattrs work. Not root, or root only inside a user namespace:
    overlayfs must be told `userxattr` and its markers live under `user.overlay.*`."""
    return _trusted_xattrs_usable(os.getpid(), os.geteuid())


@functools.lru_cache(maxsize=4)
def _trusted_xattrs_usable(pid: int, euid: int) -> bool:
    if euid != 0:
        return False
    try:
        with open("/proc/self/uid_map") as f:
            fields = f.read().split()
    except OSError:
        return True
    return fields[:3] == ["0", "0", "4294967295"]


def is_private_xattr(name: str) -> bool:
    """Overlayfs' own bookkeeping, or our markers: never part of a layer."""
    return name.startswith(PRIVATE_XATTR_PREFIXES)


def read_xattrs(path: str) -> tuple[tuple[str, bytes], ...]:
    """Extended attributes of `path` (not following symlinks), sorted, minus overlay's own."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return ()
    if not names:
        return ()
    out = []
    for name in sorted(names):
        if is_private_xattr(name):
            continue
        try:
            out.append((name, os.getxattr(path, name, follow_symlinks=False)))
        except OSError:
            continue
    return tuple(out)


def entry_for(
    abspath: str,
    relpath: str,
    st: os.stat_result,
    hardlinks: dict[tuple[int, int], str] | None,
) -> Entry | None:
    """The entry for one file system object, or None for what tar cannot carry (sockets).

    `hardlinks` maps (dev, inode) to the first path seen, so later names of the same inode become
    link entries — only within the one layer being written.
    """
    mode = st.st_mode
    perm = stat.S_IMODE(mode)
    xattrs = read_xattrs(abspath)
    common = {"mode": perm, "uid": st.st_uid, "gid": st.st_gid, "mtime": int(st.st_mtime), "xattrs": xattrs}
    if stat.S_ISDIR(mode):
        return Entry(relpath, "dir", **common)
    if hardlinks is not None and st.st_nlink > 1:
        key = (st.st_dev, st.st_ino)
        first = hardlinks.get(key)
        if first is not None:
            return Entry(relpath, "hardlink", linkname=first, **common)
        hardlinks[key] = relpath
    if stat.S_ISREG(mode):
        return Entry(relpath, "file", size=st.st_size, source=abspath, **common)
    if stat.S_ISLNK(mode):
        return Entry(relpath, "symlink", linkname=os.readlink(abspath), **common)
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "char" if stat.S_ISCHR(mode) else "block"
        return Entry(
            relpath, kind, devmajor=os.major(st.st_rdev), devminor=os.minor(st.st_rdev), **common
        )
    if stat.S_ISFIFO(mode):
        return Entry(relpath, "fifo", **common)
    return None


def whiteout_entry(parent: str, name: str) -> Entry:
    """`.wh.<name>`: the deletion of `name`. Time 0 and mode 0 so a deletion has one encoding."""
    return Entry(_join(parent, WHITEOUT_PREFIX + name), "file")


def opaque_entry(directory: str) -> Entry:
    """`<dir>/.wh..wh..opq`: everything below `directory` in lower layers is hidden."""
    return Entry(_join(directory, OPAQUE_MARKER), "file")


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


def is_overlay_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_overlay_opaque(path: str) -> bool:
    for name in OVERLAY_OPAQUE_XATTRS:
        try:
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return False


def sorted_children(path: str) -> list[os.DirEntry[str]]:
    """A directory's children in byte order of their names: the one order every walk uses."""
    with os.scandir(path) as it:
        children = list(it)
    children.sort(key=lambda d: os.fsencode(d.name))
    return children


def walk_tree(root: Path | str) -> Iterator[Entry]:
    """Every object below `root` (not root itself), parents before children, deterministic."""
    yield from _walk(os.fspath(root), "", overlay=False, hardlinks={})


def walk_overlay_upper(upper: Path | str) -> Iterator[Entry]:
    """The changes an overlayfs upper dir records, with whiteouts converted to OCI's spelling."""
    yield from _walk(os.fspath(upper), "", overlay=True, hardlinks={})


def walk_subtree(abspath: str, relpath: str, hardlinks: dict[tuple[int, int], str]) -> Iterator[Entry]:
    """Everything below `abspath` as a full tree, named under `relpath`, sharing `hardlinks`
    with the caller (for diff walks that switch to a whole new subtree)."""
    yield from _walk(abspath, relpath, overlay=False, hardlinks=hardlinks)


def _walk(
    abspath: str, relpath: str, *, overlay: bool, hardlinks: dict[tuple[int, int], str]
) -> Iterator[Entry]:
    named: list[tuple[bytes, str, os.stat_result | None, str]] = []
    for child in sorted_children(abspath):
        st = child.stat(follow_symlinks=False)
        if overlay and is_overlay_whiteout(st):
            named.append((os.fsencode(WHITEOUT_PREFIX + child.name), child.name, None, child.path))
        else:
            named.append((os.fsencode(child.name), child.name, st, child.path))
    named.sort(key=lambda item: item[0])
    for _, name, st, path in named:
        if st is None:
            yield whiteout_entry(relpath, name)
            continue
        rel = _join(relpath, name)
        entry = entry_for(path, rel, st, hardlinks)
        if entry is None:
            continue
        yield entry
        if entry.kind == "dir":
            if overlay and is_overlay_opaque(path):
                yield opaque_entry(rel)
            yield from _walk(path, rel, overlay=overlay, hardlinks=hardlinks)
