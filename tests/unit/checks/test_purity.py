"""The checks package reads no files and imports nothing above the plan layer.

Callers hand in the parsed Dockerfile, a `.dockerignore` predicate and a base-image lookup, so the
same checks run inside a build, in `pybuild check` and in tests without touching the disk. The one
outside read is `os.environ` (BUILDKIT_DOCKERFILE_CHECK) in `run.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import pybuildkit.checks
from tests.support.layering import IO_MODULES, layering_problems

CHECKS_DIR = Path(pybuildkit.checks.__file__).parent
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
    exempt = {"os"} if path.name == "run.py" else set()
    assert layering_problems(path, allowed=ALLOWED_PACKAGES, forbidden=IO_MODULES, exempt=exempt) == []
