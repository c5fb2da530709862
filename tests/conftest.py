"""Shared fixtures: where the conformance corpus lives, and the repository root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def conformance_root() -> Path | None:
    """`$PYBUILDKIT_CONFORMANCE`, else `../shared/conformance` beside the repository, else None."""
    env = os.environ.get("PYBUILDKIT_CONFORMANCE")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "conformance")
    for path in candidates:
        if path.is_dir():
            return path
    return None


@pytest.fixture(scope="session")
def conformance() -> Path:
    root = conformance_root()
    if root is None:
        pytest.skip("conformance corpus not found: set $PYBUILDKIT_CONFORMANCE or place ../shared/conformance")
    return root


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO
