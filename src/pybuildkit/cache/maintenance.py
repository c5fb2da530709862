"""Disk usage and pruning of the build cache: records, their blobs, snapshots, cache mounts.

What the cache holds, from cheapest to recreate to dearest: snapshot dirs under `<root>/fs` (an
unpacked copy of layers the store has as blobs), cache records (a layer blob each: losing one
re-runs a step), cache-mount dirs (a package cache: losing one makes the next RUN slow, not wrong).
Pruning drops least-recently-used records first, then lets the store's GC take blobs nothing needs,
then removes snapshots whose layers no image, remaining record or container uses. Tagged images
(their blobs and snapshots) and containers are never touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import time
from pathlib import Path

import attrs

from pybuildkit.cache.mountdirs import CACHE_MOUNTS_DIR
from pybuildkit.errors import PybuildkitError, StoreError, UsageError
from pybuildkit.snapshot import Snapshots, chain_ids
from pybuildkit.store import Store
from pybuildkit.store.lock import file_lock

__all__ = [
    "KEEP_STORAGE_ENV",
    "DEFAULT_KEEP_STORAGE",
    "DiskUsage",
    "PruneReport",
    "parse_size",
    "parse_duration",
    "disk_usage",
    "prune",
    "keep_storage_budget",
    "enforce_budget",
]

KEEP_STORAGE_ENV = "PYBUILDKIT_GC_KEEP_STORAGE"
DEFAULT_KEEP_STORAGE = 20 << 30
SNAPSHOTS_DIR = "fs"
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)(i?b?)?\s*$", re.IGNORECASE)
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d|w)")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@attrs.frozen
class DiskUsage:
    """Bytes the cache takes: `record_bytes` counts each record blob once and leaves out blobs an
    image also needs (removing the record would not free them); `shared_bytes` are those."""

    records: int = 0
    record_bytes: int = 0
    shared_bytes: int = 0
    mounts: int = 0
    mount_bytes: int = 0
    snapshots: int = 0
    snapshot_bytes: int = 0

    @property
    def total(self) -> int:
        return self.record_bytes + self.mount_bytes + self.snapshot_bytes


@attrs.frozen
class PruneReport:
    records_removed: int = 0
    blobs_removed: int = 0
    bytes_freed: int = 0
    snapshots_removed: int = 0
    mounts_removed: int = 0


def parse_size(text: str) -> int:
    """`10GB`, `512MiB`, `1.5g`, `4096` to bytes (binary multiples, as Docker reads them)."""
    match = _SIZE.match(text)
    if not match:
        raise UsageError(f"invalid size {text!r}", hint="e.g. 512MB, 10GB, 1.5g or a number of bytes")
    number, unit = float(match.group(1)), match.group(2).lower()
    power = " kmgtp".index(unit) if unit else 0
    return int(number * (1024**power))


def parse_duration(text: str) -> float:
    """`24h`, `90m`, `7d`, `1h30m` to seconds (Docker's `until=` filter, plus days and weeks)."""
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise UsageError(f"invalid duration {text!r}", hint="e.g. 24h, 90m, 7d or 1h30m")
    return sum(float(n) * _DURATION_UNITS[u] for n, u in parts)


def _tree_bytes(root: Path, seen: set[tuple[int, int]]) -> int:
    """Bytes of regular files below `root`, hard links counted once."""
    total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            with contextlib.suppress(OSError):
                st = os.lstat(os.path.join(dirpath, name))
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


def _blob_size(store: Store, digest: str) -> int:
    try:
        return store.blob_path(digest).stat().st_size
    except OSError:
        return 0


def _mount_dirs(root: Path) -> list[Path]:
    base = root / CACHE_MOUNTS_DIR
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))


def disk_usage(store: Store) -> DiskUsage:
    """What `pybuild cache du` shows."""
    images = store.image_blobs()
    entries = store.cache_entries()
    own: set[str] = set()
    shared: set[str] = set()
    for entry in entries:
        for digest in entry.blobs:
            (shared if digest in images else own).add(digest)
    seen: set[tuple[int, int]] = set()
    mounts = _mount_dirs(store.root)
    snapshots = Snapshots(store.root / SNAPSHOTS_DIR).list()
    return DiskUsage(
        records=len(entries),
        record_bytes=sum(_blob_size(store, d) for d in own),
        shared_bytes=sum(_blob_size(store, d) for d in shared),
        mounts=len(mounts),
        mount_bytes=sum(_tree_bytes(m, seen) for m in mounts),
        snapshots=len(snapshots),
        snapshot_bytes=sum(_tree_bytes(s.path, seen) for s in snapshots),
    )


def _container_images(root: Path) -> set[str] | None:
    """Image digests container records name; None if some record cannot be read (then every
    snapshot counts as in use: a container's rootfs must never vanish under it)."""
    base = root / "containers"
    digests: set[str] = set()
    if not base.is_dir():
        return digests
    for config in base.glob("*/config.json"):
        try:
            digest = json.loads(config.read_text()).get("image_digest")
        except (OSError, ValueError, AttributeError):
            return None
        if not isinstance(digest, str):
            return None
        digests.add(digest)
    return digests


