"""The layering rule of DESIGN.md as one check the per-package purity tests share.

A module may import only its own layer or lower (`allowed` prefixes for pybuildkit modules), the
pure layers may not import I/O modules (`forbidden` top-level names, with per-module exemptions
by exact import name) nor call `open()`, and every module declares `__all__`.
"""

from __future__ import annotations

import ast
from collections.abc import Collection
from pathlib import Path

__all__ = ["IO_MODULES", "imported_names", "layering_problems"]

IO_MODULES = frozenset({"os", "subprocess", "tarfile", "shutil", "pathlib", "io", "socket", "tempfile", "sqlite3"})


def imported_names(tree: ast.AST) -> list[str]:
    """Every module named by an import anywhere in `tree` (`from . import x` has none)."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def layering_problems(
    path: Path,
    *,
    allowed: tuple[str, ...],
    forbidden: Collection[str] = (),
    exempt: Collection[str] = (),
    forbid_open: bool = True,
) -> list[str]:
    """What `path` does against the rule, one line each; [] when it keeps it."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    problems: list[str] = []
    for name in imported_names(tree):
        if name.split(".")[0] in forbidden and name not in exempt:
            problems.append(f"{path.name} imports {name}")
        if name.startswith("pybuildkit") and not name.startswith(allowed):
            problems.append(f"{path.name} imports {name}")
    if forbid_open:
        calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        if "open" in calls:
            problems.append(f"{path.name} calls open()")
    assigned = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    if "__all__" not in assigned:
        problems.append(f"{path.name} has no __all__")
    return problems
