"""run_parallel: all results, or the first error (project errors as they are) with made results discarded."""

from __future__ import annotations

import threading

import pytest

from pybuildkit.errors import ImageError, RegistryError
from pybuildkit.registry.parallel import Cancelled, run_parallel


def _run(work) -> list[int]:  # type: ignore[no-untyped-def]
    return sorted(run_parallel(work, range(8), workers=3, cancel=threading.Event(), thread_name="t", failure="moving failed"))


def test_all_results() -> None:
    assert _run(lambda n: n * 2) == [0, 2, 4, 6, 8, 10, 12, 14]


def test_cancelled_items_are_not_failures() -> None:
    def work(n: int) -> int:
        if n % 2:
            raise Cancelled()
        return n

    assert _run(work) == [0, 2, 4, 6]


@pytest.mark.parametrize(
    ("error", "raised", "message"),
    [
        (ImageError("digest mismatch"), ImageError, "^digest mismatch$"),
        (OSError("connection reset"), RegistryError, "^moving failed: connection reset$"),
    ],
)
def test_first_error_cancels_and_discards(error: Exception, raised: type[Exception], message: str) -> None:
    discarded: list[int] = []
    seen_cancel = threading.Event()

    def work(n: int) -> int:
        if n == 3:
            raise error
        return n

    with pytest.raises(raised, match=message):
        run_parallel(
            work, range(8), workers=1, cancel=seen_cancel, thread_name="t", failure="moving failed", discard=discarded.append
        )
    assert seen_cancel.is_set()
    assert discarded == [0, 1, 2, 4, 5, 6, 7]
