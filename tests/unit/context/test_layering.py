"""The context package's layering: the matcher is pure, and no module reaches above the adapters.

`dockerignore.py` must stay free of I/O (the walker and loaders feed it strings); every module
has `__all__` and imports only the errors, the pure layers, the shared `fspath` helper and its own
package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pybuildkit.context

CONTEXT_DIR = Path(pybuildkit.context.__file__).parent
PURE = {"dockerignore.py"}
IO_MODULES = {"os", "subprocess", "tarfile", "shutil", "pathlib", "io", "socket", "tempfile", "sqlite3"}
ALLOWED = ("pybuildkit.errors", "pybuildkit.fspath", "pybuildkit.syntax", "pybuildkit.model", "pybuildkit.plan", "pybuildkit.oci", "pybuildkit.context")


def _imports(tree: ast.Module) -> list[str]:
    names: list[str] = []
    for item in ast.walk(tree):
        if isinstance(item, ast.Import):
            names.extend(alias.name for alias in item.names)
        elif isinstance(item, ast.ImportFrom) and item.module:
            names.append(item.module)
    return names


@pytest.mark.parametrize("path", sorted(CONTEXT_DIR.glob("*.py")), ids=lambda p: p.name)
def test_module_layering(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    for name in _imports(tree):
        if name.startswith("pybuildkit"):
            assert name.startswith(ALLOWED), f"{path.name} imports {name}"
        if path.name in PURE:
            assert name.split(".")[0] not in IO_MODULES, f"{path.name} imports {name}"
    if path.name in PURE:
        calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert "open" not in calls
    targets = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    assert "__all__" in targets, f"{path.name} has no __all__"
