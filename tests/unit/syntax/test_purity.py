"""The syntax layer does no I/O and imports nothing above it (DESIGN.md layering rule).

The one exception is `grammar.py`, which reads the grammar file through `importlib.resources` and
keeps Lark's compiled-grammar cache in a private per-user directory (`os`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pybuildkit.syntax

SYNTAX_DIR = Path(pybuildkit.syntax.__file__).parent
FORBIDDEN_MODULES = {"os", "subprocess", "tarfile", "shutil", "pathlib", "io", "socket", "tempfile"}
ALLOWED_PACKAGES = ("pybuildkit.errors", "pybuildkit.syntax")
ALLOWED_EXTRA = {"grammar.py": {"importlib.resources", "importlib", "os"}}


@pytest.mark.parametrize("path", sorted(SYNTAX_DIR.glob("*.py")), ids=lambda p: p.name)
def test_module_is_pure(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    extra = ALLOWED_EXTRA.get(path.name, set())
    for item in ast.walk(tree):
        names: list[str] = []
        if isinstance(item, ast.Import):
            names = [alias.name for alias in item.names]
        elif isinstance(item, ast.ImportFrom) and item.module:
            names = [item.module]
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN_MODULES - extra, f"{path.name} imports {name}"
            if name.startswith("importlib"):
                assert name in extra, f"{path.name} imports {name}"
            if name.startswith("pybuildkit"):
                assert name.startswith(ALLOWED_PACKAGES), f"{path.name} imports {name}"
        if isinstance(item, ast.Call) and isinstance(item.func, ast.Name):
            assert item.func.id != "open", f"{path.name} calls open()"
    exported = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    assert "__all__" in exported, f"{path.name} has no __all__"
