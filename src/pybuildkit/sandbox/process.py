"""Start a sandboxed process and follow it: the public `start`/`run` entry points.

`run` is what a RUN step needs (stream output, return the exit status); `start` returns a
`SandboxProcess` handle for containers (`pybuild run`): signal it, kill it, read its output, wait.
"""

from __future__ import annotations

import errno
import functools
import os
import shutil
import signal
import socket
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path

from pybuildkit.errors import SandboxError
from pybuildkit.sandbox import child, libc
from pybuildkit.sandbox.etcfiles import hostname_file, hosts_file, resolv_file
from pybuildkit.sandbox.layout import build_layout
from pybuildkit.sandbox.mountpoints import MountPoints
from pybuildkit.sandbox.spec import CAPABILITY_NUMBERS, SandboxSpec

__all__ = ["SandboxProcess", "start", "run"]

OutputCallback = Callable[[bytes], None]


@functools.cache
def _cap_last() -> int:
    return libc.cap_last_cap()


def _fork_into_new_pid_namespace() -> int:
    """fork() with the child as PID 1 of a new PID namespace, leaving this thread as it was.

    unshare(CLONE_NEWPID) affects only the calling thread's *future children*; setns back to our
    own namespace right after the fork restores it, so later forks from this thread (subprocess,
    the next RUN) are ordinary.
    """
    own = os.open("/proc/thread-self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    pid = -1
    try:
        try:
            libc.unshare(libc.CLONE_NEWPID)
        except OSError as exc:
            raise SandboxError(
                f"cannot create a PID namespace: {exc.strerror}",
                hint="the builder needs CAP_SYS_ADMIN (in a container: --privileged), or set userns=True",
            ) from None
        try:
            pid = os.fork()
            return pid
        finally:
            if pid != 0:  # the parent (or a failed fork), never the child
                libc.setns(own, libc.CLONE_NEWPID)
    finally:
        if pid != 0:
            os.close(own)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _host_resolv() -> bytes | None:
    try:
        with open("/etc/resolv.conf", "rb") as fh:
            return fh.read(1 << 16)
    except OSError:
        return None


def _setup_error(raw: bytes, spec: SandboxSpec) -> SandboxError:
    code_text, _, message = raw.decode(errors="replace").partition("\0")
    code = int(code_text) if code_text.isdigit() else 0
    hint = None
    if code == errno.EPERM:
        hint = "the sandbox needs root, or unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)"
    return SandboxError(f"sandbox setup failed for {spec.rootfs}: {message}", hint=hint)


class SandboxProcess:
    """A running sandbox. `pid` is the keeper process, a child of the caller; signals sent with
    `send_signal` are forwarded to the sandbox's PID 1, and `kill` tears the whole PID namespace
    down. Call `wait` (or use it as a context manager) to reap it and remove its mount stubs."""

    def __init__(self, pid: int, output_fd: int | None, points: MountPoints, etc_dir: Path, *, tty: bool) -> None:
        self.pid = pid
        self.output_fd = output_fd
        self._points = points
        self._etc_dir = etc_dir
        self._tty = tty
        self.returncode: int | None = None

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """SIGKILL the keeper; PID 1 dies with it (parent-death signal), then all the rest."""
        self.send_signal(signal.SIGKILL)

    def read(self, size: int = 1 << 16) -> bytes:
        """The next chunk of merged stdout/stderr; b"" at the end (the pipe is then closed)."""
        if self.output_fd is None:
            return b""
        try:
            chunk = os.read(self.output_fd, size)
        except OSError as exc:
            if not (self._tty and exc.errno == errno.EIO):  # pty master: all slave ends closed
                raise
            chunk = b""
        if not chunk:
            self._close_output()
        return chunk

    def stream(self, on_output: OutputCallback | None) -> None:
        """Read the output to its end, handing each chunk to `on_output`."""
        while chunk := self.read():
            if on_output is not None:
                on_output(chunk)

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self._finish(status)
        return self.returncode

    def wait(self) -> int:
        """Exit status of the command (128+N if signal N ended it); cleans up afterwards."""
        if self.returncode is None:
            while True:
                try:
                    _, status = os.waitpid(self.pid, 0)
                    break
                except InterruptedError:
                    continue
            self._finish(status)
        assert self.returncode is not None
        return self.returncode

    def _finish(self, status: int) -> None:
        """Record the status and undo what start() put in place (the output stays readable)."""
        if os.WIFSIGNALED(status):
            self.returncode = 128 + os.WTERMSIG(status)
        else:
            self.returncode = os.waitstatus_to_exitcode(status)
        self._points.cleanup()
        shutil.rmtree(self._etc_dir, ignore_errors=True)

    def _close_output(self) -> None:
        if self.output_fd is not None:
            os.close(self.output_fd)
            self.output_fd = None

    def close(self) -> None:
        """Stop reading the output; the sandbox itself is left alone (see kill/wait)."""
        self._close_output()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.returncode is None:
            self.kill()
            self.wait()
        self.close()


def start(spec: SandboxSpec, *, output: int | None = None) -> SandboxProcess:
    """Start `spec.argv` in a new sandbox and return once it is exec'd (or raise SandboxError).

    Output (stdout and stderr merged, or the terminal with `tty=True`) goes to `output` if given
    (e.g. a log file), else to a pipe the handle reads.
    """
    rootfs = Path(spec.rootfs)
    if not rootfs.is_dir():
        raise SandboxError(f"root filesystem {rootfs} does not exist or is not a directory")
    root = Path(os.path.realpath(rootfs))
    userns = spec.userns if spec.userns is not None else os.geteuid() != 0
    if userns and (spec.uid, spec.gid) != (0, 0):
        raise SandboxError(
            f"user {spec.uid}:{spec.gid} is not available without root: the user namespace maps only root",
            hint="run as root, or build without USER",
        )

    etc_dir = Path(tempfile.mkdtemp(prefix="pybuild-sandbox-"))
    points = MountPoints(root)
    fds: list[int] = []
    console: socket.socket | None = None
    console_child: socket.socket | None = None
    try:
        _write_private(etc_dir / "hosts", hosts_file(spec.hostname, spec.extra_hosts))
        _write_private(etc_dir / "hostname", hostname_file(spec.hostname))
        _write_private(etc_dir / "resolv.conf", resolv_file(_host_resolv()))
        steps = build_layout(spec, root, points, etc_dir, userns=userns)

        flags = libc.CLONE_NEWNS | libc.CLONE_NEWPID | libc.CLONE_NEWUTS | libc.CLONE_NEWIPC
        if spec.network == "none":
            flags |= libc.CLONE_NEWNET
        if userns:
            flags |= libc.CLONE_NEWUSER
        keep = {CAPABILITY_NUMBERS[name] for name in spec.capabilities}
        drop = () if spec.privileged else tuple(c for c in range(_cap_last() + 1) if c not in keep)
        cfg = child.ChildConfig(
            root=os.fspath(root),
            steps=steps,
            clone_flags=flags,
            hostname=spec.hostname,
            network_none=spec.network == "none",
            cwd=spec.normalized_cwd,
            uid=spec.uid,
            gid=spec.gid,
            groups=spec.groups,
            argv=spec.argv,
            env=spec.environ,
            drop_caps=drop,
            tty=spec.tty,
            init=spec.init,
            userns_ids=(os.geteuid(), os.getegid()) if userns else None,
            keeper=userns,
        )

        read_fd: int | None
        if spec.tty:
            # The terminal is made inside, from the container's devpts; its master comes back here.
            console, console_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            null = os.open(os.devnull, os.O_RDWR)
            fds += [null]
            read_fd, stdin_fd, out_w = None, null, null
        else:
            stdin_fd = spec.stdin
            if output is None:
                read_fd, out_w = os.pipe()
                fds += [read_fd, out_w]
            else:
                read_fd, out_w = None, output
        err_r, err_w = os.pipe()
        fds += [err_r, err_w]

        if userns:
            pid = os.fork()
            if pid == 0:
                child.keeper_main(cfg, stdin_fd, out_w, err_w, console_child.fileno() if console_child else None)
        else:
            pid = _fork_into_new_pid_namespace()
            if pid == 0:
                child.direct_main(cfg, stdin_fd, out_w, err_w, console_child.fileno() if console_child else None)
    except BaseException:
        for fd in fds:
            os.close(fd)
        for sock in (console, console_child):
            if sock is not None:
                sock.close()
        points.cleanup()
        shutil.rmtree(etc_dir, ignore_errors=True)
        raise

    for fd in fds:
        if fd not in (read_fd, err_r):
            os.close(fd)
    if console_child is not None:
        console_child.close()
    process = SandboxProcess(pid, read_fd, points, etc_dir, tty=spec.tty)
    chunks = []
    try:
        while chunk := os.read(err_r, 4096):
            chunks.append(chunk)
    except BaseException:
        process.kill()
        process.wait()
        process.close()
        raise
    finally:
        os.close(err_r)
    if chunks:
        if console is not None:
            console.close()
        process.wait()
        process.close()
        raise _setup_error(b"".join(chunks), spec)
    if console is not None:
        try:
            process.output_fd = _receive_fd(console)
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            console.close()
    return process


def _receive_fd(sock: socket.socket) -> int:
    """The terminal master the sandbox's PID 1 sent (already sent when its setup succeeded)."""
    size = struct.calcsize("i")
    _, ancillary, _, _ = sock.recvmsg(1, socket.CMSG_SPACE(size))
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS and len(data) >= size:
            fd = struct.unpack("i", data[:size])[0]
            os.set_inheritable(fd, False)
            return fd
    raise SandboxError("sandbox setup failed: the container did not hand back its terminal")


def run(spec: SandboxSpec, on_output: OutputCallback | None = None, *, output: int | None = None) -> int:
    """Run `spec` to completion, streaming its output to `on_output`; return its exit status.

    If the caller is interrupted (KeyboardInterrupt, an exception in `on_output`), the sandbox is
    killed and reaped before the exception propagates.
    """
    with start(spec, output=output) as process:
        process.stream(on_output)
        return process.wait()
