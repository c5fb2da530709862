"""Layers and snapshots: deterministic layer tars, safe unpacking, snapshot dirs, overlay diffs.

Everything here takes paths and file objects and returns small attrs values (digests as
"sha256:<hex>" strings), so the store and OCI packages can be built without depending on it.
"""

from pybuildkit.snapshot.chain import chain_id, chain_ids
from pybuildkit.snapshot.copydiff import Baseline, baseline_of, diff_entries, flatten, materialize
from pybuildkit.snapshot.entries import Entry, walk_overlay_upper, walk_tree
from pybuildkit.snapshot.layer import (
    COMPRESSIONS,
    MEDIA_TYPES,
    LayerInfo,
    write_diff_layer,
    write_entries,
    write_layer_file,
    write_tree_layer,
)
from pybuildkit.snapshot.manager import ActiveSnapshot, Snapshot, Snapshots
from pybuildkit.snapshot.overlay import OverlayMount, mount_overlay, overlay_supported, unmount
from pybuildkit.snapshot.unpack import ApplyResult, UnpackLimits, apply_layer, detect_compression

__all__ = [
    "COMPRESSIONS",
    "MEDIA_TYPES",
    "ActiveSnapshot",
    "ApplyResult",
    "Baseline",
    "Entry",
    "LayerInfo",
    "OverlayMount",
    "Snapshot",
    "Snapshots",
    "UnpackLimits",
    "apply_layer",
    "baseline_of",
    "chain_id",
    "chain_ids",
    "detect_compression",
    "diff_entries",
    "flatten",
    "materialize",
    "mount_overlay",
    "overlay_supported",
    "unmount",
    "walk_overlay_upper",
    "walk_tree",
    "write_diff_layer",
    "write_entries",
    "write_layer_file",
    "write_tree_layer",
]
