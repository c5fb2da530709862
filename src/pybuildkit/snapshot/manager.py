"""Content-addressed snapshot directories, one per layer, and writable views over a stack of them.

Each layer is unpacked once, into `snapshots/<chain id hex>/fs` in overlayfs' lowerdir format
(whiteouts kept as char 0/0 devices and opaque xattrs), and published by renaming a finished temp
dir, so a crash never leaves a half-unpacked snapshot where a later build would trust it. A stack
of layers is then mounted as one overlay with a lowerdir per layer: nothing is ever flattened.
Where overlayfs cannot be mounted, a copy backend materialises the stack instead and diffs by
walking; which one is in use is chosen once and shown by `Snapshots.backend`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import attrs

from pybuildkit.errors import ImageError, StoreError
from pybuildkit.snapshot.chain import chain_id as _chain_id, check_digest
from pybuildkit.snapshot.copydiff import Baseline, diff_entries, materialize
from pybuildkit.snapshot.entries import Entry, walk_overlay_upper
from pybuildkit.snapshot.layer import LayerInfo, write_entries
from pybuildkit.snapshot.owners import mount_points_under, owned_prefix, reap_dead_owners
from pybuildkit.snapshot.overlay import (
    MAX_LOWERS,
    OverlayMount,
    unmount_path,
    mount_overlay,
    overlay_supported,
    unmount,
)
from pybuildkit.snapshot.unchanged import drop_unchanged_dirs
from pybuildkit.snapshot.unpack import UnpackLimits, apply_layer

__all__ = ["BACKENDS", "Snapshot", "ActiveSnapshot", "Snapshots"]

BACKENDS = ("overlay", "copy")


@attrs.frozen
class Snapshot:
    """One published layer directory: `path` is what goes into an overlay lowerdir."""

    chain_id: str
    diff_id: str
    parent: str | None
    path: Path


class ActiveSnapshot:
    """A writable view over some lowers: run a step in `merged`, then write its diff as a layer.

    With overlayfs, `upper` is the overlay upper dir (the diff itself); with the copy backend,
    `upper` is None and the diff is found by walking `merged` against a baseline.
    """

    def __init__(
        self, merged: Path, upper: Path | None, backend: str, baseline: Baseline | None, lowers: Sequence[Path] = ()
    ) -> None:
        self.merged = merged
        self.upper = upper
        self.backend = backend
        self._baseline = baseline
        self._lowers = tuple(lowers)
        self._mount: OverlayMount | None = None

    def entries(self) -> Iterator[Entry]:
        """The changes made in `merged` so far, as layer entries in canonical order."""
        if self.upper is not None:
            return drop_unchanged_dirs(walk_overlay_upper(self.upper), self._lowers)
        assert self._baseline is not None
        return diff_entries(self.merged, self._baseline)

    def write_layer(
        self, out: BinaryIO, *, compression: str = "gzip", source_date_epoch: int | None = None
    ) -> LayerInfo:
        """Write the diff as a layer to `out` (streamed, digested in the same pass)."""
        return write_entries(self.entries(), out, compression=compression, source_date_epoch=source_date_epoch)


def _root_dir(path: Path) -> None:
    """A directory that becomes a rootfs' `/`: 0755 whatever the process umask says."""
    path.mkdir()
    os.chmod(path, 0o755)


