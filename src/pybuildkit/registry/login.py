"""`login` / `logout`: check credentials against the registry, then remember (or forget) them.

Credentials are verified before they are saved (as `docker login` does), so a typo fails at
login, with the registry's answer, not later in the middle of a build's push.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pybuildkit.errors import RegistryError
from pybuildkit.oci.reference import DEFAULT_DOMAIN, Reference
from pybuildkit.registry.client import RegistryClient
from pybuildkit.registry.credentials import Credentials, erase_credentials, normalise_key, save_credentials
from pybuildkit.registry.hosts import Target, insecure_from_env, resolve_target

__all__ = ["login", "logout", "registry_domain", "verify_credentials"]


def registry_domain(server: str | None) -> str:
    """`pybuild login` argument to a registry domain: none or a Docker Hub alias -> docker.io."""
    if not server:
        return DEFAULT_DOMAIN
    key = normalise_key(server)
    if not key:
        raise RegistryError(f"invalid registry address {server!r}")
    return key


def _target(domain: str, insecure_registries: Iterable[str]) -> Target:
    # Any repository will do: only /v2/ is asked, and the scheme/host policy depends on the domain.
    return resolve_target(Reference(domain=domain, path="library/x", tag="latest"), (*insecure_registries, *insecure_from_env()))


def verify_credentials(domain: str, credentials: Credentials, *, insecure_registries: Iterable[str] = ()) -> None:
    """Raise RegistryError unless `domain` accepts `credentials` on `GET /v2/`.

    A bearer registry is asked for a token without a scope: its token server checks the password
    even then, which is what `docker login` relies on too."""
    with RegistryClient(_target(domain, insecure_registries), credentials=credentials) as client:
        client.ping()


def login(
    server: str | None,
    username: str,
    password: str,
    *,
    insecure_registries: Iterable[str] = (),
    path: Path | None = None,
    verify: bool = True,
) -> Path:
    """Check and save credentials for `server`; returns the config file written."""
    if not username:
        raise RegistryError("login needs a username")
    if not password:
        raise RegistryError("login needs a password")
    domain = registry_domain(server)
    credentials = Credentials(username, password)
    if verify:
        verify_credentials(domain, credentials, insecure_registries=insecure_registries)
    return save_credentials(domain, credentials, path)


def logout(server: str | None, *, path: Path | None = None) -> bool:
    """Forget the saved credentials for `server`; True if any were saved (in our config file)."""
    return erase_credentials(registry_domain(server), path)
