"""atomicfile: the target is replaced whole with the asked mode, or left untouched with no temp file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from pybuildkit.atomicfile import atomic_write, atomic_write_json, atomic_writer, fsync_dir


def _names(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o755])
def test_atomic_write_replaces_with_mode(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"old")
    atomic_write(target, b"new", mode)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert _names(tmp_path) == ["f"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, '{\n  "a": [\n    1\n  ],\n  "b": "\\u00e9"\n}\n'),
        ({"indent": 1, "trailing_newline": False}, '{\n "a": [\n  1\n ],\n "b": "\\u00e9"\n}'),
        ({"indent": "\t"}, '{\n\t"a": [\n\t\t1\n\t],\n\t"b": "\\u00e9"\n}\n'),
    ],
)
def test_atomic_write_json_format(tmp_path: Path, kwargs: dict, expected: str) -> None:  # type: ignore[type-arg]
    target = tmp_path / "v.json"
    atomic_write_json(target, {"b": "é", "a": [1]}, **kwargs)
    assert target.read_text() == expected
    assert json.loads(expected) == {"b": "é", "a": [1]}


def test_failure_in_block_keeps_old_content_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert _names(tmp_path) == ["f"]


def test_missing_parent_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "absent" / "f", b"x")
    assert _names(tmp_path) == []


def test_target_is_a_directory_leaves_no_temp(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "keep").write_bytes(b"")
    with pytest.raises(OSError):
        atomic_write(tmp_path / "d", b"x")
    assert _names(tmp_path) == ["d"]


def test_fsync_dir_accepts_str_and_rejects_files(tmp_path: Path) -> None:
    fsync_dir(str(tmp_path))
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        fsync_dir(tmp_path / "f")


def test_parents_are_made_on_request(tmp_path: Path) -> None:
    atomic_write_json(tmp_path / "a" / "b" / "v.json", [1], parents=True)
    assert json.loads((tmp_path / "a" / "b" / "v.json").read_text()) == [1]
