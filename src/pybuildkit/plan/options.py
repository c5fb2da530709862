"""What the caller tells the planner: build options and the base-image resolver seam.

The resolver is injected so that planning stays pure: the executor implements it against the image
store or a registry, unit tests pass a dictionary-backed fake.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import attrs

from pybuildkit.errors import UsageError
from pybuildkit.oci.config import Image
from pybuildkit.oci.descriptor import Platform
from pybuildkit.oci.frozenmap import FrozenMap, freeze_map

__all__ = ["DEFAULT_PLATFORM", "PlanOptions", "BaseResolver", "parse_platform", "format_platform"]

_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm", "armel": "arm", "i686": "386", "i386": "386"}


def parse_platform(text: str) -> Platform:
    """`os/arch[/variant]` (or just `arch`) to a Platform, normalising common arch aliases.

    A bad value is the caller's mistake on the command line or in `FROM --platform`, so the error
    type is chosen by the caller; here it is a ValueError with the reason.
    """
    parts = text.strip().lower().split("/")
    if not text.strip() or len(parts) > 3 or any(not p for p in parts):
        raise ValueError(f"invalid platform {text!r}: expected os/arch[/variant]")
    if len(parts) == 1:
        os_, arch, variant = "linux", parts[0], None
    else:
        os_, arch = parts[0], parts[1]
        variant = parts[2] if len(parts) == 3 else None
    arch = _ARCH_ALIASES.get(arch, arch)
    if arch == "arm64" and variant == "v8":
        variant = None
    if arch == "arm" and variant is None:
        variant = "v7"
    return Platform(architecture=arch, os=os_, variant=variant)


def format_platform(platform: Platform) -> str:
    return str(platform)


def _to_platform(value: Platform | str) -> Platform:
    if isinstance(value, Platform):
        return value
    try:
        return parse_platform(value)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


DEFAULT_PLATFORM = Platform(architecture="amd64", os="linux")


@attrs.frozen
class PlanOptions:
    """`--build-arg`, `--target` (case-insensitive stage name), `--platform` and `--label`.

    `build_platform` is the platform of the machine running RUN steps (BUILDPLATFORM). It is the
    host's, not the target's: `FROM --platform=$BUILDPLATFORM` builder stages run natively while the
    target is cross-built. Planning does no I/O, so the caller passes the host platform; the
    default is linux/amd64.
    """

    build_args: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=freeze_map)
    target: str | None = None
    platform: Platform = attrs.field(default=DEFAULT_PLATFORM, converter=_to_platform)
    labels: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=freeze_map)
    build_platform: Platform = attrs.field(default=DEFAULT_PLATFORM, converter=_to_platform)


@runtime_checkable
class BaseResolver(Protocol):
    """Gives the planner a base image's config blob without the planner doing any I/O.

    `ref` is the FROM (or `--from`) value after ARG expansion, exactly as written: a registry
    name, a store tag or an `oci-layout://` reference. Return None when the image has no config to
    inherit (treated like scratch). Raise a PybuildkitError when the image cannot be found; the
    planner attaches the FROM line to it.
    """

    def config_of(self, ref: str, platform: Platform) -> Image | None: ...
