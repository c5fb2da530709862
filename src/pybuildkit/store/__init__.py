"""pybuildkit.store: the local image store (content-addressed blobs, SQLite records, GC, check)."""

from __future__ import annotations

from pybuildkit.store.blobs import Ingest
from pybuildkit.store.compression import open_uncompressed
from pybuildkit.store.db import SCHEMA_VERSION
from pybuildkit.store.paths import default_root
from pybuildkit.store.records import CacheEntry, CacheRecord, CheckReport, GCReport, ImageSummary, RemoveResult, StoredImage
from pybuildkit.store.store import Store, normalise_tag

__all__ = [
    "Store",
    "Ingest",
    "default_root",
    "normalise_tag",
    "open_uncompressed",
    "SCHEMA_VERSION",
    "CacheRecord",
    "CacheEntry",
    "CheckReport",
    "GCReport",
    "ImageSummary",
    "RemoveResult",
    "StoredImage",
]
