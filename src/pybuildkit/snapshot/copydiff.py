"""The copy fallback for machines without overlayfs: materialise the lowers, diff by walking.

`materialize` copies the layer dirs (overlay format: whiteouts are char 0/0, opaque dirs carry
the opaque xattr) bottom-up into one directory and records a `Baseline` of what is there. After
the step has run, `diff_entries` walks the directory against that baseline and yields the same
entries, in the same order, that the overlay upper dir of the same change would give — so both
backends produce byte-identical layers. Changes are found by inode identity plus ctime (which
no user call can set back); the baseline is only taken once the clock has moved past every
ctime it recorded, so a change in the same clock tick cannot hide.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs

from pybuildkit.snapshot.entries import (
    Entry,
    WHITEOUT_PREFIX,
    entry_for,
    is_overlay_opaque,
    is_overlay_whiteout,
    is_private_xattr,
    opaque_entry,
    sorted_children,
    trusted_xattrs_usable,
    walk_subtree,
    whiteout_entry,
)

__all__ = ["Baseline", "flatten", "materialize", "baseline_of", "diff_entries"]

# Inode numbers are reused at once on ext4: `rm -rf d && mkdir d` can give the new d the old
# number. Baseline dirs carry this marker; a new inode never does, whatever its number.
def _marker() -> str:
    return "trusted.pybuildkit.baseline" if trusted_xattrs_usable() else "user.pybuildkit.baseline"


@attrs.frozen
class Baseline:
    """What a directory held before a step ran: per path, its identity and change signature."""

    objects: dict[str, tuple[int, int, tuple[int, ...], bool]]  # path -> (inode, type, signature, marked)
    children: dict[str, tuple[str, ...]]


def _signature(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_ctime_ns, st.st_mtime_ns, st.st_size, st.st_mode, st.st_uid, st.st_gid, st.st_nlink)


def _remove_path(path: str) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def _copy_metadata(src: str, dst: str, st: os.stat_result, *, times: bool) -> None:
    os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(dst, stat.S_IMODE(st.st_mode))
    try:
        names = os.listxattr(src, follow_symlinks=False)
    except OSError:
        names = []
    for name in names:
        if is_private_xattr(name):
            continue
        try:
            os.setxattr(dst, name, os.getxattr(src, name, follow_symlinks=False), follow_symlinks=False)
        except OSError:
            pass
    if times:
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _apply_layer_dir(src: str, dst: str, hardlinks: dict[tuple[int, int], str]) -> None:
    for child in sorted_children(src):
        st = child.stat(follow_symlinks=False)
        target = os.path.join(dst, child.name)
        if is_overlay_whiteout(st):
            _remove_path(target)
            continue
        if stat.S_ISDIR(st.st_mode):
            try:
                existing = os.lstat(target)
            except FileNotFoundError:
                existing = None
            if existing is not None and not stat.S_ISDIR(existing.st_mode):
                os.unlink(target)
                existing = None
            if existing is not None and is_overlay_opaque(child.path):
                for name in os.listdir(target):
                    _remove_path(os.path.join(target, name))
            if existing is None:
                os.mkdir(target, 0o700)
            _copy_metadata(child.path, target, st, times=False)
            _apply_layer_dir(child.path, target, hardlinks)
            os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
            continue
        _remove_path(target)
        key = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and key in hardlinks:
            os.link(hardlinks[key], target)
            continue
        if stat.S_ISREG(st.st_mode):
            shutil.copyfile(child.path, target, follow_symlinks=False)
        elif stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(child.path), target)
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            os.mknod(target, stat.S_IFMT(st.st_mode) | 0o600, st.st_rdev)
        else:
            continue  # sockets: nothing to carry
        _copy_metadata(child.path, target, st, times=True)
        if st.st_nlink > 1:
            hardlinks[key] = target


def baseline_of(root: Path) -> Baseline:
    """Record `root`'s current state, then wait until the clock has left its last ctime tick."""
    objects: dict[str, tuple[int, int, tuple[int, ...], bool]] = {}
    children: dict[str, tuple[str, ...]] = {}
    newest = 0

    def visit(abspath: str, rel: str) -> None:
        nonlocal newest
        names = []
        for child in sorted_children(abspath):
            st = child.stat(follow_symlinks=False)
            crel = f"{rel}/{child.name}" if rel else child.name
            marked = False
            if stat.S_ISDIR(st.st_mode):
                marked = _mark(child.path)
                st = os.lstat(child.path)  # the marker itself moved the ctime
            objects[crel] = (st.st_ino, stat.S_IFMT(st.st_mode), _signature(st), marked)
            newest = max(newest, st.st_ctime_ns)
            names.append(child.name)
            if stat.S_ISDIR(st.st_mode):
                visit(child.path, crel)
        children[rel] = tuple(names)

    visit(os.fspath(root), "")
    _wait_past(Path(root).parent, newest)
    return Baseline(objects=objects, children=children)


