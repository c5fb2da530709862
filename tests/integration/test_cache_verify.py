"""`--verify-cache` re-runs the steps the cache answers and names those whose layer differs."""

from __future__ import annotations

import pytest

from pybuildkit.execute import events as ev
from tests.support.build import Builder, builder, requires_root  # noqa: F401 - fixture

pytestmark = [pytest.mark.integration, requires_root]

DOCKERFILE = """\
FROM busybox
RUN echo stable > /stable.txt
RUN cat /proc/sys/kernel/random/uuid > /random.txt
"""


def test_verify_cache_reruns_cached_steps_and_names_the_nondeterministic_one(builder: Builder) -> None:
    first = builder.build(DOCKERFILE, source_date_epoch=1700000000)
    assert len(first.ran) == 2
    verified = builder.build(DOCKERFILE, source_date_epoch=1700000000, verify_cache=True)
    assert verified.ran == ["RUN echo stable > /stable.txt", "RUN cat /proc/sys/kernel/random/uuid > /random.txt"]
    (mismatch,) = verified.result.cache_mismatches
    assert "RUN cat /proc/sys/kernel/random/uuid" in mismatch
    assert any(isinstance(e, ev.Warning) and e.message == mismatch for e in verified.events)
    # The cached layers are kept: the image is the one the cache gives.
    assert verified.result.digest == first.result.digest


def test_without_verify_nothing_reruns(builder: Builder) -> None:
    builder.build(DOCKERFILE, source_date_epoch=1700000000)
    again = builder.build(DOCKERFILE, source_date_epoch=1700000000)
    assert again.ran == []
    assert again.result.cache_mismatches == ()
