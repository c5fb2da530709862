"""pybuildkit: a daemonless Dockerfile build engine.

The public API is re-exported lazily from `pybuildkit.api` so that `import pybuildkit` stays cheap
(the CLI's start-up time matters).
"""

from __future__ import annotations

from typing import Any

from pybuildkit.errors import PybuildkitError

#: The public API, served lazily from `pybuildkit.api` (kept equal to its `__all__` by a test).
_API = (
    "BuildOptions",
    "BuildReport",
    "BuildResult",
    "Event",
    "Output",
    "Store",
    "build",
    "open_store",
    "parse",
    "parse_output",
)
__all__ = ["PybuildkitError", "__version__", *_API]
__version__ = "0.1.0"


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def __getattr__(name: str) -> Any:
    import importlib

    try:
        api = importlib.import_module("pybuildkit.api")
    except ImportError as exc:  # pragma: no cover - only while the API module is absent
        raise AttributeError(name) from exc
    if name in getattr(api, "__all__", ()):
        return getattr(api, name)
    raise AttributeError(f"module 'pybuildkit' has no attribute {name!r}")
