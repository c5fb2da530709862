"""Where a reference's registry really lives: API host, scheme, and the repository to ask for.

A reference names a registry by its *domain* (`docker.io`, `127.0.0.1:5000`); the API is not always
served there (Docker Hub answers on `registry-1.docker.io`), and whether to speak plain HTTP is a
policy, not a property of the name: loopback registries and those the user lists as insecure get
HTTP, everything else HTTPS. Pure functions, so the policy is tested without a network.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable

import attrs

from pybuildkit.errors import ImageError, RegistryError
from pybuildkit.oci.reference import DEFAULT_DOMAIN, Reference, parse_reference

__all__ = [
    "DOCKER_HUB_API_HOST",
    "INSECURE_ENV",
    "Target",
    "api_host",
    "split_host_port",
    "is_loopback",
    "insecure_from_env",
    "uses_plain_http",
    "resolve_target",
]

DOCKER_HUB_API_HOST = "registry-1.docker.io"
INSECURE_ENV = "PYBUILDKIT_INSECURE_REGISTRIES"


@attrs.frozen
class Target:
    """One reference made concrete: the base URL to talk to and what to ask it for."""

    reference: Reference
    base_url: str

    @property
    def domain(self) -> str:
        return self.reference.domain

    @property
    def repository(self) -> str:
        return self.reference.path

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[1]

    @property
    def manifest_ref(self) -> str:
        """What goes after `/manifests/`: the digest when pinned, else the tag."""
        return self.reference.digest or self.reference.tag or "latest"


def api_host(domain: str) -> str:
    """The host[:port] serving the registry API for `domain` (Docker Hub's is not `docker.io`)."""
    return DOCKER_HUB_API_HOST if domain == DEFAULT_DOMAIN else domain


def split_host_port(domain: str) -> tuple[str, int | None]:
    """`127.0.0.1:5000` -> (`127.0.0.1`, 5000); `[::1]:5000` -> (`::1`, 5000)."""
    if domain.startswith("["):
        host, _, rest = domain[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = domain.partition(":")
    return host, int(port) if port.isdigit() else None


def is_loopback(domain: str) -> bool:
    """True for `localhost` and 127.0.0.0/8 or ::1, with or without a port."""
    host, _ = split_host_port(domain)
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def insecure_from_env(environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """The comma-separated `$PYBUILDKIT_INSECURE_REGISTRIES`, as a tuple of hosts."""
    env = os.environ if environ is None else environ
    return tuple(part.strip() for part in env.get(INSECURE_ENV, "").split(",") if part.strip())


def uses_plain_http(domain: str, insecure_registries: Iterable[str] = ()) -> bool:
    """Whether to speak HTTP to `domain`: loopback, or listed (as `host:port` or bare `host`)."""
    if is_loopback(domain):
        return True
    host, _ = split_host_port(domain)
    listed = {entry.strip().lower().removeprefix("http://").removeprefix("https://").rstrip("/") for entry in insecure_registries}
    return domain.lower() in listed or host.lower() in listed


def resolve_target(ref: str | Reference, insecure_registries: Iterable[str] = ()) -> Target:
    """Parse `ref` (Docker normalisation) and pick the URL its registry is reached at."""
    if isinstance(ref, str):
        try:
            reference = parse_reference(ref.strip())
        except ImageError as exc:
            raise RegistryError(exc.message) from None
    else:
        reference = ref
    scheme = "http" if uses_plain_http(reference.domain, insecure_registries) else "https"
    return Target(reference=reference, base_url=f"{scheme}://{api_host(reference.domain)}")
