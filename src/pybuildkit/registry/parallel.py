"""Moving many blobs at once: one worker pool shape for pull and push.

Layers travel in parallel because a registry round trip, not bandwidth, is what a CI runner waits
for. The first failure sets a shared cancel flag that every worker checks between chunks (it then
raises `Cancelled`, which is not a failure of its own), so a broken pull or push stops soon and
reports the error that started it, not a pile of follow-ups.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pybuildkit.errors import PybuildkitError, RegistryError

__all__ = ["Cancelled", "run_parallel"]

T = TypeVar("T")
R = TypeVar("R")


class Cancelled(Exception):
    """Another blob failed: stop this transfer quietly."""


def run_parallel(
    work: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int,
    cancel: threading.Event,
    thread_name: str,
    failure: str,
    discard: Callable[[R], None] | None = None,
) -> list[R]:
    """`work(item)` for every item on `workers` threads; the results of those that finished.

    The first error cancels the rest and is raised once all have stopped: a project error as it
    is, anything else as RegistryError("<failure>: <error>"). On any error, and on Ctrl-C in the
    calling thread, `discard` is called on each result already made (an open ingest to abort).
    """
    results: list[R] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one(item: T) -> None:
        try:
            result = work(item)
        except Cancelled:
            return
        except BaseException as exc:
            cancel.set()
            with lock:
                errors.append(exc)
            return
        with lock:
            results.append(result)

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=thread_name) as pool:
            try:
                list(pool.map(one, items))
            except BaseException:
                # Ctrl-C (or any surprise) in this thread: let the workers stop at their next chunk.
                cancel.set()
                raise
        if errors:
            first = errors[0]
            if isinstance(first, PybuildkitError):
                raise first
            raise RegistryError(f"{failure}: {first}") from first
    except BaseException:
        if discard is not None:
            for result in results:
                discard(result)
        raise
    return results
