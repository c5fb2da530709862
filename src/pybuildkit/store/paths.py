"""Where the store lives on disk, and the names inside it.

One function decides the default root so the CLI, the API and tests agree: `$PYBUILDKIT_ROOT`, else
`$XDG_DATA_HOME/pybuildkit`, else `~/.local/share/pybuildkit`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["default_root", "BLOBS_DIR", "INGEST_DIR", "DB_FILE", "LOCK_FILE"]

BLOBS_DIR = "blobs"
INGEST_DIR = "ingest"
DB_FILE = "store.db"
LOCK_FILE = "lock"


def default_root() -> Path:
    """The store root this process should use when none is given."""
    explicit = os.environ.get("PYBUILDKIT_ROOT")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg:
        return Path(xdg) / "pybuildkit"
    return Path.home() / ".local" / "share" / "pybuildkit"
