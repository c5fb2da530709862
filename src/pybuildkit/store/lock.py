"""A cross-process reader/writer lock on one file (fcntl.flock).

Writers that create or reference blobs hold it shared; garbage collection holds it exclusive, so a
GC never deletes a blob between its ingest and the record that references it. flock locks belong
to the open file, so every holder opens its own descriptor (threads included).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from pybuildkit.errors import StoreError

__all__ = ["FileLock", "file_lock"]


class FileLock:
    """One held flock; release() is idempotent."""

    def __init__(self, path: Path, *, exclusive: bool, blocking: bool = True) -> None:
        try:
            self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot open store lock {path}: {exc.strerror}") from None
        flags = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        if not blocking:
            flags |= fcntl.LOCK_NB
        try:
            fcntl.flock(self._fd, flags)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise StoreError("the store is busy (another pybuild process holds its lock)") from None
        except OSError as exc:
            os.close(self._fd)
            self._fd = None
            raise StoreError(f"cannot lock store {path}: {exc.strerror}") from None

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the descriptor drops the flock

    def __del__(self) -> None:
        self.release()


@contextlib.contextmanager
def file_lock(path: Path, *, exclusive: bool, blocking: bool = True) -> Iterator[None]:
    lock = FileLock(path, exclusive=exclusive, blocking=blocking)
    try:
        yield
    finally:
        lock.release()
