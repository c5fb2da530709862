"""Image reference parsing with Docker's normalisation (distribution/reference semantics)."""

from __future__ import annotations

import pytest

from pybuildkit.errors import ImageError
from pybuildkit.oci import parse_reference

DIGEST = "sha256:" + "a" * 64

VALID = [
    ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
    ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("user/app:v1", "docker.io/user/app:v1", "user/app:v1"),
    ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
    ("localhost:5000/app:1", "localhost:5000/app:1", "localhost:5000/app:1"),
    ("127.0.0.1:5000/a/b/c", "127.0.0.1:5000/a/b/c:latest", "127.0.0.1:5000/a/b/c:latest"),
    ("ghcr.io/owner/repo-name_x.y:tag-1.2", "ghcr.io/owner/repo-name_x.y:tag-1.2", "ghcr.io/owner/repo-name_x.y:tag-1.2"),
    (f"busybox@{DIGEST}", f"docker.io/library/busybox@{DIGEST}", f"busybox@{DIGEST}"),
    (f"busybox:1@{DIGEST}", f"docker.io/library/busybox:1@{DIGEST}", f"busybox:1@{DIGEST}"),
    ("Registry.Example/app", "Registry.Example/app:latest", "Registry.Example/app:latest"),
    ("[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000/app:latest"),
]


@pytest.mark.parametrize(("text", "full", "familiar"), VALID)
def test_valid_references(text: str, full: str, familiar: str) -> None:
    ref = parse_reference(text)
    assert str(ref) == full
    assert ref.familiar() == familiar


INVALID = [
    "",
    "Busybox",
    "busybox:",
    "busybox:bad/tag",
    "a" * 64,
    "busybox@sha256:xyz",
    "-leading/dash",
    "app//double",
    "app:" + "t" * 129,
    "x" * 256,
]


@pytest.mark.parametrize("text", INVALID)
def test_invalid_references(text: str) -> None:
    with pytest.raises(ImageError):
        parse_reference(text)


def test_no_default_tag_when_asked() -> None:
    assert parse_reference("busybox", default_tag=False).tag is None
    assert parse_reference("busybox").tagged() == "docker.io/library/busybox:latest"


def test_with_tag() -> None:
    assert str(parse_reference("busybox:1").with_tag("2")) == "docker.io/library/busybox:2"
    with pytest.raises(ImageError):
        parse_reference("busybox").with_tag("no/slash")
