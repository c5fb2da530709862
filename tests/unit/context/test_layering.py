"""The context package's layering: the matcher is pure, and no module reaches above the adapters.

`dockerignore.py` must stay free of I/O (the walker and loaders feed it strings); every module
has `__all__` and imports only the errors, the pure layers, the shared `fspath` helper and its own
package.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import pybuildkit.context
from tests.support.layering import IO_MODULES, layering_problems

CONTEXT_DIR = Path(pybuildkit.context.__file__).parent
PURE = {"dockerignore.py"}
ALLOWED = ("pybuildkit.errors", "pybuildkit.fspath", "pybuildkit.syntax", "pybuildkit.model", "pybuildkit.plan", "pybuildkit.oci", "pybuildkit.context")


@pytest.mark.parametrize("path", sorted(CONTEXT_DIR.glob("*.py")), ids=lambda p: p.name)
def test_module_layering(path: Path) -> None:
    pure = path.name in PURE
    problems = layering_problems(path, allowed=ALLOWED, forbidden=IO_MODULES if pure else (), forbid_open=pure)
    assert problems == []
