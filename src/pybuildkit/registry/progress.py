"""Progress of a pull or push, as events a caller may render (the CLI prints them on stderr).

The library never prints: it calls `progress(event)` if given one, from worker threads, so a
renderer must be thread-safe (the CLI's takes a lock). Events are frozen values so a renderer can
keep them.
"""

from __future__ import annotations

from collections.abc import Callable

import threading
import time

import attrs

__all__ = ["Progress", "ProgressCallback", "Status", "emit", "ProgressLines", "human_size"]


class Status:
    """The `status` values of a :class:`Progress` event (plain strings, for easy rendering)."""

    RESOLVED = "resolved"  # the manifest is known (digest = manifest digest)
    EXISTS = "exists"  # the blob was already there (store on pull, registry on push)
    MOUNTED = "mounted"  # push: the registry linked the blob from another repository
    TRANSFER = "transfer"  # bytes are moving; `done` of `total`
    DONE = "done"  # the blob verified / was accepted
    PUSHED = "pushed"  # push: the manifest was accepted (digest = manifest digest)
    STORED = "stored"  # pull: the image is recorded in the store


@attrs.frozen
class Progress:
    """One step of one blob (or of the manifest) in a pull or push."""

    action: str  # "pull" or "push"
    status: str
    digest: str
    done: int = 0
    total: int = 0
    media_type: str = ""


ProgressCallback = Callable[[Progress], None]


def emit(progress: ProgressCallback | None, event: Progress) -> None:
    if progress is not None:
        progress(event)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


class ProgressLines:
    """Turns events into text lines for a `write` callable (the CLI passes one writing stderr).

    Byte counts of one blob are shown at most every `interval` seconds, so a fast local pull prints
    a few lines per layer, not thousands; status changes always print. Thread-safe."""

    def __init__(self, write: Callable[[str], None], *, interval: float = 0.5) -> None:
        self._write = write
        self._interval = interval
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, event: Progress) -> None:
        line = self.line(event)
        if line is not None:
            with self._lock:
                self._write(line)

    def line(self, event: Progress) -> str | None:
        short = event.digest.partition(":")[2][:12] or event.digest
        if event.status == Status.TRANSFER:
            now = time.monotonic()
            with self._lock:
                last = self._last.get(event.digest)
                if last is not None and now - last < self._interval:
                    return None
                self._last[event.digest] = now
            verb = "downloading" if event.action == "pull" else "uploading"
            return f"{short}: {verb} {human_size(event.done)} / {human_size(event.total)}"
        if event.status == Status.EXISTS:
            return f"{short}: already {'in the store' if event.action == 'pull' else 'in the registry'}"
        if event.status == Status.MOUNTED:
            return f"{short}: mounted from another repository"
        if event.status == Status.DONE:
            return f"{short}: {'verified' if event.action == 'pull' else 'pushed'} ({human_size(event.total)})"
        if event.status == Status.RESOLVED:
            return f"manifest {event.digest}"
        if event.status == Status.PUSHED:
            return f"manifest {event.digest} pushed"
        if event.status == Status.STORED:
            return f"image {event.digest} stored"
        return None
