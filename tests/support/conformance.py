"""Reading the shared conformance corpus in place, for the data-driven tests.

Collection happens before fixtures exist, so parametrized tests read their cases at import time
through `conformance_root()`; without the corpus they get no cases (and so nothing to run) rather
than an import error.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["load_cases"]


def load_cases(relpath: str) -> list[Any]:
    """The `cases` list of the corpus JSON file at `relpath` (e.g. `dockerignore/cases.json`)."""
    from tests.conftest import conformance_root

    root = conformance_root()
    if root is None:
        return []
    return json.loads((root / relpath).read_text(encoding="utf-8"))["cases"]
