"""A cross-process reader/writer lock on one file (fcntl.flock).

Writers that create or reference blobs hold it shared; garbage collection holds it exclusive, so a
GC never deletes a blob between its ingest and the record that references it. flock locks belong
to the open file, so every holder opens its own descriptor (threads included).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from pybuildkit.errors import StoreError

__all__ = ["FileLock", "file_lock", "shared_held_by_this_thread"]

# (thread id, lock path) -> shared locks that thread holds. A thread asking for the exclusive lock
# while it holds a shared one would wait for itself forever; callers check this first.
_shared_holders: dict[tuple[int, str], int] = {}
_holders_lock = threading.Lock()


def shared_held_by_this_thread(path: Path) -> bool:
    with _holders_lock:
        return _shared_holders.get((threading.get_ident(), str(path)), 0) > 0


class FileLock:
    """One held flock; release() is idempotent."""

    def __init__(self, path: Path, *, exclusive: bool, blocking: bool = True) -> None:
        self._holder: tuple[int, str] | None = None
        self._fd: int | None = None
        try:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
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
        self._holder = None if exclusive else (threading.get_ident(), str(path))
        if self._holder is not None:
            with _holders_lock:
                _shared_holders[self._holder] = _shared_holders.get(self._holder, 0) + 1

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the descriptor drops the flock
            if self._holder is not None:
                with _holders_lock:
                    left = _shared_holders.get(self._holder, 1) - 1
                    if left > 0:
                        _shared_holders[self._holder] = left
                    else:
                        _shared_holders.pop(self._holder, None)

    def __del__(self) -> None:
        self.release()


@contextlib.contextmanager
def file_lock(path: Path, *, exclusive: bool, blocking: bool = True) -> Iterator[None]:
    lock = FileLock(path, exclusive=exclusive, blocking=blocking)
    try:
        yield
    finally:
        lock.release()
