"""What to run and how: the frozen values a caller hands to `pybuildkit.sandbox.run`.

A spec is plain data so RUN steps (executor) and containers (`pybuild run`) share one entry point,
and so cache keys can be derived from the same fields the sandbox obeys.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

import attrs

from pybuildkit.errors import SandboxError

__all__ = [
    "DEFAULT_PATH",
    "DEFAULT_CAPABILITIES",
    "CAPABILITY_NUMBERS",
    "Mount",
    "SandboxSpec",
]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Linux capability numbers (linux/capability.h).
CAPABILITY_NUMBERS: Mapping[str, int] = {
    name: number
    for number, name in enumerate(
        (
            "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
            "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
            "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
            "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
            "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
            "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
            "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
            "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
            "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
        )
    )
}

# Docker's default set minus CAP_MKNOD: without a device cgroup, mknod would reach host disks.
DEFAULT_CAPABILITIES: frozenset[str] = frozenset(
    {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT",
        "CAP_AUDIT_WRITE", "CAP_SETFCAP",
    }
)


def _abs_target(_instance: object, _attribute: object, value: str) -> None:
    if not value.startswith("/"):
        raise SandboxError(f"mount target must be absolute: {value!r}")


@attrs.frozen
class Mount:
    """An extra mount inside the sandbox: a host path bound in, or a fresh tmpfs.

    `options` are passed to the filesystem as its data string (e.g. "size=64m,mode=1777").
    """

    type: Literal["bind", "tmpfs"]
    target: str = attrs.field(validator=_abs_target)
    source: str | None = None
    readonly: bool = False
    options: tuple[str, ...] = attrs.field(default=(), converter=lambda v: (v,) if isinstance(v, str) else tuple(v))

    def __attrs_post_init__(self) -> None:
        if self.type not in ("bind", "tmpfs"):
            raise SandboxError(f"unknown mount type {self.type!r}")
        if self.type == "bind" and not self.source:
            raise SandboxError("a bind mount needs a source")


def _env(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((str(k), str(v)) for k, v in items)


def _hosts(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((str(name), str(ip)) for name, ip in items)


@attrs.frozen
class SandboxSpec:
    """One process to run in fresh namespaces on `rootfs` (a directory, typically an overlay).

    - `env` is the full environment (PATH defaults to Docker's when absent).
    - `cwd` is created (as root) if missing, like BuildKit does for WORKDIR.
    - `groups` are supplementary groups; the primary `gid` is always included.
    - `network="none"` gives a new network namespace with only `lo`, up.
    - `extra_hosts` are (name, ip) pairs added to the generated /etc/hosts.
    - `privileged` keeps every capability and skips the /proc masking and read-only /sys.
    - `init=True` runs a small reaping, signal-forwarding init as PID 1 and the command as its
      child (for long-running containers); otherwise the command itself is PID 1, like a RUN.
    - `userns`: None means "only when not root"; True forces a user namespace mapping the caller
      to root.
    """

    rootfs: Path = attrs.field(converter=Path)
    argv: tuple[str, ...] = attrs.field(converter=tuple)
    env: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_env)
    cwd: str = "/"
    uid: int = 0
    gid: int = 0
    groups: tuple[int, ...] = attrs.field(default=(), converter=tuple)
    hostname: str = "sandbox"
    network: Literal["host", "none"] = "host"
    mounts: tuple[Mount, ...] = attrs.field(default=(), converter=tuple)
    stdin: int | None = None
    tty: bool = False
    readonly_rootfs: bool = False
    extra_hosts: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_hosts)
    privileged: bool = False
    capabilities: frozenset[str] = attrs.field(default=DEFAULT_CAPABILITIES, converter=frozenset)
    init: bool = False
    userns: bool | None = None

    def __attrs_post_init__(self) -> None:
        if not self.argv:
            raise SandboxError("argv must not be empty")
        if self.network not in ("host", "none"):
            raise SandboxError(f"network must be 'host' or 'none', not {self.network!r}")
        if not self.cwd.startswith("/"):
            raise SandboxError(f"cwd must be absolute: {self.cwd!r}")
        unknown = self.capabilities - CAPABILITY_NUMBERS.keys()
        if unknown:
            raise SandboxError(f"unknown capabilities: {', '.join(sorted(unknown))}")

    @property
    def environ(self) -> dict[str, str]:
        """The process environment, with Docker's default PATH when none is given."""
        env = dict(self.env)
        env.setdefault("PATH", DEFAULT_PATH)
        return env

    @property
    def normalized_cwd(self) -> str:
        return posixpath.normpath(self.cwd)
