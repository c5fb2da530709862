"""Progress of a pull or push, as events a caller may render (the CLI prints them on stderr).

The library never prints: it calls `progress(event)` if given one, from worker threads, so a
renderer must be thread-safe (the CLI's takes a lock). Events are frozen values so a renderer can
keep them.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

__all__ = ["Progress", "ProgressCallback", "Status", "emit"]


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
