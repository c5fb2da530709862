"""The sandbox's filesystem, as a list of steps computed in the parent and replayed in the child.

Computing the steps up front keeps the forked child trivial (it only makes syscalls), lets the
parent create and later remove mount-point stubs, and makes the layout testable as data.
"""

from __future__ import annotations

import os
import posixpath
import stat
from pathlib import Path

import attrs

from pybuildkit.errors import SandboxError
from pybuildkit.sandbox import libc
from pybuildkit.sandbox.mountpoints import MountPoints
from pybuildkit.sandbox.spec import SandboxSpec

__all__ = [
    "MountStep",
    "RemountReadonly",
    "RemountNodev",
    "MakeDir",
    "MakeFile",
    "Symlink",
    "Step",
    "DEVICES",
    "ETC_FILES",
    "build_layout",
]

DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
ETC_FILES = ("hosts", "hostname", "resolv.conf")
_MASKED_FILES = ("kcore", "keys", "timer_list", "sched_debug", "latency_stats")
_MASKED_DIRS = ("acpi", "scsi")
_READONLY_PROC = ("bus", "fs", "irq", "sys", "sysrq-trigger")

# statvfs flag bits that must be kept on a read-only bind remount (locked in a user namespace).
_KEEP_BITS = libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC | 1024 | 2048  # NOATIME, NODIRATIME
_ST_RELATIME, _MS_RELATIME = 4096, 1 << 21


@attrs.frozen
class MountStep:
    source: str | None
    target: str
    fstype: str | None
    flags: int = 0
    data: str | None = None
    optional: bool = False
    fallback: MountStep | None = None

    def apply(self) -> None:
        try:
            libc.mount(self.source, self.target, self.fstype, self.flags, self.data)
        except OSError:
            if self.fallback is not None:
                self.fallback.apply()
            elif not self.optional:
                raise


@attrs.frozen
class RemountReadonly:
    target: str
    optional: bool = False

    def apply(self) -> None:
        try:
            current = os.statvfs(self.target).f_flag
            flags = libc.MS_REMOUNT | libc.MS_BIND | libc.MS_RDONLY | (current & _KEEP_BITS)
            if current & _ST_RELATIME:
                flags |= _MS_RELATIME
            libc.mount(None, self.target, None, flags, None)
        except OSError:
            if not self.optional:
                raise


@attrs.frozen
class RemountNodev:
    """Device nodes inside the image's rootfs must not open host devices: a layer can carry a
    block device for the host's disk, and the sandbox has no device cgroup to refuse it. The
    sandbox's own /dev is a separate mount and keeps working."""

    target: str

    def apply(self) -> None:
        current = os.statvfs(self.target).f_flag
        flags = libc.MS_REMOUNT | libc.MS_BIND | libc.MS_NODEV | (current & (_KEEP_BITS | libc.MS_RDONLY))
        if current & _ST_RELATIME:
            flags |= _MS_RELATIME
        libc.mount(None, self.target, None, flags, None)


@attrs.frozen
class MakeDir:
    path: str
    mode: int = 0o755

    def apply(self) -> None:
        os.mkdir(self.path)
        os.chmod(self.path, self.mode)


@attrs.frozen
class MakeFile:
    path: str
    mode: int = 0o644

    def apply(self) -> None:
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, self.mode))


@attrs.frozen
class Symlink:
    target: str
    path: str

    def apply(self) -> None:
        os.symlink(self.target, self.path)


Step = MountStep | RemountReadonly | RemountNodev | MakeDir | MakeFile | Symlink


def _depth(target: str) -> int:
    return len([p for p in target.split("/") if p])


