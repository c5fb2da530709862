"""Base images for FROM and `--from`: the store first, then an `oci-layout://` directory.

The planner asks through `StoreResolver` (its BaseResolver seam) for a base's config; the executor
asks `resolve_stored_image` for the same image's layers. Both go through one function, so the
config the planner evolved and the layers the executor stacks always belong to the same image.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from pybuildkit.errors import PybuildkitError, StoreError
from pybuildkit.oci.config import Image
from pybuildkit.oci.descriptor import Platform
from pybuildkit.store import StoredImage, Store

if TYPE_CHECKING:  # pragma: no cover
    from pybuildkit.checks import BaseImage

__all__ = ["StoreResolver", "resolve_stored_image", "base_image_lookup"]

OCI_LAYOUT = "oci-layout://"


def resolve_stored_image(store: Store, ref: str, platform: str | Platform | None = None) -> StoredImage:
    """The image `ref` names: a tag or digest in the store, or an OCI layout imported on first use."""
    if ref.startswith(OCI_LAYOUT):
        from pybuildkit.exporters import import_oci_source
        from pybuildkit.plan import parse_platform

        wanted = parse_platform(platform) if isinstance(platform, str) else platform
        return import_oci_source(store, ref, platform=wanted)
    try:
        return store.image(ref)
    except StoreError:
        pass
    try:
        from pybuildkit.registry import pull  # type: ignore[attr-defined]
    except ImportError:
        pull = None
    if pull is None:
        raise StoreError(
            f"image {ref!r} is not in the store",
            hint="build or load it first (pybuild load -i FILE), or use oci-layout://DIR:TAG",
        )
    return pull(store, ref, platform=platform)


@attrs.define
class StoreResolver:
    """The planner's BaseResolver over a store: remembers what it resolved for the executor."""

    store: Store
    resolved: dict[str, StoredImage] = attrs.field(factory=dict)

    def config_of(self, ref: str, platform: Platform) -> Image | None:
        if ref == "scratch":
            return None
        try:
            stored = resolve_stored_image(self.store, ref, platform)
        except PybuildkitError:
            raise
        self.resolved[ref] = stored
        return stored.config


def base_image_lookup(store: Store) -> Callable[[str], BaseImage | None]:
    """What the checks may know of a base image (env, SHELL, platform), read from the store only:
    a check never pulls. Unknown images give None."""
    from pybuildkit.checks import BaseImage

    def lookup(ref: str) -> BaseImage | None:
        try:
            image = store.image(ref).config
        except PybuildkitError:
            return None
        return BaseImage(env=image.config.env, shell=image.config.shell, platform=f"{image.os}/{image.architecture}")

    return lookup
