"""What /proc says about a process: alive (and the same one), its start time, its children.

Container records outlive the processes they name, and pids are reused: a pid is trusted only
together with the start time recorded when it was written.
"""

from __future__ import annotations

import os

__all__ = ["start_time", "alive", "children", "pid1_of"]


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return raw[raw.rfind(b")") + 2 :].decode().split()


def start_time(pid: int) -> int:
    """Clock ticks after boot at which `pid` started; 0 if there is no such process."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else 0


def alive(pid: int, started: int = 0) -> bool:
    """Whether `pid` runs (not a zombie) and, if `started` is given, is the process recorded."""
    if pid <= 0:
        return False
    fields = _stat_fields(pid)
    if not fields or fields[0] in ("Z", "X"):
        return False
    return not started or int(fields[19]) == started


def children(pid: int) -> list[int]:
    """Direct children of `pid` (scanning /proc: the `children` file needs a kernel option)."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat_fields(int(name))
            if fields and int(fields[1]) == pid:
                out.append(int(name))
    return sorted(out)


def pid1_of(pid: int) -> int:
    """The host pid of the PID-1 process of the sandbox whose handle pid is `pid`.

    The handle is either PID 1 itself (it lives in another PID namespace than ours) or a keeper
    outside, whose only child is PID 1. 0 if neither can be found.
    """
    try:
        if os.readlink(f"/proc/{pid}/ns/pid") != os.readlink("/proc/self/ns/pid"):
            return pid
    except OSError:
        return 0
    found = children(pid)
    return found[0] if found else 0
