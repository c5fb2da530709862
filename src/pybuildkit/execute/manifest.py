"""What a file operation wrote, as records and one digest over them.

The executor may key later work on what COPY/ADD actually produced (after --chown/--chmod, after
an archive was unpacked), which the source digest cannot tell. The digest covers path, kind, mode,
owner, size, link target and content hash, and never mtimes, so the same inputs give the same
digest on every machine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import attrs

__all__ = ["WrittenEntry", "manifest_digest", "MANIFEST_VERSION"]

MANIFEST_VERSION = 1


@attrs.frozen
class WrittenEntry:
    """One path written below the destination root (`path` relative to it, `/`-separated).
    `kind` is file, dir, symlink, hardlink, fifo, char or block; `content` is `sha256:<hex>` for
    regular files and hardlinks, `""` otherwise."""

    path: str
    kind: str
    mode: int
    uid: int
    gid: int
    size: int = 0
    target: str = ""
    content: str = ""

    def line(self) -> bytes:
        text = (
            f"{self.path}\0{self.kind}\0{self.mode:o}\0{self.uid}\0{self.gid}\0{self.size}\0"
            f"{self.target}\0{self.content}\n"
        )
        return text.encode("utf-8", "surrogateescape")


def manifest_digest(entries: Iterable[WrittenEntry]) -> str:
    """sha256 over the records sorted by path (the last record of a path wins, as on disk)."""
    final: dict[str, WrittenEntry] = {}
    for entry in entries:
        final[entry.path] = entry
    digest = hashlib.sha256(f"pybuildkit-written-v{MANIFEST_VERSION}\n".encode())
    # "\0" sorts below any character a path component can hold: one string per path orders
    # like its list of components would, for a fraction of the memory on big COPYs.
    for path in sorted(final, key=lambda p: p.replace("/", "\0")):
        digest.update(final[path].line())
    return "sha256:" + digest.hexdigest()
