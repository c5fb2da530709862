"""pybuildkit.sandbox: run one process in fresh Linux namespaces on a root filesystem directory.

Used by RUN steps and by `pybuild run`. A sandbox gets its own mount, PID, UTS and IPC namespaces
(and a network namespace with only `lo` when `network="none"`), a root switched with pivot_root
(not chroot), a fresh /proc, a minimal /dev on tmpfs, a read-only /sys, generated /etc/hosts,
/etc/hostname and /etc/resolv.conf bind-mounted read-only from outside the rootfs, the image's
user, working directory and environment, and a reduced capability bounding set. The command is
PID 1 (or the child of a small init with `init=True`); when it exits, everything it started dies.

Without root a user namespace maps the caller to root inside. What works that way: every mount
above, pivot_root, hostname, network "none", running as root inside, writing files (they are
owned by the caller outside). What does not: USER other than root (only one id is mapped; no
newuidmap helpers), chown to other ids, setgroups, mknod; /sys is then the host's, bound
read-only, as the kernel refuses a fresh sysfs outside a new network namespace. Files created in
the rootfs as "root" belong to the calling user on disk.

Processes: as root the caller's thread forks PID 1 directly (one fork per run); rootless goes
through a keeper process. Why fork rather than re-exec Python, and how the forked code stays safe
in a threaded builder, is in `pybuildkit.sandbox.child`.

Not done (yet): seccomp filters, cgroup limits, AppArmor/SELinux labels.
"""

from pybuildkit.sandbox.process import SandboxProcess, run, start
from pybuildkit.sandbox.spec import DEFAULT_CAPABILITIES, DEFAULT_PATH, Mount, SandboxSpec
from pybuildkit.sandbox.users import ExecUser, lookup_user, resolve_user

__all__ = [
    "DEFAULT_CAPABILITIES",
    "DEFAULT_PATH",
    "ExecUser",
    "Mount",
    "SandboxProcess",
    "SandboxSpec",
    "lookup_user",
    "resolve_user",
    "run",
    "start",
]