def build_layout(
    spec: SandboxSpec,
    root: Path,
    points: MountPoints,
    etc_dir: Path,
    *,
    userns: bool,
) -> tuple[Step, ...]:
    """Every mount and file the child makes before pivot_root, in order.

    `points` creates (and records) missing mount points inside `root` as a side effect.
    """
    r = os.fspath(root)
    nosuid_nodev_noexec = libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC
    steps: list[Step] = [
        MountStep(None, "/", None, libc.MS_REC | libc.MS_PRIVATE),
        MountStep(r, r, None, libc.MS_BIND | libc.MS_REC),
    ]
    if not spec.privileged:
        steps.append(RemountNodev(r))

    proc = os.fspath(points.ensure("/proc", is_dir=True))
    steps.append(MountStep("proc", proc, "proc", nosuid_nodev_noexec))

    dev = os.fspath(points.ensure("/dev", is_dir=True))
    steps.append(MountStep("tmpfs", dev, "tmpfs", libc.MS_NOSUID | libc.MS_STRICTATIME, "mode=755,size=65536k"))
    for name in DEVICES:
        steps += [MakeFile(f"{dev}/{name}", 0o666), MountStep(f"/dev/{name}", f"{dev}/{name}", None, libc.MS_BIND)]
    pts_options = "newinstance,ptmxmode=0666,mode=0620" + ("" if userns else ",gid=5")
    steps += [
        MakeDir(f"{dev}/pts", 0o755),
        MountStep("devpts", f"{dev}/pts", "devpts", libc.MS_NOSUID | libc.MS_NOEXEC, pts_options),
        Symlink("pts/ptmx", f"{dev}/ptmx"),
        MakeDir(f"{dev}/shm", 0o1777),
        MountStep("tmpfs", f"{dev}/shm", "tmpfs", nosuid_nodev_noexec, "mode=1777,size=65536k"),
        Symlink("/proc/self/fd", f"{dev}/fd"),
        Symlink("/proc/self/fd/0", f"{dev}/stdin"),
        Symlink("/proc/self/fd/1", f"{dev}/stdout"),
        Symlink("/proc/self/fd/2", f"{dev}/stderr"),
    ]

    sys_dir = os.fspath(points.ensure("/sys", is_dir=True))
    sys_flags = nosuid_nodev_noexec | (0 if spec.privileged else libc.MS_RDONLY)
    # A user namespace may not mount sysfs for the host's network namespace: bind the host's.
    host_sys = MountStep("/sys", sys_dir, None, libc.MS_BIND | libc.MS_REC, optional=True)
    steps.append(MountStep("sysfs", sys_dir, "sysfs", sys_flags, fallback=host_sys))
    if not spec.privileged:
        steps.append(RemountReadonly(sys_dir, optional=True))

    for name in ETC_FILES:
        target = os.fspath(points.ensure(f"/etc/{name}", is_dir=False))
        steps += [MountStep(os.fspath(etc_dir / name), target, None, libc.MS_BIND), RemountReadonly(target)]

    made_in_dev: set[str] = set()

    def mount_point(target: str, is_dir: bool) -> str:
        """A mount point: in the rootfs, or (under /dev, a tmpfs by now) made by the child itself."""
        parts = [p for p in posixpath.normpath(target).split("/") if p]
        if parts[:1] != ["dev"] or len(parts) < 2:
            return os.fspath(points.ensure(target, is_dir=is_dir))
        for i in range(2, len(parts) + 1):
            path = f"{dev}/{'/'.join(parts[1:i])}"
            if path in made_in_dev:
                continue
            made_in_dev.add(path)
            last = i == len(parts)
            steps.append(MakeFile(path, 0o644) if last and not is_dir else MakeDir(path, 0o755))
        return f"{dev}/{'/'.join(parts[1:])}"

    for mount in sorted(spec.mounts, key=lambda m: _depth(m.target)):
        if mount.type == "bind":
            source = os.fspath(mount.source or "")
            try:
                is_dir = stat.S_ISDIR(os.stat(source).st_mode)
            except OSError as exc:
                raise SandboxError(f"bind mount source {source} for {mount.target}: {exc.strerror}") from None
            target = mount_point(mount.target, is_dir)
            steps.append(MountStep(source, target, None, libc.MS_BIND | libc.MS_REC))
            if mount.readonly:
                steps.append(RemountReadonly(target))
        else:
            target = mount_point(mount.target, True)
            flags = libc.MS_NOSUID | libc.MS_NODEV | (libc.MS_RDONLY if mount.readonly else 0)
            steps.append(MountStep("tmpfs", target, "tmpfs", flags, ",".join(mount.options) or None))

    if not spec.privileged:
        for name in _MASKED_FILES:
            steps.append(MountStep("/dev/null", f"{proc}/{name}", None, libc.MS_BIND, optional=True))
        for name in _MASKED_DIRS:
            steps.append(MountStep("tmpfs", f"{proc}/{name}", "tmpfs", libc.MS_RDONLY, optional=True))
        for name in _READONLY_PROC:
            path = f"{proc}/{name}"
            steps += [
                MountStep(path, path, None, libc.MS_BIND | libc.MS_REC, optional=True),
                RemountReadonly(path, optional=True),
            ]

    if spec.readonly_rootfs:
        steps.append(RemountReadonly(r))
    return tuple(steps)
