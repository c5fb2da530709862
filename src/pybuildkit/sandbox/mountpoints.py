"""Mount points that must exist in the rootfs for the run, and leave no trace after it.

Bind-mounting /etc/hosts (or a cache mount on /root/.cache) needs a file or directory to mount
on. If the image lacks it, we create a *stub*, remember it, and after the sandbox has exited we
remove the stub (if it is still an empty file or directory) and restore the parent directory's
atime/mtime, so the snapshot's diff is what the command did and nothing else. This is what
BuildKit's `MountStubsCleaner` does.

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
from pathlib import Path

import attrs

from pybuildkit.errors import SandboxError
from pybuildkit.sandbox.paths import scoped_join

__all__ = ["Stub", "MountPoints"]


@attrs.frozen
class Stub:
    path: Path
    is_dir: bool


class MountPoints:
    """Creates mount points inside one rootfs and undoes the ones it had to create."""

    def __init__(self, rootfs: Path) -> None:
        self.rootfs = Path(rootfs)
        self.stubs: list[Stub] = []
        self._times: dict[Path, tuple[int, int]] = {}
        self._after: dict[Path, int] = {}

    def ensure(self, target: str, *, is_dir: bool) -> Path:
        """The host path of `target` inside the rootfs, created (with parents) if missing."""
        path = scoped_join(self.rootfs, target)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            st = None
        except NotADirectoryError:
            raise SandboxError(f"cannot mount on {target}: a parent is not a directory") from None
        if st is not None:
            if is_dir and not stat.S_ISDIR(st.st_mode):
                raise SandboxError(f"cannot mount a directory on {target}: it is not a directory in the image")
            return path
        missing: list[Path] = []
        probe = path
        while not probe.exists() and probe != self.rootfs:
            missing.append(probe)
            probe = probe.parent
        if not probe.is_dir():
            raise SandboxError(f"cannot mount on {target}: {probe} is not a directory")
        for index, item in enumerate(reversed(missing)):
            parent = item.parent
            if parent not in self._times:
                pst = os.lstat(parent)
                self._times[parent] = (pst.st_atime_ns, pst.st_mtime_ns)
            last = index == len(missing) - 1
            try:
                if last and not is_dir:
                    os.close(os.open(item, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644))
                else:
                    os.mkdir(item, 0o755)
            except OSError as exc:
                raise SandboxError(f"cannot create mount point {target} in {self.rootfs}: {exc.strerror}") from None
            self.stubs.append(Stub(item, is_dir or not last))
        for item in missing:
            self._after[item.parent] = os.lstat(item.parent).st_mtime_ns
        return path

    def cleanup(self) -> None:
        """Remove stubs that are still empty, newest first, then restore parents' times.

        A parent's times are restored only if the command did not touch that directory itself.
        """
        untouched = set()
        for parent, mtime in self._after.items():
            try:
                if os.lstat(parent).st_mtime_ns == mtime:
                    untouched.add(parent)
            except OSError:
                continue
        for stub in reversed(self.stubs):
            try:
                if stub.is_dir:
                    os.rmdir(stub.path)
                else:
                    st = os.lstat(stub.path)
                    if stat.S_ISREG(st.st_mode) and st.st_size == 0:
                        os.unlink(stub.path)
            except OSError:
                # The command wrote into it: it is content now, not a stub.
                continue
        for parent, (atime, mtime) in sorted(self._times.items(), key=lambda kv: -len(kv[0].parts)):
            if parent not in untouched:
                continue
            try:
                os.utime(parent, ns=(atime, mtime), follow_symlinks=False)
            except OSError:
                continue
        self.stubs.clear()
        self._times.clear()
        self._after.clear()
