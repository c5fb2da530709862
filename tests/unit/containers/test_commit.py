"""What a commit leaves out: the sandbox's empty mount-point stubs, and nothing else."""

from __future__ import annotations

import pytest

from pybuildkit.containers.commit import without_stubs
from pybuildkit.snapshot import Entry


def _e(path: str, kind: str = "file", size: int = 0) -> Entry:
    return Entry(path=path, kind=kind, size=size)


@pytest.mark.parametrize(
    "paths, kept",
    [
        ([_e("etc", "dir"), _e("etc/hostname"), _e("etc/hosts"), _e("made", size=3)], ["etc", "made"]),
        ([_e("proc", "dir"), _e("sys", "dir")], []),
        ([_e("dev", "dir"), _e("dev/null-ish", size=1)], ["dev", "dev/null-ish"]),
        ([_e("etc", "dir"), _e("etc/hosts", size=12)], ["etc", "etc/hosts"]),
        ([_e("etc", "dir"), _e("etc/.wh.hosts")], ["etc", "etc/.wh.hosts"]),
        ([_e("proc", "dir"), _e("procfile", size=1)], ["procfile"]),
    ],
)
def test_without_stubs(paths: list[Entry], kept: list[str]) -> None:
    assert [e.path for e in without_stubs(paths)] == kept
