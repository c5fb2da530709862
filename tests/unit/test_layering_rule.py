"""The shared layering check itself finds what it must (the per-package purity tests rely on it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.layering import IO_MODULES, layering_problems

CASES = [
    ('__all__ = []\nimport json\n', []),
    ('__all__ = []\nimport os.path\n', ["m.py imports os.path"]),
    ('__all__ = []\nfrom pybuildkit.store import Store\n', ["m.py imports pybuildkit.store"]),
    ('__all__ = []\ndef f():\n    return open("x")\n', ["m.py calls open()"]),
    ('import json\n', ["m.py has no __all__"]),
    ('__all__ = []\nfrom pybuildkit.plan import x\nfrom . import y\n', []),
]


@pytest.mark.parametrize(("source", "problems"), CASES)
def test_layering_problems(tmp_path: Path, source: str, problems: list[str]) -> None:
    (tmp_path / "m.py").write_text(source)
    assert layering_problems(tmp_path / "m.py", allowed=("pybuildkit.plan",), forbidden=IO_MODULES) == problems


def test_exemption_is_by_exact_name(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("__all__ = []\nimport os\nimport os.path\n")
    assert layering_problems(tmp_path / "m.py", allowed=(), forbidden=IO_MODULES, exempt={"os"}) == ["m.py imports os.path"]
