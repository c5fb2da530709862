"""The syntax layer does no I/O and imports nothing above it (DESIGN.md layering rule).

The one exception is `grammar.py`, which reads the grammar file through `importlib.resources` and
keeps Lark's compiled-grammar cache in a private per-user directory (`os`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import pybuildkit.syntax
from tests.support.layering import IO_MODULES, layering_problems

SYNTAX_DIR = Path(pybuildkit.syntax.__file__).parent
ALLOWED_PACKAGES = ("pybuildkit.errors", "pybuildkit.syntax")
ALLOWED_EXTRA = {"grammar.py": {"importlib.resources", "importlib", "os"}}


@pytest.mark.parametrize("path", sorted(SYNTAX_DIR.glob("*.py")), ids=lambda p: p.name)
def test_module_is_pure(path: Path) -> None:
    forbidden = IO_MODULES | {"importlib"}
    assert layering_problems(path, allowed=ALLOWED_PACKAGES, forbidden=forbidden, exempt=ALLOWED_EXTRA.get(path.name, set())) == []
