"""Drop directories that overlayfs copied up without changing them.

Overlayfs copies a lower directory up as soon as anything inside it is created, even a mount point
that the sandbox removes again after the run (for /etc/hosts and friends). Writing such a directory
into the layer would give every RUN an `etc/` entry that changes nothing. BuildKit's differ leaves
unchanged directories out unless something below them is in the layer; so do we.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from pybuildkit.snapshot.entries import Entry

__all__ = ["drop_unchanged_dirs"]


def _lower_stat(path: str, lowers: Sequence[Path]) -> os.stat_result | None:
    for lower in lowers:
        try:
            return os.lstat(os.path.join(lower, path))
        except (FileNotFoundError, NotADirectoryError):
            continue
    return None


def _unchanged(entry: Entry, lowers: Sequence[Path]) -> bool:
    if entry.kind != "dir" or entry.xattrs or not lowers:
        return False
    st = _lower_stat(entry.path, lowers)
    return (
        st is not None
        and stat.S_ISDIR(st.st_mode)
        and stat.S_IMODE(st.st_mode) == stat.S_IMODE(entry.mode)
        and (st.st_uid, st.st_gid) == (entry.uid, entry.gid)
        and int(st.st_mtime) == entry.mtime
    )


def drop_unchanged_dirs(entries: Iterable[Entry], lowers: Sequence[Path]) -> Iterator[Entry]:
    """`entries` (parents before children) without directories equal to their lower twin, unless
    something below them is emitted — then they come first, as parents must."""
    pending: list[Entry] = []
    for entry in entries:
        while pending and not entry.path.startswith(pending[-1].path + "/"):
            pending.pop()
        if _unchanged(entry, lowers):
            pending.append(entry)
            continue
        yield from pending
        pending.clear()
        yield entry
