"""pybuildkit: a daemonless Dockerfile build engine.

The public API is re-exported lazily from `pybuildkit.api` so that `import pybuildkit` stays cheap
(the CLI's start-up time matters).
"""

from __future__ import annotations

from typing import Any

from pybuildkit.errors import PybuildkitError

__all__ = ["PybuildkitError", "__version__"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    import importlib

    try:
        api = importlib.import_module("pybuildkit.api")
    except ImportError as exc:  # pragma: no cover - only while the API module is absent
        raise AttributeError(name) from exc
    if name in getattr(api, "__all__", ()):
        return getattr(api, name)
    raise AttributeError(f"module 'pybuildkit' has no attribute {name!r}")
