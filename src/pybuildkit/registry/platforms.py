"""Choosing one image from an index: the platform a pull asks for, linux/amd64 by default.

Matching is the containerd default matcher in small: os and architecture must be equal, the variant
must be equal when the request names one (arm64's `v8` counts as none, arm's default is `v7`).
Entries without a platform, or `unknown/unknown` ones (BuildKit's attestation manifests), are
never chosen.
"""

from __future__ import annotations

from pybuildkit.errors import RegistryError
from pybuildkit.oci.descriptor import Descriptor, Platform
from pybuildkit.oci.manifest import Index
from pybuildkit.oci import mediatypes as mt

__all__ = ["DEFAULT_PLATFORM", "as_platform", "platform_matches", "select_manifest"]

DEFAULT_PLATFORM = Platform(architecture="amd64", os="linux")
_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm", "armel": "arm"}


def as_platform(value: str | Platform | None) -> Platform:
    """`linux/amd64`, `linux/arm64/v8`, `arm64` (linux assumed), a Platform, or None (the default)."""
    if value is None:
        return DEFAULT_PLATFORM
    if isinstance(value, Platform):
        return value
    parts = value.strip().lower().split("/")
    if not value.strip() or len(parts) > 3 or any(not p for p in parts):
        raise RegistryError(f"invalid platform {value!r}: expected os/arch[/variant]")
    if len(parts) == 1:
        parts = ["linux", *parts]
    return Platform(os=parts[0], architecture=parts[1], variant=parts[2] if len(parts) == 3 else None)


def _norm(platform: Platform) -> tuple[str, str, str | None]:
    arch = _ARCH_ALIASES.get(platform.architecture.lower(), platform.architecture.lower())
    variant = (platform.variant or "").lower() or None
    if arch == "arm64" and variant == "v8":
        variant = None
    if arch == "arm" and variant is None:
        variant = "v7"
    return platform.os.lower(), arch, variant


def platform_matches(candidate: Platform, wanted: Platform) -> bool:
    """Equal os and architecture; equal variant too when `wanted` names one (or is 32-bit arm)."""
    c_os, c_arch, c_variant = _norm(candidate)
    w_os, w_arch, w_variant = _norm(wanted)
    if (c_os, c_arch) != (w_os, w_arch):
        return False
    if w_variant is None:
        return True
    return c_variant == w_variant


def select_manifest(index: Index, wanted: str | Platform | None = None) -> Descriptor:
    """The manifest descriptor for `wanted`; a RegistryError listing what exists if none fits."""
    target = as_platform(wanted)
    candidates = [d for d in index.manifests if d.platform is not None and d.media_type not in mt.INDEX_TYPES]
    for desc in candidates:
        assert desc.platform is not None
        if platform_matches(desc.platform, target):
            return desc
    offered = sorted({str(d.platform) for d in index.manifests if d.platform and d.platform.os != "unknown"})
    raise RegistryError(
        f"no image for platform {target} in the index: it offers {', '.join(offered) or 'no platforms'}",
        hint="choose one with --platform",
    )
