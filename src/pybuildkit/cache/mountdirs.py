"""Cache-mount directories travel with an exported cache as tar layers, keyed by mount id.

`RUN --mount=type=cache` content (package caches, compiler caches) is often worth more than the
layers themselves on a fresh CI runner, and BuildKit cannot export it. Here a mount directory is
written as a layer blob into the store, and restored from one into a fresh store only where the
directory is absent: a runner's own, newer cache is never overwritten.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pybuildkit.atomicfile import atomic_write
from pybuildkit.cache.artifact import MountLayer
from pybuildkit.errors import PybuildkitError, StoreError
from pybuildkit.snapshot import apply_layer, write_tree_layer
from pybuildkit.store import Store

__all__ = ["CACHE_MOUNTS_DIR", "mount_dir", "remember_mount_ids", "known_mount_ids", "pack_mount", "restore_mount"]

CACHE_MOUNTS_DIR = "cache-mounts"


def mount_dir(store_root: Path, mount_id: str) -> Path:
    """Where the cache mount `mount_id` lives (the executor's `cache_mount_dir` names the same path)."""
    return store_root / CACHE_MOUNTS_DIR / hashlib.sha256(mount_id.encode("utf-8")).hexdigest()


def remember_mount_ids(store_root: Path, mount_ids: Iterable[str]) -> None:
    """Note each mount's id beside its dir (`<digest>.id`): dirs are named by a digest of the id,
    and `pybuild cache export` needs the id back to carry a mount it did not see being used."""
    for mount_id in mount_ids:
        where = mount_dir(store_root, mount_id)
        note = where.parent / (where.name + ".id")
        if note.exists() or not where.is_dir():
            continue
        with contextlib.suppress(OSError):
            atomic_write(note, mount_id.encode("utf-8"), 0o600)


def known_mount_ids(store_root: Path) -> tuple[str, ...]:
    """Ids of the mount dirs present whose id was noted by :func:`remember_mount_ids`."""
    base = store_root / CACHE_MOUNTS_DIR
    if not base.is_dir():
        return ()
    ids = []
    for note in base.glob("*.id"):
        with contextlib.suppress(OSError, UnicodeDecodeError):
            mount_id = note.read_text()
            where = base / note.name.removesuffix(".id")
            if mount_dir(store_root, mount_id) == where and where.is_dir():
                ids.append(mount_id)
    return tuple(sorted(ids))


def pack_mount(store: Store, mount_id: str, *, compression: str = "gzip") -> MountLayer | None:
    """The mount's content as a layer blob in `store`, or None if the build never made the dir.

    Holds the mount's lock shared, as a `sharing=shared` RUN does, so a `locked` RUN is not read
    half-way through."""
    where = mount_dir(store.root, mount_id)
    if not where.is_dir():
        return None
    fd = os.open(where.parent / (where.name + ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        ingest = store.open_ingest()
        try:
            info = write_tree_layer(where, ingest, compression=compression)
            desc = ingest.commit(info.digest, media_type=info.media_type)
        except BaseException:
            ingest.abort()
            raise
    finally:
        os.close(fd)
    return MountLayer(id=mount_id, layer=desc, diff_id=info.diff_id)


def restore_mount(store: Store, mount: MountLayer) -> bool:
    """Unpack `mount` into the store's mount dir if that dir is absent; True if it was restored.

    Unpacked into a temp dir beside the target and renamed into place, so a bad layer or a crash
    leaves no half-filled mount for the next RUN to trust."""
    where = mount_dir(store.root, mount.id)
    if where.exists():
        return False
    where.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=where.parent))
    try:
        os.chmod(staging, 0o755)
        with store.open_blob(mount.layer.digest) as blob:
            apply_layer(blob, staging, expect_diff_id=mount.diff_id)
        os.rename(staging, where)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if where.exists():
            return False
        raise StoreError(f"cannot restore cache mount {mount.id!r}: {exc.strerror}") from None
    except (PybuildkitError, BaseException):
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return True
