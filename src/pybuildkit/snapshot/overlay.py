"""Overlayfs mounts through mount(2), and whether this machine can make them at all.

The kernel takes mount options in one page, so a long stack of long lowerdir paths does not fit.
Rather than flatten layers, we mount from a scratch dir of one-character-ish symlinks (in a forked
child that chdirs there, so the parent's cwd, shared by its threads, never moves), and above the
kernel's limit of lowers per mount we stack read-only overlays of the bottom layers.

Options: `index=off,xino=off` (no inode index to keep consistent, no xino bits on exotic fs),
`redirect_dir=off,metacopy=off` where the kernel knows them (so an upper dir is always a complete
diff: a renamed dir is copied up whole, metadata changes copy data too), and `userxattr` when not
root.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import attrs

from pybuildkit.errors import SandboxError
from pybuildkit.snapshot.entries import trusted_xattrs_usable

__all__ = [
    "MAX_LOWERS",
    "OverlayMount",
    "mount_overlay",
    "unmount",
    "unmount_path",
    "overlay_supported",
    "overlay_options",
]

#: The kernel's OVL_MAX_STACK.
MAX_LOWERS = 500
_MAX_DATA = 4000  # mount(2) copies one page of options; keep a margin below 4096
_MS_RDONLY = 1
_MNT_DETACH = 2
_BASE_OPTIONS = ("index=off", "xino=off")
_STRICT_OPTIONS = ("redirect_dir=off", "metacopy=off")
_SPECIAL = (",", ":", "\\", "\n")

_lock = threading.Lock()
_supported: dict[tuple[int, int], bool] = {}
_strict_ok: list[bool] = []  # one element once known: whether the kernel takes _STRICT_OPTIONS


@attrs.frozen
class OverlayMount:
    """A mounted overlay; `stacked` are read-only helper mounts below it, unmounted after it."""

    target: Path
    upper: Path | None
    stacked: tuple[Path, ...] = ()


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _mount(target: bytes, flags: int, data: bytes) -> int:
    """0, or the errno of mount(2)."""
    libc = _libc()
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    if libc.mount(b"overlay", target, b"overlay", flags, data) != 0:
        return ctypes.get_errno()
    return 0


def _umount(target: bytes, flags: int) -> int:
    libc = _libc()
    libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    if libc.umount2(target, flags) != 0:
        return ctypes.get_errno()
    return 0


def overlay_options(
    lowers: Sequence[str], upper: str | None, work: str | None, *, strict: bool = True
) -> str:
    """The option string for mount(2); `lowers` top first, as overlayfs wants them."""
    opts = ["lowerdir=" + ":".join(lowers)]
    if upper is not None:
        opts += ["upperdir=" + upper, "workdir=" + (work or "")]
    opts += list(_BASE_OPTIONS)
    if strict:
        opts += list(_STRICT_OPTIONS)
    if not trusted_xattrs_usable():
        opts.append("userxattr")
    return ",".join(opts)


def _mount_once(lowers: Sequence[Path], target: Path, upper: Path | None, work: Path | None, flags: int, strict: bool) -> int:
    names = [os.fspath(p) for p in lowers]
    up = os.fspath(upper) if upper is not None else None
    wk = os.fspath(work) if work is not None else None
    data = overlay_options(names, up, wk, strict=strict)
    target_b = os.fsencode(os.path.abspath(target))
    if len(os.fsencode(data)) <= _MAX_DATA and not any(c in s for s in names + [up or "", wk or ""] for c in _SPECIAL):
        return _mount(target_b, flags, os.fsencode(data))
    return _mount_short(lowers, target_b, upper, work, flags, strict)


def _mount_short(lowers: Sequence[Path], target_b: bytes, upper: Path | None, work: Path | None, flags: int, strict: bool) -> int:
    """Mount with short relative names: symlinks in a scratch dir, from a child cwd'd there."""
    scratch = tempfile.mkdtemp(prefix=".ovl-", dir=os.fsdecode(os.path.dirname(target_b)) or ".")
    try:
        short = []
        for i, lower in enumerate(lowers):
            name = _base36(i)
            os.symlink(os.path.abspath(lower), os.path.join(scratch, os.fsdecode(name)))
            short.append(name)
        if upper is not None:
            os.symlink(os.path.abspath(upper), os.path.join(scratch, "U"))
            os.symlink(os.path.abspath(work or ""), os.path.join(scratch, "W"))
        data = os.fsencode(overlay_options(short, "U" if upper else None, "W" if upper else None, strict=strict))
        if len(data) > 4095:
            return errno.E2BIG
        scratch_b = os.fsencode(scratch)
        libc = _libc()  # loaded before fork: the child does as little as possible
        libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 1
            try:
                os.chdir(scratch_b)
                code = 0 if libc.mount(b"overlay", target_b, b"overlay", flags, data) == 0 else ctypes.get_errno() or 1
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _base36(i: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        i, r = divmod(i, 36)
        out = digits[r] + out
        if i == 0:
            return out


def _mount_checked(lowers: Sequence[Path], target: Path, upper: Path | None, work: Path | None, flags: int) -> None:
    strict = _strict_ok[0] if _strict_ok else True
    code = _mount_once(lowers, target, upper, work, flags, strict)
    if code == errno.EINVAL and strict and not _strict_ok:
        code = _mount_once(lowers, target, upper, work, flags, False)
        if code == 0:
            _strict_ok.append(False)
    elif code == 0 and not _strict_ok:
        _strict_ok.append(strict)
    if code != 0:
        raise SandboxError(
            f"cannot mount overlayfs on {target} ({len(lowers)} lower dirs): {os.strerror(code)}",
            hint="overlayfs needs root (or a user namespace) and an upper dir that is not itself on overlayfs",
        )


def mount_overlay(
    lowers: Sequence[Path],
    target: Path,
    *,
    upper: Path | None = None,
    work: Path | None = None,
    max_lowers: int = MAX_LOWERS,
) -> OverlayMount:
    """Mount an overlay of `lowers` (top first) on `target`; writable when `upper`/`work` given.

    More lowers than `max_lowers` are grouped bottom-up into read-only overlays mounted beside
    `target` and used as single lowers; the returned value remembers them for `unmount`.
    """
    if not lowers:
        raise SandboxError("an overlay needs at least one lower dir")
    if max_lowers < 2:
        raise ValueError("max_lowers must be at least 2")
    lowers = list(lowers)
    stacked: list[Path] = []
    try:
        if len(lowers) > max_lowers:
            # One level only: the kernel refuses overlays nested more than two deep.
            grouped: list[Path] = []
            for i in range(0, len(lowers), max_lowers):
                group = lowers[i : i + max_lowers]
                if len(group) == 1:
                    grouped.append(group[0])
                    continue
                point = Path(tempfile.mkdtemp(prefix=".stack-", dir=Path(target).parent))
                stacked.append(point)
                _mount_checked(group, point, None, None, _MS_RDONLY)
                grouped.append(point)
            if len(grouped) > max_lowers:
                raise SandboxError(f"too many layers to mount: {len(lowers)}")
            lowers = grouped
        if upper is None:
            _mount_checked(lowers, target, None, None, _MS_RDONLY)
        else:
            _mount_checked(lowers, target, upper, work, 0)
    except BaseException:
        for point in reversed(stacked):
            unmount_path(point)
            shutil.rmtree(point, ignore_errors=True)
        raise
    return OverlayMount(target=Path(target), upper=upper, stacked=tuple(stacked))


def unmount_path(path: Path) -> None:
    """Unmount whatever is mounted on `path` (lazily if busy); nothing mounted is not an error."""
    target = os.fsencode(os.path.abspath(path))
    code = _umount(target, 0)
    if code == errno.EBUSY:
        code = _umount(target, _MNT_DETACH)
    if code not in (0, errno.EINVAL, errno.ENOENT):
        raise SandboxError(f"cannot unmount {path}: {os.strerror(code)}")


def unmount(mount: OverlayMount) -> None:
    """Unmount the overlay, then its stacked helpers (removing their empty mount points)."""
    unmount_path(mount.target)
    for point in reversed(mount.stacked):
        unmount_path(point)
        try:
            os.rmdir(point)
        except OSError:
            pass


def overlay_supported(scratch: Path) -> bool:
    """Whether a writable overlay can be mounted with dirs on `scratch`'s file system.

    Tried once per (file system, euid) and remembered: the answer does not change while we run.
    """
    scratch = Path(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    key = (os.stat(scratch).st_dev, os.geteuid())
    with _lock:
        if key in _supported:
            return _supported[key]
        probe = Path(tempfile.mkdtemp(prefix=".probe-", dir=scratch))
        ok = False
        try:
            for name in ("l", "u", "w", "m"):
                (probe / name).mkdir()
            (probe / "l" / "f").write_bytes(b"x")
            try:
                m = mount_overlay([probe / "l"], probe / "m", upper=probe / "u", work=probe / "w")
            except SandboxError:
                ok = False
            else:
                try:
                    (probe / "m" / "f").unlink()
                    ok = (probe / "u" / "f").exists()
                finally:
                    unmount(m)
        except OSError:
            ok = False
        finally:
            shutil.rmtree(probe, ignore_errors=True)
        _supported[key] = ok
        return ok
