"""Mount points that must exist in the rootfs for the run, and leave no trace after it.

Bind-mounting /etc/hosts (or a cache mount on /root/.cache) needs a file or directory to mount
on. If the image lacks it, we create a *stub*, remember it, and after the sandbox has exited we
remove the stub (if it is still an empty file or directory) and restore the parent directory's
atime/mtime, so the snapshot's diff is what the command did and nothing else. This is what
BuildKit's `MountStubsCleaner` does.

Stubs are reference-counted process-wide: several sandboxes may share one rootfs (threads of one
builder), and the last one out removes the stub. Two *processes* sharing a rootfs are not
coordinated.

One residue remains on overlayfs and is the differ's business: creating a stub in a lower-layer
directory copies that directory up. Its metadata is unchanged (we restore the times), so a differ
must treat an upper directory whose mode/owner/mtime/xattrs (ignoring `trusted.overlay.*`) equal
the lower one's as unchanged.

All paths are resolved with `scoped_join`, so a symlink in the image cannot make us create files
on the host.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import attrs

from pybuildkit.errors import SandboxError
from pybuildkit.sandbox.paths import scoped_join

__all__ = ["Stub", "MountPoints"]


@attrs.frozen
class Stub:
    path: Path
    is_dir: bool


@attrs.define
class _Parent:
    """A directory we created stubs in: its times before, its mtime after our last creation."""

    atime: int
    mtime: int
    after: int = 0
    children: int = 0
    checked: bool = False
    touched: bool = False


_LOCK = threading.Lock()
_REFS: dict[Path, int] = {}
_PARENTS: dict[Path, _Parent] = {}


class MountPoints:
    """Creates mount points inside one rootfs and undoes the ones it had to create."""

    def __init__(self, rootfs: Path) -> None:
        self.rootfs = Path(rootfs)
        self.stubs: list[Stub] = []

    def ensure(self, target: str, *, is_dir: bool) -> Path:
        """The host path of `target` inside the rootfs, created (with parents) if missing."""
        path = scoped_join(self.rootfs, target)
        with _LOCK:
            self._hold_existing_stubs(path)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                st = None
            except NotADirectoryError:
                raise SandboxError(f"cannot mount on {target}: a parent is not a directory") from None
            if st is not None:
                if is_dir and not stat.S_ISDIR(st.st_mode):
                    raise SandboxError(f"cannot mount a directory on {target}: it is not a directory in the image")
                if not is_dir and stat.S_ISDIR(st.st_mode):
                    raise SandboxError(f"cannot mount a file on {target}: it is a directory in the image")
                return path
            self._create(path, target, is_dir)
        return path

    def _hold_existing_stubs(self, path: Path) -> None:
        held = []
        probe = path
        while probe != self.rootfs and probe != probe.parent:
            if probe in _REFS and os.path.lexists(probe):
                held.append(probe)
            probe = probe.parent
        for item in reversed(held):
            _REFS[item] += 1
            self.stubs.append(Stub(item, item != path or os.path.isdir(item)))

    def _create(self, path: Path, target: str, is_dir: bool) -> None:
        missing: list[Path] = []
        probe = path
        while not os.path.lexists(probe) and probe != self.rootfs:
            missing.append(probe)
            probe = probe.parent
        if not probe.is_dir() or probe.is_symlink():
            raise SandboxError(f"cannot mount on {target}: {probe} is not a directory")
        for index, item in enumerate(reversed(missing)):
            parent = item.parent
            record = _PARENTS.get(parent)
            if record is None:
                pst = os.lstat(parent)
                record = _PARENTS[parent] = _Parent(pst.st_atime_ns, pst.st_mtime_ns)
            last = index == len(missing) - 1
            try:
                if last and not is_dir:
                    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
                    os.close(os.open(item, flags, 0o644))
                else:
                    os.mkdir(item, 0o755)
            except OSError as exc:
                if record.children == 0:
                    del _PARENTS[parent]
                raise SandboxError(f"cannot create mount point {target} in {self.rootfs}: {exc.strerror}") from None
            record.children += 1
            _REFS[item] = 1
            self.stubs.append(Stub(item, is_dir or not last))
        for item in missing:
            _PARENTS[item.parent].after = os.lstat(item.parent).st_mtime_ns

    def cleanup(self) -> None:
        """Release this sandbox's stubs; remove the ones nobody else holds, if still empty.

        A parent's times are restored once its last stub is gone, and only if nothing but us
        changed that directory.
        """
        with _LOCK:
            for stub in reversed(self.stubs):
                count = _REFS.get(stub.path, 0) - 1
                if count > 0:
                    _REFS[stub.path] = count
                    continue
                _REFS.pop(stub.path, None)
                self._remove(stub)
            self.stubs.clear()

    @staticmethod
    def _remove(stub: Stub) -> None:
        parent = stub.path.parent
        record = _PARENTS.get(parent)
        if record is not None and not record.checked:
            record.checked = True
            try:
                record.touched = os.lstat(parent).st_mtime_ns != record.after
            except OSError:
                record.touched = True
        try:
            if stub.is_dir:
                os.rmdir(stub.path)
            else:
                st = os.lstat(stub.path)
                if not (stat.S_ISREG(st.st_mode) and st.st_size == 0):
                    raise OSError("the command wrote into it: it is content now, not a stub")
                os.unlink(stub.path)
        except OSError:
            if record is not None:
                record.touched = True
        if record is None:
            return
        record.children -= 1
        if record.children <= 0:
            del _PARENTS[parent]
            if not record.touched:
                try:
                    os.utime(parent, ns=(record.atime, record.mtime), follow_symlinks=False)
                except OSError:
                    pass
