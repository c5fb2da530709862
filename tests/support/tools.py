"""Host tools the integration tests drive for real (skopeo, umoci, ...): found, or the test skips.

A missing tool is a property of the machine, not a failure of the code, so the test skips with the
Debian package to install (Makefile's `debs` target installs them).
"""

from __future__ import annotations

import shutil

import pytest

__all__ = ["need"]


def need(tool: str, package: str | None = None) -> str:
    """The path of `tool`, or skip the calling test naming the Debian `package` (default: the tool's name)."""
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (Debian package {package or tool})")
    return path
