"""Chain ids: the identity of a stack of layers, as the OCI image spec defines it.

ChainID(L0) = DiffID(L0); ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln)).
A snapshot is keyed by its chain id, not its diff_id, because the same diff applied on different
parents is a different file system. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from pybuildkit.errors import ImageError

__all__ = ["check_digest", "chain_id", "chain_ids"]

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def check_digest(value: str, what: str = "digest") -> str:
    """`value` itself if it is a `sha256:<64 lowercase hex>` digest, else ImageError."""
    if not isinstance(value, str) or not _DIGEST.fullmatch(value):
        raise ImageError(f"{what} {value!r} is not a sha256 digest")
    return value


def chain_id(parent: str | None, diff_id: str) -> str:
    """The chain id of `diff_id` applied on the stack whose chain id is `parent` (None: base)."""
    check_digest(diff_id, "diff_id")
    if parent is None:
        return diff_id
    check_digest(parent, "chain id")
    return "sha256:" + hashlib.sha256(f"{parent} {diff_id}".encode()).hexdigest()


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """The chain id of every prefix of `diff_ids` (bottom layer first)."""
    out: list[str] = []
    parent: str | None = None
    for diff_id in diff_ids:
        parent = chain_id(parent, diff_id)
        out.append(parent)
    return out
