"""Code that runs only in forked processes: the namespace keeper and the container's PID 1.

Why fork and not a re-exec of Python: a fork costs ~1 ms, a fresh interpreter 15-25 ms, and the
target is a whole sandbox under 20 ms. Forking a threaded parent (the executor runs stages in
threads) is safe only if the child never needs a lock another thread might hold, so this module
follows strict rules: every module and ctypes function is loaded before the fork; the child
never imports, logs, prints or touches Python file objects; it disables the GC (finalizers could
flush shared buffers); it only calls `os.*`, `libc.*` and the prepared steps, then `execve` or
`os._exit` — never a normal interpreter exit (atexit handlers, buffered stdout of the parent).

Process shapes:

    direct (root):   builder thread: unshare(PID) ─fork─▶ PID 1 (B) ─unshare(ns…)─▶ execve command
                     builder thread: setns(own PID ns) right after the fork
    keeper (rootless, like `unshare --fork --pid`):
                     builder ─fork─▶ keeper (A) ─unshare(user, ns…), fork─▶ PID 1 (B) ─▶ execve
    init mode:       B stays as a reaping, signal-forwarding init ─fork─▶ command (C)

In direct mode the builder is B's parent: it waits for B and signals it directly (unshare of
CLONE_NEWPID only changes the calling *thread's* namespace for children, and is undone at once).
A user namespace cannot be unshared by a threaded process, so rootless needs the keeper A, which
waits for B and forwards signals; B then gets SIGKILL when A dies (PR_SET_PDEATHSIG). Either way the
kernel kills everything in the PID namespace when B exits: nothing the command left behind survives.

File descriptors in the children: 0 stdin, 1 and 2 the output, 3 the error channel (close-on-exec:
EOF there means the command was exec'd). Everything else is closed right after the fork.
"""

from __future__ import annotations

import errno
import fcntl
import gc
import os
import select
import signal
import socket
import struct
import termios
from typing import NoReturn

import attrs

from pybuildkit.sandbox import libc
from pybuildkit.sandbox.layout import Step

__all__ = ["ChildConfig", "FORWARDED_SIGNALS", "SETUP_FAILED", "direct_main", "keeper_main"]

SETUP_FAILED = 125
ERR_FD = 3
CONSOLE_FD = 4  # tty mode: a unix socket the terminal master is handed back on
_TIOCSPTLCK, _TIOCGPTN = 0x40045431, 0x80045430
FORWARDED_SIGNALS = frozenset(
    {
        signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGUSR1,
        signal.SIGUSR2, signal.SIGWINCH, signal.SIGCONT, signal.SIGALRM,
    }
)
_WAITED = frozenset(FORWARDED_SIGNALS | {signal.SIGCHLD})
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_NOT_FOUND = (errno.ENOENT, errno.ENOTDIR)


@attrs.frozen
class ChildConfig:
    """Everything the children need, precomputed in the parent (bytes and ints, no lookups)."""

    root: str
    steps: tuple[Step, ...]
    clone_flags: int
    hostname: str
    network_none: bool
    cwd: str
    uid: int
    gid: int
    groups: tuple[int, ...]
    argv: tuple[str, ...]
    env: dict[str, str]
    drop_caps: tuple[int, ...]
    tty: bool
    init: bool
    userns_ids: tuple[int, int] | None  # (outer uid, outer gid) to map to root, or None
    keeper: bool = True


def _report(stage: str, exc: BaseException) -> NoReturn:
    code = exc.errno if isinstance(exc, OSError) and exc.errno else 0
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    text = reason if reason.startswith(stage) else f"{stage}: {reason}"
    message = f"{code}\0{text}".encode(errors="replace")
    try:
        os.write(ERR_FD, message)
    finally:
        os._exit(SETUP_FAILED)


def _status_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1


def _write_file(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _arrange_fds(stdin_fd: int | None, out_fd: int, err_fd: int, console_fd: int | None = None) -> None:
    """Put stdin/output/error on 0-3 (and the console socket on 4) and close everything else."""
    if stdin_fd is None:
        stdin_fd = os.open("/dev/null", os.O_RDONLY)
    sources = (stdin_fd, out_fd, err_fd) + ((console_fd,) if console_fd is not None else ())
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in sources]
    os.dup2(high[0], 0)
    os.dup2(high[1], 1)
    os.dup2(high[1], 2)
    os.dup2(high[2], ERR_FD, inheritable=False)
    if console_fd is not None:
        os.dup2(high[3], CONSOLE_FD, inheritable=False)
    os.closerange((CONSOLE_FD if console_fd is not None else ERR_FD) + 1, 2**31 - 1)