def _kept_chains(store: Store) -> set[str] | None:
    """Snapshot chains images and containers use; None for "keep every snapshot"."""
    refs = _container_images(store.root)
    if refs is None:
        return None
    keep: set[str] = set()
    for ref in {s.digest for s in store.images()} | refs:
        try:
            diff_ids = store.image(ref).config.rootfs.diff_ids
        except PybuildkitError:
            if ref in refs:
                return None  # a container whose image is gone: its chain cannot be told
            continue
        keep.update(chain_ids(list(diff_ids)))
    return keep


def _prune_snapshots(store: Store, keep: set[str] | None, cached_diff_ids: set[str]) -> int:
    """Remove snapshots not in `keep` unless every layer on their chain is still a cache record's."""
    if keep is None:
        return 0
    snapshots = Snapshots(store.root / SNAPSHOTS_DIR)
    by_chain = {s.chain_id: s for s in snapshots.list()}

    def cached(chain: str) -> bool:
        cursor: str | None = chain
        while cursor is not None:
            snap = by_chain.get(cursor)
            if snap is None or (snap.diff_id not in cached_diff_ids and cursor not in keep):
                return False
            cursor = snap.parent
        return True

    live = {c for c in by_chain if c in keep or cached(c)}
    for chain in list(live):  # a live snapshot's ancestors are its lowers
        cursor = by_chain[chain].parent
        while cursor is not None and cursor in by_chain and cursor not in live:
            live.add(cursor)
            cursor = by_chain[cursor].parent
    return sum(1 for chain in by_chain if chain not in live and snapshots.remove(chain))


def _remove_mounts(root: Path) -> int:
    removed = 0
    for where in _mount_dirs(root):
        lock = where.parent / (where.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a RUN is using it right now
            doomed = where.parent / f".prune-{where.name}"
            os.rename(where, doomed)
            shutil.rmtree(doomed, ignore_errors=True)
            with contextlib.suppress(OSError):
                os.unlink(where.parent / (where.name + ".id"))
            removed += 1
        finally:
            os.close(fd)
    return removed


def prune(
    store: Store,
    *,
    all: bool = False,  # noqa: A002 - the CLI flag's name
    keep_storage: int | None = None,
    unused_for: float | None = None,
) -> PruneReport:
    """Drop cache records (all; those unused for `unused_for` seconds; then least recently used
    until the cache fits `keep_storage` bytes), collect the blobs nobody needs, remove snapshots
    nobody needs; with `all`, cache mounts too. With no option, only unreachable leftovers go."""
    if keep_storage is not None and keep_storage < 0:
        raise UsageError("--keep-storage must not be negative")
    entries = list(store.cache_entries())
    doomed: list[str] = []
    if all:
        doomed = [e.key for e in entries]
    else:
        if unused_for is not None:
            cutoff = time.time() - unused_for
            doomed = [e.key for e in entries if e.last_used <= cutoff]
        if keep_storage is not None:
            images = store.image_blobs()
            gone = set(doomed)
            alive = [e for e in entries if e.key not in gone]
            owners: dict[str, int] = {}
            for e in alive:
                for d in e.blobs:
                    owners[d] = owners.get(d, 0) + 1
            usage = sum(_blob_size(store, d) for d in owners if d not in images)
            for e in alive:  # least recently used first
                if usage <= keep_storage:
                    break
                doomed.append(e.key)
                for d in e.blobs:
                    owners[d] -= 1
                    if owners[d] == 0 and d not in images:
                        usage -= _blob_size(store, d)
    removed_records = sum(1 for key in doomed if store.delete_cache(key))
    gc = store.gc(grace_seconds=0.0)
    cached_diff_ids = {e.diff_id for e in store.cache_entries() if e.diff_id}
    with file_lock(store.lock_path, exclusive=True):
        snaps = _prune_snapshots(store, _kept_chains(store), cached_diff_ids)
    mounts = _remove_mounts(store.root) if all else 0
    return PruneReport(
        records_removed=removed_records,
        blobs_removed=len(gc.removed_blobs),
        bytes_freed=gc.freed_bytes,
        snapshots_removed=snaps,
        mounts_removed=mounts,
    )


def keep_storage_budget(root: Path) -> int:
    """The size the cache keeps itself under: `$PYBUILDKIT_GC_KEEP_STORAGE` (`0` turns the
    automatic GC off), else 10% of the store's disk, at most 20 GiB."""
    text = os.environ.get(KEEP_STORAGE_ENV, "").strip()
    if text:
        return parse_size(text)
    try:
        disk = shutil.disk_usage(root).total
    except OSError:
        return DEFAULT_KEEP_STORAGE
    return min(DEFAULT_KEEP_STORAGE, disk // 10)


def enforce_budget(store: Store, *, wait: bool = True) -> PruneReport | None:
    """Called after a build: prune least recently used records if the cache's own blobs (cheap to
    measure: one stat per blob) exceed the budget. None when nothing had to go. With `wait=False`
    it gives up (None) while another process holds the store, rather than make a finished build
    wait for a running one: the next build will try again."""
    budget = keep_storage_budget(store.root)
    if budget <= 0:
        return None
    images = store.image_blobs()
    own = {d for e in store.cache_entries() for d in e.blobs if d not in images}
    if sum(_blob_size(store, d) for d in own) <= budget:
        return None
    if not wait:
        try:
            with file_lock(store.lock_path, exclusive=True, blocking=False):
                pass
        except StoreError:
            return None
    return prune(store, keep_storage=budget)
