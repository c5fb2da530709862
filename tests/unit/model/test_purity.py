"""The model layer does no I/O and imports nothing above it (DESIGN.md layering rule)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pybuildkit.model

MODEL_DIR = Path(pybuildkit.model.__file__).parent
FORBIDDEN_MODULES = {"os", "subprocess", "tarfile", "shutil", "pathlib", "io", "socket", "tempfile"}
ALLOWED_PACKAGES = ("pybuildkit.errors", "pybuildkit.syntax", "pybuildkit.model")


@pytest.mark.parametrize("path", sorted(MODEL_DIR.glob("*.py")), ids=lambda p: p.name)
def test_module_is_pure(path):
    tree = ast.parse(path.read_text(), str(path))
    for item in ast.walk(tree):
        names: list[str] = []
        if isinstance(item, ast.Import):
            names = [alias.name for alias in item.names]
        elif isinstance(item, ast.ImportFrom) and item.module:
            names = [item.module]
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN_MODULES, f"{path.name} imports {name}"
            if name.startswith("pybuildkit"):
                assert name.startswith(ALLOWED_PACKAGES), f"{path.name} imports {name}"
        if isinstance(item, ast.Call) and isinstance(item.func, ast.Name):
            assert item.func.id != "open", f"{path.name} calls open()"
    assert "__all__" in {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
