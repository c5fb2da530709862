"""Content digests as the OCI spec writes them: `algorithm:hex` strings.

Digests stay plain `str` so they compare, sort and serialise with no ceremony; these helpers are
the one place that knows their grammar, so a malformed digest from an archive or a user is caught
before it becomes a file name.
"""

from __future__ import annotations

import hashlib
import re

from pybuildkit.errors import ImageError

__all__ = [
    "SHA256",
    "DIGEST_RE",
    "sha256_digest",
    "is_digest",
    "validate_digest",
    "digest_hex",
    "short_id",
    "is_hex_prefix",
]

SHA256 = "sha256"
# OCI image-spec's digest grammar, with sha256 and sha512 held to their exact lengths.
DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_HEX_LENGTHS = {"sha256": 64, "sha512": 128}
_LOWER_HEX = re.compile(r"^[0-9a-f]+$")


def sha256_digest(data: bytes) -> str:
    """The `sha256:<hex>` digest of `data`."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def is_digest(text: str) -> bool:
    """True if `text` is a well-formed digest (known algorithms checked for length and hex)."""
    if not isinstance(text, str) or not DIGEST_RE.match(text):
        return False
    algorithm, _, encoded = text.partition(":")
    length = _HEX_LENGTHS.get(algorithm)
    if length is None:
        return True
    return len(encoded) == length and bool(_LOWER_HEX.match(encoded))


def validate_digest(text: str, *, what: str = "digest") -> str:
    """Return `text` if it is a well-formed digest, else raise :class:`ImageError`."""
    if not is_digest(text):
        raise ImageError(f"invalid {what}: {text!r}", hint="expected 'sha256:' followed by 64 lowercase hex digits")
    return text


def digest_hex(digest: str) -> str:
    """The encoded part of a sha256 digest; only sha256 names a blob file in a store or layout."""
    validate_digest(digest)
    algorithm, _, encoded = digest.partition(":")
    if algorithm != SHA256:
        raise ImageError(f"unsupported digest algorithm {algorithm!r} in {digest!r}", hint="only sha256 is supported")
    return encoded


def short_id(digest: str, length: int = 12) -> str:
    """The first `length` hex digits, as `docker images` shows an image id."""
    return digest.partition(":")[2][:length] if ":" in digest else digest[:length]


def is_hex_prefix(text: str) -> bool:
    """True if `text` (optionally after `sha256:`) is lowercase hex of 1-64 digits."""
    if text.startswith("sha256:"):
        text = text[len("sha256:") :]
    return 0 < len(text) <= 64 and bool(_LOWER_HEX.match(text))
