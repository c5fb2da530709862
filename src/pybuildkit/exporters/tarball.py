"""Deterministic archive writing: sorted entries, fixed owner, modes and mtimes, written atomically.

The same image must give the same archive bytes (so archives can be cached, diffed and signed),
and a failed export must leave no half-written file where the user asked for one.
"""

from __future__ import annotations

import contextlib
import hashlib
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import attrs

from pybuildkit.atomicfile import atomic_writer
from pybuildkit.errors import ImageError, StoreError

__all__ = ["TarEntry", "write_tar", "atomic_output", "HashingReader", "FIXED_MTIME"]

FIXED_MTIME = 0


@attrs.frozen
class TarEntry:
    """One member: a directory (`opener` None and `size` -1) or a file of `size` bytes."""

    name: str
    size: int = -1
    opener: Callable[[], BinaryIO] | None = None

    @property
    def is_dir(self) -> bool:
        return self.opener is None


class HashingReader:
    """A read-only stream that hashes what passes through it, to check a digest on the way out."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self._hash.update(data)
        self.size += len(data)
        return data

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()


def write_tar(out: BinaryIO, entries: list[TarEntry], *, verify: Callable[[TarEntry, HashingReader], None] | None = None) -> None:
    """Write `entries` sorted by name, as ustar with uid/gid 0 and a fixed mtime."""
    seen: set[str] = set()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name in seen:
                continue
            seen.add(entry.name)
            info = tarfile.TarInfo(entry.name)
            info.mtime = FIXED_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if entry.opener is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
                continue
            info.mode = 0o644
            info.size = entry.size
            with entry.opener() as raw:
                reader = HashingReader(raw)
                try:
                    tar.addfile(info, reader)  # type: ignore[arg-type]
                except OSError as exc:
                    raise ImageError(f"cannot write {entry.name}: {exc}") from None
                if verify is not None:
                    verify(entry, reader)


@contextlib.contextmanager
def atomic_output(dest: Path) -> Iterator[BinaryIO]:
    """A file that appears at `dest` only if the block succeeds (see :mod:`pybuildkit.atomicfile`).

    Only a failure to start the file is a StoreError here: errors inside the block are the caller's.
    """
    with contextlib.ExitStack() as stack:
        try:
            handle = stack.enter_context(atomic_writer(dest, parents=True))
        except OSError as exc:
            raise StoreError(f"cannot write {dest}: {exc.strerror}") from None
        yield handle
