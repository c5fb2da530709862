"""From a reference to the URL and repository a registry client asks: Docker's normalisation,
Docker Hub's API host, and the plain-HTTP policy (loopback, listed insecure hosts, the env)."""

from __future__ import annotations

import pytest

pytest.importorskip("httpx", reason="httpx is not installed: add it to pyproject dependencies (pybuildkit.registry needs it)")

from pybuildkit.errors import RegistryError
from pybuildkit.registry.hosts import api_host, insecure_from_env, is_loopback, resolve_target, split_host_port, uses_plain_http

DIGEST = "sha256:" + "a" * 64

# ref, insecure, base_url, repository, manifest reference, tag key in the store
TARGETS = [
    ("busybox", (), "https://registry-1.docker.io", "library/busybox", "latest", "docker.io/library/busybox:latest"),
    ("busybox:1.36", (), "https://registry-1.docker.io", "library/busybox", "1.36", "docker.io/library/busybox:1.36"),
    ("docker.io/library/alpine", (), "https://registry-1.docker.io", "library/alpine", "latest", "docker.io/library/alpine:latest"),
    ("index.docker.io/user/app:v1", (), "https://registry-1.docker.io", "user/app", "v1", "docker.io/user/app:v1"),
    ("user/app", (), "https://registry-1.docker.io", "user/app", "latest", "docker.io/user/app:latest"),
    (f"busybox@{DIGEST}", (), "https://registry-1.docker.io", "library/busybox", DIGEST, "docker.io/library/busybox:latest"),
    (f"busybox:1@{DIGEST}", (), "https://registry-1.docker.io", "library/busybox", DIGEST, "docker.io/library/busybox:1"),
    ("127.0.0.1:5000/app:latest", (), "http://127.0.0.1:5000", "app", "latest", "127.0.0.1:5000/app:latest"),
    ("127.1.2.3:5000/team/app", (), "http://127.1.2.3:5000", "team/app", "latest", "127.1.2.3:5000/team/app:latest"),
    ("localhost:5000/app", (), "http://localhost:5000", "app", "latest", "localhost:5000/app:latest"),
    ("localhost/app", (), "http://localhost", "app", "latest", "localhost/app:latest"),
    ("[::1]:5000/app", (), "http://[::1]:5000", "app", "latest", "[::1]:5000/app:latest"),
    ("ghcr.io/org/img:2", (), "https://ghcr.io", "org/img", "2", "ghcr.io/org/img:2"),
    ("reg.example:5000/img", (), "https://reg.example:5000", "img", "latest", "reg.example:5000/img:latest"),
    ("reg.example:5000/img", ("reg.example:5000",), "http://reg.example:5000", "img", "latest", "reg.example:5000/img:latest"),
    ("reg.example:5000/img", ("reg.example",), "http://reg.example:5000", "img", "latest", "reg.example:5000/img:latest"),
    ("reg.example:5000/img", ("http://reg.example:5000/",), "http://reg.example:5000", "img", "latest", "reg.example:5000/img:latest"),
    ("reg.example:5000/img", ("other.example",), "https://reg.example:5000", "img", "latest", "reg.example:5000/img:latest"),
]


@pytest.mark.parametrize(("ref", "insecure", "base_url", "repository", "manifest_ref", "tag"), TARGETS, ids=[t[0] + (" insecure" if t[1] else "") for t in TARGETS])
def test_resolve_target(ref: str, insecure: tuple[str, ...], base_url: str, repository: str, manifest_ref: str, tag: str) -> None:
    target = resolve_target(ref, insecure)
    assert target.base_url == base_url
    assert target.repository == repository
    assert target.manifest_ref == manifest_ref
    assert target.reference.tagged() == tag


@pytest.mark.parametrize("ref", ["", "library/UPPER", "a" * 64, "bad tag:", "x@sha256:short", "host:port:x/y"])
def test_bad_references_are_registry_errors(ref: str) -> None:
    with pytest.raises(RegistryError, match="invalid"):
        resolve_target(ref)


@pytest.mark.parametrize(
    ("domain", "expected"),
    [("docker.io", "registry-1.docker.io"), ("ghcr.io", "ghcr.io"), ("127.0.0.1:5000", "127.0.0.1:5000")],
)
def test_api_host(domain: str, expected: str) -> None:
    assert api_host(domain) == expected


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("127.0.0.1", True),
        ("127.255.0.9:80", True),
        ("localhost:5000", True),
        ("LOCALHOST", True),
        ("[::1]:5000", True),
        ("128.0.0.1", False),
        ("10.0.0.1:5000", False),
        ("docker.io", False),
        ("localhost.example", False),
    ],
)
def test_loopback(domain: str, expected: bool) -> None:
    assert is_loopback(domain) is expected
    assert uses_plain_http(domain) is expected


@pytest.mark.parametrize(
    ("domain", "expected"),
    [("h", ("h", None)), ("h:5000", ("h", 5000)), ("[::1]:5", ("::1", 5)), ("[fe80::1]", ("fe80::1", None))],
)
def test_split_host_port(domain: str, expected: tuple[str, int | None]) -> None:
    assert split_host_port(domain) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", ()), ("a:5000", ("a:5000",)), (" a , b:1 ,,", ("a", "b:1"))],
)
def test_insecure_from_env(value: str, expected: tuple[str, ...]) -> None:
    assert insecure_from_env({"PYBUILDKIT_INSECURE_REGISTRIES": value}) == expected