def keeper_main(cfg: ChildConfig, stdin_fd: int | None, out_fd: int, err_fd: int, console_fd: int | None = None) -> NoReturn:
    """Process A: unshare, fork PID 1, then wait for it and forward signals to it."""
    stage = "setup"
    try:
        gc.disable()
        _arrange_fds(stdin_fd, out_fd, err_fd, console_fd)
        os.setsid()
        signal.pthread_sigmask(signal.SIG_SETMASK, _WAITED)
        stage = "unshare"
        libc.unshare(cfg.clone_flags)
        if cfg.userns_ids is not None:
            stage = "user namespace maps"
            outer_uid, outer_gid = cfg.userns_ids
            _write_file("/proc/self/setgroups", b"deny")
            _write_file("/proc/self/uid_map", b"0 %d 1" % outer_uid)
            _write_file("/proc/self/gid_map", b"0 %d 1" % outer_gid)
        stage = "fork"
        lifeline_r, lifeline_w = os.pipe()
        pid = os.fork()
    except BaseException as exc:  # noqa: BLE001 - must never unwind into the parent's code
        _report(stage, exc)
    if pid == 0:
        _container_main(cfg, lifeline_r, lifeline_w)
    try:
        os.close(lifeline_r)
        os.close(ERR_FD)
        if cfg.tty:
            os.close(CONSOLE_FD)
        for fd in (0, 1, 2):
            os.close(fd)
        while True:
            info = signal.sigwaitinfo(_WAITED)
            if info.si_signo == signal.SIGCHLD:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done == pid:
                    os._exit(_status_code(status))
            else:
                try:
                    os.kill(pid, info.si_signo)
                except ProcessLookupError:
                    pass
    except BaseException:  # noqa: BLE001
        os._exit(SETUP_FAILED)


def direct_main(cfg: ChildConfig, stdin_fd: int | None, out_fd: int, err_fd: int, console_fd: int | None = None) -> NoReturn:
    """Direct mode (as root): this process is already PID 1 of the new PID namespace.

    The parent unshared CLONE_NEWPID for its own thread and forked us, so there is no keeper:
    one fork fewer per RUN. The other namespaces are unshared here, by PID 1 itself.
    """
    stage = "setup"
    try:
        gc.disable()
        _arrange_fds(stdin_fd, out_fd, err_fd, console_fd)
        signal.pthread_sigmask(signal.SIG_SETMASK, _WAITED)
        stage = "unshare"
        libc.unshare(cfg.clone_flags & ~libc.CLONE_NEWPID)
    except BaseException as exc:  # noqa: BLE001 - must never unwind into the parent's code
        _report(stage, exc)
    _container_main(cfg, None, None)


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH", fcntl.ioctl(sock, _SIOCGIFFLAGS, request)[:18])[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | _IFF_UP, b""))


def _container_main(cfg: ChildConfig, lifeline_r: int | None, lifeline_w: int | None) -> NoReturn:
    """Process B (PID 1 of the new namespace): build the filesystem, pivot, drop privileges."""
    stage = "setup"
    try:
        if lifeline_r is not None and lifeline_w is not None:
            os.close(lifeline_w)
            libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
            # The keeper may have died before the line above: its lifeline end is then closed.
            if select.select([lifeline_r], [], [], 0)[0]:
                os._exit(SETUP_FAILED)
            os.close(lifeline_r)
        os.setsid()
        os.umask(0o022)
        stage = "sethostname"
        libc.sethostname(cfg.hostname)
        if cfg.network_none:
            stage = "loopback"
            _loopback_up()
        for step in cfg.steps:
            stage = "preparing " + getattr(step, "target", getattr(step, "path", ""))
            step.apply()
        stage = "pivot_root"
        os.chdir(cfg.root)
        libc.pivot_root(".", ".")
        libc.umount2(".", libc.MNT_DETACH)
        os.chdir("/")
        stage = f"workdir {cfg.cwd}"
        os.makedirs(cfg.cwd, 0o755, exist_ok=True)
        os.chdir(cfg.cwd)
        if cfg.tty:
            stage = "terminal"
            _open_console(cfg)
        stage = "capabilities"
        for cap in cfg.drop_caps:
            try:
                libc.prctl(libc.PR_CAPBSET_DROP, cap)
            except OSError as exc:
                if exc.errno != errno.EINVAL:
                    raise
        if not cfg.init:
            _become_user(cfg)
            _exec(cfg)
        stage = "init fork"
        pid = os.fork()
    except BaseException as exc:  # noqa: BLE001
        _report(stage, exc)
    if pid == 0:
        try:
            if cfg.tty:
                # The command, not init, is the terminal's foreground job (Ctrl-C goes to it once).
                os.setpgid(0, 0)
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTOU})
                os.tcsetpgrp(0, os.getpgrp())
            _become_user(cfg)
        except BaseException as exc:  # noqa: BLE001
            _report("user", exc)
        _exec(cfg)
    _init_loop(pid)


