"""Picking a manifest from an index: linux/amd64 by default, variants, attestations skipped."""

from __future__ import annotations

import pytest

pytest.importorskip("httpx", reason="httpx is not installed: add it to pyproject dependencies (pybuildkit.registry needs it)")

from pybuildkit.errors import RegistryError
from pybuildkit.oci import mediatypes as mt
from pybuildkit.oci.descriptor import Descriptor, Platform
from pybuildkit.oci.manifest import Index
from pybuildkit.registry.platforms import as_platform, select_manifest


def _desc(n: int, platform: str | None, media_type: str = mt.OCI_MANIFEST) -> Descriptor:
    plat = None
    if platform:
        parts = platform.split("/")
        plat = Platform(os=parts[0], architecture=parts[1], variant=parts[2] if len(parts) > 2 else None)
    return Descriptor(media_type=media_type, digest="sha256:" + f"{n:x}" * 64, size=100 + n, platform=plat)


INDEX = Index(
    manifests=(
        _desc(1, "unknown/unknown"),
        _desc(2, "linux/arm/v6"),
        _desc(3, "linux/arm/v7"),
        _desc(4, "linux/arm64/v8"),
        _desc(5, "linux/amd64"),
        _desc(6, "windows/amd64"),
        _desc(7, "linux/s390x", mt.DOCKER_MANIFEST),
        _desc(8, None),
    )
)


@pytest.mark.parametrize(
    ("wanted", "index"),
    [
        (None, 5),
        ("linux/amd64", 5),
        ("amd64", 5),
        ("x86_64", 5),
        ("linux/arm64", 4),
        ("linux/arm64/v8", 4),
        ("aarch64", 4),
        ("linux/arm", 3),
        ("linux/arm/v7", 3),
        ("linux/arm/v6", 2),
        ("windows/amd64", 6),
        ("linux/s390x", 7),
        (Platform(architecture="amd64", os="linux"), 5),
    ],
)
def test_select(wanted: str | Platform | None, index: int) -> None:
    assert select_manifest(INDEX, wanted) == INDEX.manifests[index - 1]


def test_amd64_first_even_when_listed_last() -> None:
    index = Index(manifests=(_desc(4, "linux/arm64"), _desc(1, "unknown/unknown"), _desc(5, "linux/amd64")))
    assert select_manifest(index).digest == _desc(5, "linux/amd64").digest


@pytest.mark.parametrize("wanted", ["linux/riscv64", "linux/arm/v5", "darwin/amd64"])
def test_no_match_lists_what_exists(wanted: str) -> None:
    with pytest.raises(RegistryError) as info:
        select_manifest(INDEX, wanted)
    assert "linux/amd64" in info.value.message and "unknown" not in info.value.message


@pytest.mark.parametrize("text", ["", "a/b/c/d", "linux//amd64", "/"])
def test_bad_platform(text: str) -> None:
    with pytest.raises(RegistryError, match="invalid platform"):
        as_platform(text)
