"""Choosing and reading the ignore file of a build."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybuildkit.context.ignorefile import find_ignore_file, load_ignore, read_ignore_patterns
from pybuildkit.errors import ContextError


@pytest.mark.parametrize(
    ("files", "dockerfile", "chosen"),
    [
        ({}, "Dockerfile", None),
        ({".dockerignore": "a"}, "Dockerfile", ".dockerignore"),
        ({".dockerignore": "a", "Dockerfile.dockerignore": "b"}, "Dockerfile", "Dockerfile.dockerignore"),
        ({".dockerignore": "a", "build/app.Dockerfile.dockerignore": "b"}, "build/app.Dockerfile", "build/app.Dockerfile.dockerignore"),
        ({".dockerignore": "a", "Dockerfile.dockerignore": "b"}, None, ".dockerignore"),
    ],
)
def test_find_ignore_file(tmp_path: Path, files: dict[str, str], dockerfile: str | None, chosen: str | None) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = find_ignore_file(tmp_path, tmp_path / dockerfile if dockerfile else None)
    assert found == (tmp_path / chosen if chosen else None)


def test_per_dockerfile_file_replaces_the_shared_one(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("a\n")
    (tmp_path / "Dockerfile.dockerignore").write_text("b\n")
    matcher = load_ignore(tmp_path, tmp_path / "Dockerfile")
    assert (matcher.matches_or_parent("a"), matcher.matches_or_parent("b")) == (False, True)


def test_no_ignore_file_keeps_everything(tmp_path: Path) -> None:
    matcher = load_ignore(tmp_path)
    assert not matcher
    assert matcher.matches_or_parent("anything") is False


@pytest.mark.parametrize("text", ["!\n", "ok\n[\n"])
def test_invalid_ignore_file_names_the_file(tmp_path: Path, text: str) -> None:
    (tmp_path / ".dockerignore").write_text(text)
    with pytest.raises(ContextError) as info:
        load_ignore(tmp_path)
    assert ".dockerignore" in info.value.message


def test_unreadable_ignore_file(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").mkdir()
    assert find_ignore_file(tmp_path) is None
    with pytest.raises(ContextError, match="cannot read"):
        read_ignore_patterns(tmp_path / ".dockerignore")
