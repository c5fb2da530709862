"""The executor-facing façade: one root, one ignore file, every COPY through it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybuildkit.context import BuildContext, Checksummer
from pybuildkit.errors import ContextError


def _context(root: Path) -> None:
    (root / "app").mkdir()
    (root / "app" / "main.py").write_text("print(1)\n")
    (root / "app" / "cache.pyc").write_text("junk")
    (root / "Dockerfile").write_text("FROM scratch\nCOPY app /app\n")
    (root / ".dockerignore").write_text("**/*.pyc\n")


def test_open_select_digest(tmp_path: Path) -> None:
    _context(tmp_path)
    ctx = BuildContext.open(tmp_path, tmp_path / "Dockerfile")
    [selected] = ctx.select(["app"])
    assert [e.path for e in selected.entries] == ["", "main.py"]
    assert [e.path for e in ctx.walk()] == [".dockerignore", "Dockerfile", "app", "app/main.py"]
    before = ctx.digest(["app"], Checksummer())
    (tmp_path / "app" / "cache.pyc").write_text("other junk")
    assert ctx.digest(["app"], Checksummer()) == before
    assert ctx.digest(["app"], Checksummer(), exclude=["main.py"]) != before


def test_open_rejects_bad_ignore_file(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("!\n")
    with pytest.raises(ContextError, match="illegal exclusion"):
        BuildContext.open(tmp_path)
