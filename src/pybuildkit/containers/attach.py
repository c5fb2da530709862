"""Connecting a running container to the caller: output to the terminal and the log, keystrokes in.

One loop serves every mode: the sandbox's output (a pipe, or the pseudo-terminal's master) is
copied to the log file and, when attached, to the caller's stdout; with `-i -t` the caller's stdin
is copied to the terminal master, the caller's terminal is put in raw mode (so Ctrl-C travels as a
byte and the container's terminal turns it into SIGINT) and its window size follows the caller's.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import signal
import struct
import termios
import tty
from collections.abc import Iterator

__all__ = ["FORWARDED", "copy_winsize", "raw_terminal", "forwarding", "pump"]

#: Signals the attached CLI passes on to the container rather than dying of.
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


def copy_winsize(src: int, dest: int) -> None:
    """Give the terminal `dest` the window size of `src` (nothing if `src` is no terminal)."""
    try:
        size = fcntl.ioctl(src, termios.TIOCGWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
        fcntl.ioctl(dest, termios.TIOCSWINSZ, size)
    except OSError:
        pass


@contextlib.contextmanager
def raw_terminal(fd: int) -> Iterator[None]:
    """`fd` in raw mode inside the block, restored after (no-op when it is not a terminal)."""
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, saved)


@contextlib.contextmanager
def forwarding(send: object, *, winsize: tuple[int, int] | None = None) -> Iterator[None]:
    """Handlers that pass FORWARDED signals to `send(signum)`; SIGWINCH copies the window size
    from winsize[0] to winsize[1]. Previous handlers come back after the block."""
    saved = {}
    for signum in FORWARDED:
        saved[signum] = signal.signal(signum, lambda n, _f: send(n))  # type: ignore[operator]
    if winsize is not None:
        saved[signal.SIGWINCH] = signal.signal(signal.SIGWINCH, lambda _n, _f: copy_winsize(*winsize))
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def _write_all(fd: int, data: bytes) -> bool:
    """Write everything; False if the reader went away (EPIPE/EIO)."""
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except OSError as exc:
            if exc.errno in (errno.EPIPE, errno.EIO, errno.EBADF):
                return False
            raise
        view = view[n:]
    return True


def pump(output_fd: int, log_fd: int | None, *, out: int | None = None, stdin: int | None = None, master: int | None = None) -> None:
    """Copy `output_fd` to `log_fd` and `out` until it ends; `stdin` to `master` meanwhile.

    The end of `stdin` sends an end-of-file character to the terminal (what a user's Ctrl-D does).
    """
    sources = [output_fd]
    if stdin is not None and master is not None:
        sources.append(stdin)
    out_ok = out is not None
    while True:
        try:
            ready, _, _ = select.select(sources, [], [])
        except InterruptedError:  # pragma: no cover - retried by Python since 3.5
            continue
        if stdin is not None and stdin in ready:
            try:
                data = os.read(stdin, 1 << 14)
            except OSError:
                data = b""
            if data:
                assert master is not None
                _write_all(master, data)
            else:
                sources.remove(stdin)
                if master is not None:
                    _write_all(master, b"\x04")
        if output_fd in ready:
            try:
                chunk = os.read(output_fd, 1 << 16)
            except OSError as exc:
                if exc.errno != errno.EIO:  # a terminal master whose slaves are all closed
                    raise
                chunk = b""
            if not chunk:
                return
            if log_fd is not None:
                _write_all(log_fd, chunk)
            if out_ok:
                assert out is not None
                out_ok = _write_all(out, chunk)
