"""Which process owns a scratch dir under a snapshot root, and clearing those of dead processes.

A build killed with SIGKILL leaves its `active/` views (with their overlay mounts still mounted in
the host's mount namespace) and half-unpacked `tmp/` dirs behind. Other builds may share the root
at the same moment, so "clear everything at start" is wrong; what is safe to clear is exactly what
a dead process owned. Each process takes a random owner token per root and holds `owners/<token>`
locked (flock, shared) until it exits; the kernel drops that lock when the process dies, however it
dies. Scratch names carry the token (`active-<token>-xxxx`), so a later process that can lock a
token's file exclusively knows its owner is gone and may unmount and delete what it left. flock
rather than pids: pids are reused and mean nothing across PID namespaces sharing one store.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import shutil
import threading
from pathlib import Path

from pybuildkit.errors import PybuildkitError
from pybuildkit.snapshot.overlay import unmount_path

__all__ = ["OWNERS_DIR", "owner_token", "owned_prefix", "reap_dead_owners", "mount_points_under"]

OWNERS_DIR = "owners"
_SCRATCH = ("active", "tmp")
_NAME = re.compile(r"^[a-z][a-z-]*-(?P<token>[0-9a-f]{16})-")
_TOKEN = re.compile(r"^(?P<token>[0-9a-f]{16})\.lock$")

_lock = threading.Lock()
# (pid, realpath of root) -> (token, fd holding the shared flock). The pid in the key makes a
# forked child take its own token instead of hiding behind its parent's lock.
_held: dict[tuple[int, str], tuple[str, int]] = {}


def owner_token(root: Path) -> str:
    """This process's token under snapshot root `root`, taking (and holding) its lock the first time."""
    key = (os.getpid(), os.path.realpath(root))
    with _lock:
        held = _held.get(key)
        if held is not None:
            return held[0]
        owners = Path(root) / OWNERS_DIR
        owners.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(8)
        fd = os.open(owners / f"{token}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_SH)
        _held[key] = (token, fd)
        return token


def owned_prefix(root: Path, kind: str) -> str:
    """A `tempfile` prefix for a scratch dir of `kind` (lowercase letters and dashes) owned by this process."""
    return f"{kind}-{owner_token(root)}-"


def mount_points_under(prefix: str) -> list[str]:
    """Mount points of this mount namespace below `prefix`, deepest first (octal escapes undone)."""
    try:
        with open("/proc/self/mountinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    points = []
    for line in lines:
        fields = line.split()
        if len(fields) > 4:
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
            if point.startswith(prefix):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def _dead(lock_path: Path) -> int | None:
    """An fd holding `lock_path` exclusively if its owner is gone, else None."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise
        return None
    return fd


def reap_dead_owners(root: Path) -> int:
    """Unmount and delete the scratch dirs of every owner of `root` that has exited; returns how
    many dirs went. Live owners (this process included) are never touched, so it is safe to call
    while other builds use the same root."""
    owners = Path(root) / OWNERS_DIR
    try:
        names = os.listdir(owners)
    except FileNotFoundError:
        return 0
    mine = {token for (pid, _), (token, _) in _held.items() if pid == os.getpid()}
    gone = 0
    for name in names:
        match = _TOKEN.match(name)
        if match is None or match["token"] in mine:
            continue
        fd = _dead(owners / name)
        if fd is None:
            continue
        try:
            cleared, left = _clear(Path(root), match["token"])
            gone += cleared
            if not left:  # else keep the token: a later run retries what is still there
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(owners / name)
        finally:
            os.close(fd)
    return gone


def _unmount_all(path: str) -> bool:
    """Unmount everything below `path`, deepest first; False if anything is still mounted."""
    for point in mount_points_under(os.path.realpath(path) + "/"):
        with contextlib.suppress(PybuildkitError):
            unmount_path(Path(point))
    return not mount_points_under(os.path.realpath(path) + "/")


def _clear(root: Path, token: str) -> tuple[int, int]:
    """(entries removed, entries left) of `token`'s scratch dirs."""
    gone = left = 0
    for sub in _SCRATCH:
        base = root / sub
        try:
            entries = list(os.scandir(base))
        except FileNotFoundError:
            continue
        for entry in entries:
            match = _NAME.match(entry.name)
            if match is None or match["token"] != token:
                continue
            if not _unmount_all(entry.path):
                left += 1  # never delete through a mount that is still there
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
            if os.path.lexists(entry.path):
                left += 1
            else:
                gone += 1
    return gone, left