class Snapshots:
    """The snapshot directories under `root`.

    `backend`: "auto" tries an overlay mount once (per file system) and falls back to "copy";
    "overlay" or "copy" force one. `max_lowers` caps lowerdirs per mount (stacking beyond).
    """

    def __init__(self, root: Path, *, backend: str = "auto", max_lowers: int = MAX_LOWERS) -> None:
        if backend not in ("auto", *BACKENDS):
            raise ValueError(f"backend must be auto, overlay or copy, not {backend!r}")
        self.root = Path(root)
        for sub in ("snapshots", "tmp", "active"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        reap_dead_owners(self.root)
        self._requested = backend
        self._backend: str | None = None if backend == "auto" else backend
        self.max_lowers = max_lowers

    @property
    def backend(self) -> str:
        """"overlay" or "copy": how `active` views are made on this machine."""
        if self._backend is None:
            # Probed in a dir this process owns: a kill mid-probe leaves a mount the next run reaps.
            scratch = Path(tempfile.mkdtemp(prefix=self.scratch_prefix("probe"), dir=self.root / "tmp"))
            try:
                self._backend = "overlay" if overlay_supported(scratch) else "copy"
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        return self._backend

    def scratch_prefix(self, kind: str) -> str:
        """The `tempfile` prefix for a scratch dir under `tmp/` or `active/`: it names this process
        as owner, so a later run clears it if this process dies before it can (SIGKILL)."""
        return owned_prefix(self.root, kind)

    # -- published snapshots -------------------------------------------------------------------
    def _dir(self, chain: str) -> Path:
        return self.root / "snapshots" / check_digest(chain, "chain id").removeprefix("sha256:")

    def get(self, chain: str) -> Snapshot | None:
        """The published snapshot of `chain`, or None."""
        where = self._dir(chain)
        try:
            meta = json.loads((where / "meta.json").read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise StoreError(f"snapshot {chain} has unreadable metadata: {exc}") from exc
        return Snapshot(chain_id=chain, diff_id=meta["diff_id"], parent=meta["parent"], path=where / "fs")

    def chain(self, chain: str | None) -> list[Snapshot]:
        """The snapshots of a stack, top first; StoreError if any is missing."""
        out: list[Snapshot] = []
        while chain is not None:
            snap = self.get(chain)
            if snap is None:
                raise StoreError(f"snapshot {chain} is not unpacked", hint="add its layer first")
            out.append(snap)
            chain = snap.parent
        return out

    def lowerdirs(self, chain: str | None) -> list[Path]:
        """The overlay lowerdirs of a stack, top first (empty for the empty stack)."""
        return [s.path for s in self.chain(chain)]

    def add_layer(
        self,
        parent: str | None,
        diff_id: str,
        layer: BinaryIO,
        *,
        limits: UnpackLimits = UnpackLimits(),
    ) -> Snapshot:
        """Unpack `layer` (any compression) as the snapshot of `diff_id` on `parent`, unless done.

        The uncompressed stream must hash to `diff_id` (ImageError otherwise); until it has been
        checked and fully written, nothing is visible under the chain id.
        """
        chain = _chain_id(parent, diff_id)
        existing = self.get(chain)
        if existing is not None:
            return existing
        if parent is not None and self.get(parent) is None:
            raise StoreError(f"parent snapshot {parent} is not unpacked")
        work = Path(tempfile.mkdtemp(prefix=self.scratch_prefix("unpack"), dir=self.root / "tmp"))
        try:
            _root_dir(work / "fs")
            apply_layer(layer, work / "fs", whiteouts="overlay", limits=limits, expect_diff_id=diff_id)
            return self._publish(work, chain, diff_id, parent)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def ensure(self, diff_ids: Sequence[str], open_layer: Callable[[str], BinaryIO]) -> str | None:
        """Make sure every layer of a stack is unpacked; return the top chain id.

        `open_layer(diff_id)` is called only for layers not already present, so a warm store
        touches no blob at all.
        """
        parent: str | None = None
        for diff_id in diff_ids:
            chain = _chain_id(parent, diff_id)
            if self.get(chain) is None:
                with contextlib.closing(open_layer(diff_id)) as f:
                    self.add_layer(parent, diff_id, f)
            parent = chain
        return parent

    def _publish(self, work: Path, chain: str, diff_id: str, parent: str | None) -> Snapshot:
        meta = json.dumps({"chain_id": chain, "diff_id": diff_id, "parent": parent}, sort_keys=True)
        with open(work / "meta.json", "w") as f:
            f.write(meta)
            f.flush()
            os.fsync(f.fileno())
        dest = self._dir(chain)
        try:
            os.rename(work, dest)
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise StoreError(f"cannot publish snapshot {chain}: {exc.strerror}") from exc
            # Someone else published the same content first: theirs is as good as ours.
        snap = self.get(chain)
        assert snap is not None
        return snap

    def list(self) -> list[Snapshot]:
        """Every published snapshot, in no particular order."""
        out = []
        for entry in os.scandir(self.root / "snapshots"):
            snap = self.get("sha256:" + entry.name) if len(entry.name) == 64 else None
            if snap is not None:
                out.append(snap)
        return out

    def remove(self, chain: str) -> bool:
        """Delete a snapshot (the caller knows no stack uses it); True if it existed.

        Renamed away first, so it vanishes from `get` at once even if deleting its files is slow.
        """
        where = self._dir(chain)
        doomed = Path(tempfile.mkdtemp(prefix=self.scratch_prefix("remove"), dir=self.root / "tmp")) / "x"
        try:
            os.rename(where, doomed)
        except FileNotFoundError:
            return False
        finally:
            shutil.rmtree(doomed.parent, ignore_errors=True)
        return True

    def cleanup(self) -> int:
        """Clear what a crashed run left: mounts and dirs under `active/`, half-unpacked `tmp/`.

        Only call it when no other build uses this root. Returns how many leftovers went.
        """
        prefix = os.path.realpath(self.root / "active") + "/"
        for point in mount_points_under(prefix):
            unmount_path(Path(point))
        gone = 0
        for sub in ("active", "tmp"):
            for entry in os.scandir(self.root / sub):
                shutil.rmtree(entry.path, ignore_errors=True)
                gone += 1
        return gone

    # -- writable views ------------------------------------------------------------------------
    @contextlib.contextmanager
    def active(self, lowers: Sequence[Path]) -> Iterator[ActiveSnapshot]:
        """A writable view of `lowers` (top first); removed with everything in it on exit.

        Use `write_layer` inside the block for the diff, or `commit` to also keep it as a
        snapshot.
        """
        home = Path(tempfile.mkdtemp(prefix=self.scratch_prefix("active"), dir=self.root / "active"))
        merged = home / "merged"
        _root_dir(merged)
        try:
            if self.backend == "overlay":
                upper, work = home / "upper", home / "work"
                _root_dir(upper)
                work.mkdir()
                stack = list(lowers)
                if not stack:
                    _root_dir(home / "empty")
                    stack = [home / "empty"]
                mount = mount_overlay(stack, merged, upper=upper, work=work, max_lowers=self.max_lowers)
                view = ActiveSnapshot(merged, upper, "overlay", None, lowers)
                view._mount = mount
                try:
                    yield view
                finally:
                    if view._mount is not None:
                        unmount(view._mount)
            else:
                yield ActiveSnapshot(merged, None, "copy", materialize(lowers, merged))
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def commit(
        self,
        view: ActiveSnapshot,
        parent: str | None,
        out: BinaryIO,
        *,
        compression: str = "gzip",
        source_date_epoch: int | None = None,
    ) -> tuple[LayerInfo, Snapshot]:
        """Write the view's diff as a layer to `out` and keep it as the snapshot on `parent`.

        With overlayfs the upper dir already is that snapshot: it is unmounted and renamed into
        place, not copied. The view cannot be written to afterwards.
        """
        if self.backend == "overlay" and view.upper is not None:
            info = view.write_layer(out, compression=compression, source_date_epoch=source_date_epoch)
            if view._mount is not None:
                unmount(view._mount)
                view._mount = None
            chain = _chain_id(parent, info.diff_id)
            existing = self.get(chain)
            if existing is not None:
                return info, existing
            work = Path(tempfile.mkdtemp(prefix=self.scratch_prefix("commit"), dir=self.root / "tmp"))
            try:
                os.rename(view.upper, work / "fs")
                return info, self._publish(work, chain, info.diff_id, parent)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        with tempfile.TemporaryFile(prefix=self.scratch_prefix("spool"), dir=self.root / "tmp") as spool:
            info = view.write_layer(spool, compression=compression, source_date_epoch=source_date_epoch)
            spool.seek(0)
            shutil.copyfileobj(spool, out, 1 << 20)
            spool.seek(0)
            try:
                snap = self.add_layer(parent, info.diff_id, spool)
            except ImageError as exc:  # our own layer failing to unpack is a bug, not bad input
                raise StoreError(f"cannot keep the committed layer as a snapshot: {exc.message}") from exc
        return info, snap
