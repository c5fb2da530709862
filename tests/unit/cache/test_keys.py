"""Cache keys are an API: golden digests pin the scheme, and every miss names what differed."""

from __future__ import annotations

import pytest

from pybuildkit.cache.keys import CACHE_KEY_VERSION, KeyInputs, cache_key, explain_miss

BASE = KeyInputs(
    kind="exec",
    fields={"argv": ["/bin/sh", "-c", "make"], "env": ["PATH=/bin", "MODE=fast"], "user": "", "workdir": "/src"},
    parent="sha256:" + "0" * 64,
)


def test_golden_digest_pins_the_scheme():
    # Changing this digest means every user's cache misses once: bump CACHE_KEY_VERSION with it.
    assert CACHE_KEY_VERSION == 1
    assert cache_key(BASE) == GOLDEN


GOLDEN = "sha256:8b17a7064b682658c1d8c62f970af6d7fd1d616e8eec6f750cba76c07e4f70f6"


def test_field_order_does_not_matter():
    reordered = KeyInputs(
        kind="exec",
        fields={"workdir": "/src", "user": "", "env": ["PATH=/bin", "MODE=fast"], "argv": ["/bin/sh", "-c", "make"]},
        parent="sha256:" + "0" * 64,
    )
    assert cache_key(reordered) == GOLDEN


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"fields": {**BASE.fields, "argv": ["/bin/sh", "-c", "make all"]}}, "the instruction changed (argv)"),
        ({"fields": {**BASE.fields, "env": ["PATH=/bin", "MODE=slow"]}}, "the value of MODE changed"),
        ({"parent": "sha256:" + "1" * 64}, "the parent step changed"),
        ({"content": {"COPY src/": "sha256:" + "2" * 64}}, "files changed under COPY src/"),
        ({"inputs": {"builder": "sha256:" + "3" * 64}}, "input builder changed"),
        ({"kind": "file"}, "the instruction changed (was exec, now file)"),
        ({}, "the cache entry was not found (pruned, or never stored)"),
    ],
)
def test_explain_miss_names_the_first_difference(change, reason):
    import attrs

    current = attrs.evolve(BASE, **change)
    assert explain_miss(BASE, current) == reason


def test_explain_without_history():
    assert explain_miss(None, BASE) == "no earlier build of this step"


def test_round_trip():
    assert KeyInputs.from_json(BASE.to_json()) == BASE