def _open_console(cfg: ChildConfig) -> None:
    """A terminal from the container's own /dev/ptmx as 0/1/2 and the controlling terminal; the
    master goes back to the parent over CONSOLE_FD (so `tty` inside names /dev/pts/N of the
    container, as runc's console socket does)."""
    master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    fcntl.ioctl(master, _TIOCSPTLCK, struct.pack("i", 0))
    number = struct.unpack("I", fcntl.ioctl(master, _TIOCGPTN, struct.pack("I", 0)))[0]
    slave = os.open("/dev/pts/%d" % number, os.O_RDWR)
    try:
        os.fchown(slave, cfg.uid, cfg.gid)
    except OSError:
        pass  # a user namespace maps only root: the terminal stays root's, still usable
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.close(slave)
    sock = socket.socket(fileno=CONSOLE_FD)
    sock.sendmsg([b"T"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", master))])
    sock.close()
    os.close(master)


def _become_user(cfg: ChildConfig) -> None:
    groups = [cfg.gid] + [g for g in cfg.groups if g != cfg.gid]
    if cfg.userns_ids is None:
        os.setgroups(groups)
    os.setgid(cfg.gid)
    os.setuid(cfg.uid)
    if cfg.keeper:
        # Keeper mode: a credential change clears the parent-death signal, so set it again.
        libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)


def _execvpe(argv: tuple[str, ...], env: dict[str, str]) -> NoReturn:
    """PATH search like execvpe(3), done here because os.execvpe imports and touches `warnings`."""
    name = argv[0]
    if "/" in name:
        os.execve(name, list(argv), env)
    denied: OSError | None = None
    for directory in env.get("PATH", "").split(":"):
        try:
            os.execve(os.path.join(directory or ".", name), list(argv), env)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM):
                denied = exc
            elif exc.errno not in _NOT_FOUND:
                raise
    raise denied or FileNotFoundError(errno.ENOENT, "not found", name)


def _exec(cfg: ChildConfig) -> NoReturn:
    try:
        libc.reset_signal(signal.SIGPIPE)
        libc.reset_signal(signal.SIGXFSZ)
        signal.pthread_sigmask(signal.SIG_SETMASK, ())
        _execvpe(cfg.argv, cfg.env)
    except OSError as exc:
        code = 127 if exc.errno in _NOT_FOUND else 126
        reason = "not found" if code == 127 else (exc.strerror or "cannot execute")
        try:
            os.write(2, f"sandbox: exec {cfg.argv[0]}: {reason}\n".encode(errors="replace"))
        finally:
            os._exit(code)
    except BaseException as exc:  # noqa: BLE001
        _report("exec", exc)


def _init_loop(child: int) -> NoReturn:
    """Init mode: reap every zombie, forward signals to the command, exit with its status."""
    try:
        os.close(ERR_FD)
        for fd in (0, 1, 2):
            os.close(fd)
        while True:
            info = signal.sigwaitinfo(_WAITED)
            if info.si_signo != signal.SIGCHLD:
                try:
                    os.kill(child, info.si_signo)
                except ProcessLookupError:
                    pass
                continue
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    os._exit(1)
                if pid == 0:
                    break
                if pid == child:
                    os._exit(_status_code(status))
    except BaseException:  # noqa: BLE001
        os._exit(SETUP_FAILED)
