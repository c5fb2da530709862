"""The model layer does no I/O and imports nothing above it (DESIGN.md layering rule)."""

from __future__ import annotations

from pathlib import Path

import pytest

import pybuildkit.model
from tests.support.layering import IO_MODULES, layering_problems

MODEL_DIR = Path(pybuildkit.model.__file__).parent
ALLOWED_PACKAGES = ("pybuildkit.errors", "pybuildkit.syntax", "pybuildkit.model")


@pytest.mark.parametrize("path", sorted(MODEL_DIR.glob("*.py")), ids=lambda p: p.name)
def test_module_is_pure(path: Path) -> None:
    assert layering_problems(path, allowed=ALLOWED_PACKAGES, forbidden=IO_MODULES) == []
