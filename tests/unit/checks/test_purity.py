"""The checks package reads no files and imports nothing above the plan layer.

Callers hand in the parsed Dockerfile, a `.dockerignore` predicate and a base-image lookup, so the
same checks run inside a build, in `pybuild check` and in tests without touching the disk. The one
outside read is `os.environ` (BUILDKIT_DOCKERFILE_CHECK) in `run.py`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pybuildkit.checks

CHECKS_DIR = Path(pybuildkit.checks.__file__).parent
FORBIDDEN_MODULES = {"subprocess", "tarfile", "shutil", "pathlib", "io", "socket", "tempfile", "sqlite3"}
ALLOWED_PACKAGES = (
    "pybuildkit.errors",
    "pybuildkit.syntax",
    "pybuildkit.model",
    "pybuildkit.plan",
    "pybuildkit.oci",
    "pybuildkit.checks",
)


@pytest.mark.parametrize("path", sorted(CHECKS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_module_is_pure(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    for item in ast.walk(tree):
        names: list[str] = []
        if isinstance(item, ast.Import):
            names = [alias.name for alias in item.names]
        elif isinstance(item, ast.ImportFrom) and item.module:
            names = [item.module]
        for name in names:
            top = name.split(".")[0]
            assert top not in FORBIDDEN_MODULES, f"{path.name} imports {name}"
            assert top != "os" or path.name == "run.py", f"{path.name} imports os"
            if name.startswith("pybuildkit"):
                assert name.startswith(ALLOWED_PACKAGES), f"{path.name} imports {name}"
        if isinstance(item, ast.Call) and isinstance(item.func, ast.Name):
            assert item.func.id != "open", f"{path.name} calls open()"
    assigned = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    assert "__all__" in assigned
