"""Files that appear whole or not at all: the one way this project replaces a file.

A crash, a full disk or an exception half-way through a write must never leave a torn index, record,
report or credentials file for a later run to misread. So every writer goes to a temp file beside
the target (same filesystem, so the rename is atomic), flushes and fsyncs it, sets its mode, renames
it over the target and fsyncs the directory (so the rename itself survives a power cut). On any
failure the temp file is removed and the target is left as it was.

These helpers raise OSError as it comes: each caller knows which project error (StoreError,
RegistryError, UsageError...) a failure means to its user and translates it there.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["atomic_writer", "atomic_write", "atomic_write_json", "fsync_dir"]


def fsync_dir(path: Path | str) -> None:
    """Make a rename or unlink in the directory `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path: Path | str, mode: int = 0o644, *, parents: bool = False) -> Iterator[BinaryIO]:
    """A binary handle whose content replaces `path` only if the `with` block ends without error.

    The parent directory must exist unless `parents` asks to create it. `mode` is set explicitly
    because mkstemp creates 0600 files whatever the umask.
    """
    path = Path(path)
    if parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def atomic_write(path: Path | str, data: bytes, mode: int = 0o644, *, parents: bool = False) -> None:
    """Replace `path` with `data`, whole or not at all."""
    with atomic_writer(path, mode, parents=parents) as handle:
        handle.write(data)


def atomic_write_json(
    path: Path | str,
    value: Any,
    *,
    indent: int | str | None = 2,
    trailing_newline: bool = True,
    mode: int = 0o644,
    parents: bool = False,
) -> None:
    """Replace `path` with `value` as UTF-8 JSON (keys sorted, so equal values give equal files)."""
    text = json.dumps(value, indent=indent, sort_keys=True)
    atomic_write(path, (text + "\n" if trailing_newline else text).encode("utf-8"), mode, parents=parents)