def _mark(path: str) -> bool:
    try:
        os.setxattr(path, _marker(), b"1", follow_symlinks=False)
    except OSError:
        return False  # no xattrs here: identity falls back to the inode number alone
    return True


def _marked(path: str) -> bool:
    try:
        os.getxattr(path, _marker(), follow_symlinks=False)
    except OSError:
        return False
    return True


def _wait_past(scratch: Path, newest_ns: int) -> None:
    """File times come from a coarse kernel clock; make sure the next change gets a later one."""
    fd, probe = tempfile.mkstemp(prefix=".tick-", dir=scratch)
    try:
        for _ in range(200):
            os.utime(fd)  # sets ctime to the current (coarse) time
            if os.fstat(fd).st_ctime_ns > newest_ns:
                return
            time.sleep(0.002)
    finally:
        os.close(fd)
        os.unlink(probe)


def flatten(lowers: Sequence[Path], dest: Path) -> None:
    """Copy `lowers` (top first, overlay format) into the dir `dest`: the merged view, as plain
    files with no marks of ours (for exporting a rootfs)."""
    for lower in reversed(list(lowers)):
        _apply_layer_dir(os.fspath(lower), os.fspath(dest), {})


def materialize(lowers: Sequence[Path], dest: Path) -> Baseline:
    """`flatten`, then take the baseline a later `diff_entries` compares against.

    The baseline marks `dest`'s directories with a private xattr (never put into layers);
    use `flatten` when no diff is wanted.
    """
    flatten(lowers, dest)
    return baseline_of(dest)


def diff_entries(root: Path, baseline: Baseline) -> Iterator[Entry]:
    """The changes below `root` since `baseline`, as an overlay upper dir would record them."""
    yield from _diff_dir(os.fspath(root), "", baseline, {})


def _diff_dir(
    abspath: str, rel: str, base: Baseline, hardlinks: dict[tuple[int, int], str]
) -> list[Entry]:
    current = {child.name: child for child in sorted_children(abspath)}
    items: list[tuple[bytes, bool, str]] = [(os.fsencode(name), True, name) for name in current]
    items += [
        (os.fsencode(WHITEOUT_PREFIX + name), False, name)
        for name in base.children.get(rel, ())
        if name not in current
    ]
    items.sort(key=lambda item: item[0])
    out: list[Entry] = []
    for _, present, name in items:
        crel = f"{rel}/{name}" if rel else name
        if not present:
            out.append(whiteout_entry(rel, name))
            continue
        child = current[name]
        st = child.stat(follow_symlinks=False)
        old = base.objects.get(crel)
        replaced = old is not None and old[1] == stat.S_IFDIR and old[3] and not _marked(child.path)
        if old is None or replaced or old[0] != st.st_ino or old[1] != stat.S_IFMT(st.st_mode):
            entry = entry_for(child.path, crel, st, hardlinks)
            if entry is None:
                continue
            out.append(entry)
            if entry.kind == "dir":
                if old is not None:
                    # Overlayfs marks any dir made where a lower entry was deleted as opaque.
                    out.append(opaque_entry(crel))
                out.extend(walk_subtree(child.path, crel, hardlinks))
            continue
        changed = old[2] != _signature(st)
        if stat.S_ISDIR(st.st_mode):
            below = _diff_dir(child.path, crel, base, hardlinks)
            if changed or below:
                entry = entry_for(child.path, crel, st, hardlinks)
                assert entry is not None
                out.append(entry)
                out.extend(below)
        elif changed:
            entry = entry_for(child.path, crel, st, hardlinks)
            if entry is not None:
                out.append(entry)
    return out
