"""Resource limits through cgroups: one group per container in each controller that is needed.

Machines differ: cgroup v1 controllers mounted under /sys/fs/cgroup/<controller>, a unified v2
hierarchy, or a mix (v1 controllers plus a v2 tree with none enabled). For each limit we use the
v1 controller if it is mounted, else the v2 controller if enabled, else warn: a limit the user
asked for is never dropped silently. Groups are made below the cgroup the caller itself is in
(nested, so we never escape a supervisor's accounting), and their absolute paths are recorded so
any later process can remove them.

How the container gets in: the process that starts it joins the groups just before forking the
sandbox and leaves right after, so the container's PID 1 and everything it forks are born inside
and no fork can slip out between a start and a move.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Callable, Iterator

import attrs

from pybuildkit.containers.options import Limits

__all__ = ["CgroupPlan", "plan_cgroups", "create_cgroups", "joined", "join", "remove_cgroups", "MOUNTS_FILE"]

MOUNTS_FILE = "/proc/self/mounts"
_V1_FILES = {"memory": "memory.limit_in_bytes", "pids": "pids.max"}


@attrs.frozen
class CgroupPlan:
    """Which files to write in which group dir, and the limits that cannot be applied (why)."""

    writes: tuple[tuple[str, str, str], ...]  # (group dir, file name, value)
    unsupported: tuple[str, ...]

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(group for group, _, _ in self.writes))


def _mounts(text: str) -> tuple[dict[str, str], str | None]:
    """v1 controller -> mount point, and the v2 mount point, from /proc/self/mounts text."""
    v1: dict[str, str] = {}
    v2: str | None = None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        mountpoint, fstype, options = fields[1], fields[2], fields[3].split(",")
        if fstype == "cgroup":
            for opt in options:
                v1.setdefault(opt, mountpoint)
        elif fstype == "cgroup2" and v2 is None:
            v2 = mountpoint
    return v1, v2


def _own_paths(text: str) -> dict[str, str]:
    """Controller (or "" for v2) -> this process's cgroup path, from /proc/self/cgroup text."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            out[""] = parts[2]
        for controller in parts[1].split(","):
            if controller:
                out[controller] = parts[2]
    return out


def _read(path: str) -> str:
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return ""


def plan_cgroups(
    name: str,
    limits: Limits,
    *,
    mounts: str | None = None,
    own: str | None = None,
    read: Callable[[str], str] = _read,
) -> CgroupPlan:
    """Decide where each limit goes (pure given the texts; tests pass their own)."""
    v1, v2 = _mounts(mounts if mounts is not None else read(MOUNTS_FILE))
    mine = _own_paths(own if own is not None else read("/proc/self/cgroup"))
    wanted: list[tuple[str, str, str]] = []  # (controller, what, value) per limit
    if limits.memory is not None:
        wanted.append(("memory", "memory", str(limits.memory)))
    if limits.cpu_quota is not None:
        wanted.append(("cpu", "cpus", f"{limits.cpu_quota} {limits.cpu_period}"))
    if limits.pids is not None:
        wanted.append(("pids", "pids-limit", str(limits.pids)))
    writes: list[tuple[str, str, str]] = []
    unsupported: list[str] = []
    v2_enabled: set[str] = set()
    if v2 is not None:
        v2_dir = os.path.join(v2, mine.get("", "/").lstrip("/"))
        v2_enabled = set(read(os.path.join(v2_dir, "cgroup.controllers")).split())
    for controller, what, value in wanted:
        if controller in v1:
            group = os.path.join(v1[controller], mine.get(controller, "/").lstrip("/"), name)
            if controller == "cpu":
                quota, period = value.split()
                writes += [(group, "cpu.cfs_period_us", period), (group, "cpu.cfs_quota_us", quota)]
            else:
                writes.append((group, _V1_FILES[controller], value))
        elif v2 is not None and controller in v2_enabled:
            group = os.path.join(v2, mine.get("", "/").lstrip("/"), name)
            file = {"memory": "memory.max", "cpu": "cpu.max", "pids": "pids.max"}[controller]
            writes.append((group, file, value))
        else:
            unsupported.append(f"--{what}: no {controller} cgroup controller is available on this machine")
    return CgroupPlan(tuple(writes), tuple(unsupported))


def create_cgroups(plan: CgroupPlan, warn: Callable[[str], None]) -> tuple[str, ...]:
    """Make the groups and write the limits; warn (never fail) for each that cannot be applied.

    Returns the group dirs made, to join and later remove.
    """
    made: list[str] = []
    for group in plan.groups:
        try:
            os.makedirs(group, exist_ok=True)
            made.append(group)
        except OSError as exc:
            warn(f"cannot create cgroup {group}: {exc.strerror}; its limits are not applied")
    for group, file, value in plan.writes:
        if group not in made:
            continue
        try:
            with open(os.path.join(group, file), "w") as fh:
                fh.write(value)
        except OSError as exc:
            warn(f"cannot set {file}={value} in {group}: {exc.strerror}; that limit is not applied")
    for reason in plan.unsupported:
        warn(f"limit not applied: {reason}")
    return tuple(made)


def join(groups: tuple[str, ...], pid: int = 0) -> None:
    """Move process `pid` (0: the caller) into every group."""
    for group in groups:
        with open(os.path.join(group, "cgroup.procs"), "w") as fh:
            fh.write(str(pid or os.getpid()))


@contextlib.contextmanager
def joined(groups: tuple[str, ...]) -> Iterator[None]:
    """The caller is in `groups` inside the block (children forked there stay), then back home."""
    if not groups:
        yield
        return
    origin = [os.path.dirname(group.rstrip("/")) for group in groups]  # made below our own groups
    join(groups)
    try:
        yield
    finally:
        for parent in origin:
            with contextlib.suppress(OSError):
                join((parent,))


def remove_cgroups(groups: tuple[str, ...], *, timeout: float = 2.0) -> None:
    """Remove the groups once their last process is gone (zombies may linger a moment)."""
    deadline = time.monotonic() + timeout
    for group in groups:
        while True:
            try:
                os.rmdir(group)
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
