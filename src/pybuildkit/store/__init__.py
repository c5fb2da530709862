"""pybuildkit.store: the local image store (content-addressed blobs, SQLite records, GC, check).

Names are loaded on first use, so `pybuildkit.store.paths` (where the store lives) costs nothing
to import: the CLI's no-change fast path needs the root before it may import the store itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from pybuildkit.store.blobs import Ingest
    from pybuildkit.store.compression import open_uncompressed
    from pybuildkit.store.db import SCHEMA_VERSION
    from pybuildkit.store.paths import default_root
    from pybuildkit.store.records import (
        CacheEntry,
        CacheRecord,
        CheckReport,
        GCReport,
        ImageSummary,
        RemoveResult,
        StoredImage,
    )
    from pybuildkit.store.store import Store, normalise_tag

_WHERE = {
    "Store": "store",
    "normalise_tag": "store",
    "Ingest": "blobs",
    "default_root": "paths",
    "open_uncompressed": "compression",
    "SCHEMA_VERSION": "db",
    "CacheRecord": "records",
    "CacheEntry": "records",
    "CheckReport": "records",
    "GCReport": "records",
    "ImageSummary": "records",
    "RemoveResult": "records",
    "StoredImage": "records",
}

__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'pybuildkit.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"pybuildkit.store.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
