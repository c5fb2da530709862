"""`pybuild exec`: a new process inside a running container, by joining its namespaces.

The container's PID 1 (as the host sees it) is recorded when it starts; we open its
`/proc/<pid>/ns/*` and root, then in a forked child join its cgroups, `setns` into each namespace
(mount last), fork once more (a PID namespace applies to children only), `chroot` into the
container's root, take the container's user and capability bounding set, and exec. The middle
process waits outside and forwards signals, so the caller sees the command's exit status.

With a terminal, the pseudo-terminal is opened from the container's own /dev/ptmx (so `tty`
inside prints /dev/pts/N of the container) and its master is passed back over a socket.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import os
import signal
import socket
import struct
import termios
from collections.abc import Iterable
from typing import NoReturn

import attrs

from pybuildkit.containers import cgroups, procinfo
from pybuildkit.containers.attach import FORWARDED, copy_winsize, forwarding, pump, raw_terminal
from pybuildkit.containers.records import Container
from pybuildkit.errors import SandboxError, UsageError

__all__ = ["ExecRequest", "exec_in", "NAMESPACES"]

#: Joined in this order; the mount namespace last, as it changes what paths mean.
NAMESPACES = ("ipc", "uts", "net", "pid", "mnt")

_TIOCSPTLCK = 0x40045431
_TIOCGPTN = 0x80045430


@attrs.frozen
class ExecRequest:
    """The process to start in the container."""

    argv: tuple[str, ...] = attrs.field(converter=tuple)
    env: tuple[tuple[str, str], ...] = attrs.field(converter=tuple)
    cwd: str = "/"
    uid: int = 0
    gid: int = 0
    groups: tuple[int, ...] = attrs.field(default=(), converter=tuple)
    tty: bool = False
    interactive: bool = False


def _drop_caps() -> None:
    from pybuildkit.sandbox import libc
    from pybuildkit.sandbox.spec import CAPABILITY_NUMBERS, DEFAULT_CAPABILITIES

    keep = {CAPABILITY_NUMBERS[name] for name in DEFAULT_CAPABILITIES}
    for cap in range(libc.cap_last_cap() + 1):
        if cap not in keep:
            with contextlib.suppress(OSError):
                libc.prctl(libc.PR_CAPBSET_DROP, cap)


def _open_console(sock: socket.socket) -> None:
    """In the container: a terminal from its /dev/ptmx as our 0/1/2, the master sent back."""
    master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY)
    fcntl.ioctl(master, _TIOCSPTLCK, struct.pack("i", 0))
    number = struct.unpack("I", fcntl.ioctl(master, _TIOCGPTN, struct.pack("I", 0)))[0]
    slave = os.open(f"/dev/pts/{number}", os.O_RDWR)
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.close(slave)
    sock.sendmsg([b"T"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [master]))])
    os.close(master)
    sock.close()


def _grandchild(request: ExecRequest, root_fd: int, console: socket.socket | None) -> NoReturn:
    code = 126
    try:
        os.fchdir(root_fd)
        os.chroot(".")
        try:
            os.chdir(request.cwd)
        except OSError:
            os.chdir("/")
        if console is not None:
            _open_console(console)
        elif not request.interactive:
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
        _drop_caps()
        os.setgroups([request.gid, *(g for g in request.groups if g != request.gid)])
        os.setgid(request.gid)
        os.setuid(request.uid)
        signal.pthread_sigmask(signal.SIG_SETMASK, ())
        try:
            os.execvpe(request.argv[0], list(request.argv), dict(request.env))
        except OSError as exc:
            code = 127 if isinstance(exc, FileNotFoundError) else 126
            os.write(2, f"pybuild exec: {request.argv[0]}: {exc.strerror or exc}\n".encode(errors="replace"))
    except BaseException as exc:  # noqa: BLE001 - never unwind into the caller's code
        with contextlib.suppress(OSError):
            os.write(2, f"pybuild exec: cannot enter the container: {exc}\n".encode(errors="replace"))
    os._exit(code)


def _middle(request: ExecRequest, ns_fds: Iterable[int], root_fd: int, groups: tuple[str, ...], console: socket.socket | None) -> NoReturn:
    code = 126
    try:
        cgroups.join(groups)
        from pybuildkit.sandbox import libc  # loaded by exec_in before the fork

        for fd in ns_fds:
            libc.setns(fd, 0)
        waited = {*FORWARDED, signal.SIGCHLD}
        signal.pthread_sigmask(signal.SIG_BLOCK, waited)
        pid = os.fork()
        if pid == 0:
            _grandchild(request, root_fd, console)
        if console is not None:
            console.close()
        while True:
            info = signal.sigwaitinfo(waited)
            if info.si_signo != signal.SIGCHLD:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, info.si_signo)
                continue
            done, status = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                code = 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.waitstatus_to_exitcode(status)
                break
    except BaseException as exc:  # noqa: BLE001
        with contextlib.suppress(OSError):
            os.write(2, f"pybuild exec: cannot enter the container: {exc}\n".encode(errors="replace"))
    os._exit(code)


def _receive_master(sock: socket.socket) -> int:
    _, ancillary, _, _ = sock.recvmsg(1, socket.CMSG_SPACE(struct.calcsize("i")))
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            return int(array.array("i", data[: struct.calcsize("i")])[0])
    raise SandboxError("exec: the container did not hand back a terminal")


def exec_in(container: Container, request: ExecRequest, *, stdin: int = 0, stdout: int = 1) -> int:
    """Run `request` inside the running `container`; its exit status (126/127 if it cannot start)."""
    state = container.state
    pid = state.init_pid
    if state.status != "running" or not procinfo.alive(pid):
        raise UsageError(f"container {container.name} is not running", hint="start it first (pybuild start)")
    fds: list[int] = []
    try:
        for name in NAMESPACES:
            fds.append(os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC))
        root_fd = os.open(f"/proc/{pid}/root", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        for fd in fds:
            os.close(fd)
        raise SandboxError(f"cannot open the namespaces of container {container.name}: {exc.strerror}") from None
    from pybuildkit.sandbox import libc, spec  # noqa: F401 - loaded here, used after the fork

    ours = theirs = None
    if request.tty:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            if ours is not None:
                ours.close()
            _middle(request, fds, root_fd, state.cgroups, theirs)
    finally:
        for fd in (*fds, root_fd):
            os.close(fd)
        if theirs is not None:
            theirs.close()
    master = None
    try:
        if ours is not None:
            try:
                master = _receive_master(ours)
            finally:
                ours.close()
        send = lambda signum: _kill(child, signum)  # noqa: E731
        if master is not None:
            copy_winsize(stdin, master)
            raw = raw_terminal(stdin) if request.interactive else contextlib.nullcontext()
            with forwarding(send, winsize=(stdin, master)), raw:
                pump(master, None, out=stdout, stdin=stdin if request.interactive else None, master=master)
        else:
            with forwarding(send):
                return _wait(child)
        return _wait(child)
    finally:
        if master is not None:
            os.close(master)


def _kill(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _wait(pid: int) -> int:
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:  # pragma: no cover
            continue
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.waitstatus_to_exitcode(status)
