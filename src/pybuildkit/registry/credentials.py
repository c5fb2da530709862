"""Registry credentials in Docker's `config.json` format, read from ours and Docker's file.

`pybuild login` writes `$PYBUILDKIT_CONFIG` (default `~/.config/pybuildkit/config.json`), never
Docker's own file, so logging in with pybuild cannot break a Docker setup; lookups read ours first,
then `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`), so an existing `docker login`
just works. Entries are `auths[KEY] = {"auth": base64("user:pass")}` (or `username`/`password`),
where KEY may be `host`, `host:port`, a URL, or Docker Hub's historical `https://index.docker.io/v1/`.
Credential helpers (`credsStore`, `credHelpers`) and OAuth `identitytoken`s are not used.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from pybuildkit.errors import RegistryError
from pybuildkit.oci.reference import DEFAULT_DOMAIN

__all__ = [
    "Credentials",
    "DOCKER_HUB_KEY",
    "own_config_path",
    "docker_config_path",
    "config_paths",
    "normalise_key",
    "load_credentials",
    "save_credentials",
    "erase_credentials",
]

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_HUB_ALIASES = frozenset({DEFAULT_DOMAIN, "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})


@attrs.frozen(repr=False)
class Credentials:
    """A username and a password (or identity token); never shown by repr."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password=***)"

    def basic(self) -> str:
        """The `Authorization: Basic` value."""
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


def own_config_path() -> Path:
    env = os.environ.get("PYBUILDKIT_CONFIG")
    return Path(env) if env else Path.home() / ".config" / "pybuildkit" / "config.json"


def docker_config_path() -> Path:
    env = os.environ.get("DOCKER_CONFIG")
    return (Path(env) if env else Path.home() / ".docker") / "config.json"


def config_paths() -> tuple[Path, ...]:
    """Where credentials are looked up, in order."""
    return (own_config_path(), docker_config_path())


def normalise_key(key: str) -> str:
    """`https://index.docker.io/v1/`, `docker.io` -> `docker.io`; `http://h:5000/v2/` -> `h:5000`."""
    text = key.strip()
    for prefix in ("https://", "http://"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
            break
    text = text.split("/", 1)[0].lower()
    return DEFAULT_DOMAIN if text in _HUB_ALIASES else text


def _read_config(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise RegistryError(f"cannot read credentials file {path}: {exc.strerror}") from None
    if not data.strip():
        return {}
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RegistryError(f"credentials file {path} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise RegistryError(f"credentials file {path} must hold a JSON object")
    return value


def _entry_credentials(entry: Any, path: Path, key: str) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            decoded = base64.b64decode(auth, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise RegistryError(f"credentials file {path}: the 'auth' of {key!r} is not base64 of 'user:password'") from None
        user, colon, password = decoded.partition(":")
        if not colon:
            raise RegistryError(f"credentials file {path}: the 'auth' of {key!r} has no ':' between user and password")
        return Credentials(user, password)
    user, password = entry.get("username"), entry.get("password")
    if isinstance(user, str) and isinstance(password, str) and user:
        return Credentials(user, password)
    return None


def load_credentials(domain: str, paths: Iterable[Path] | None = None) -> Credentials | None:
    """The credentials for registry `domain` (as a reference names it), or None for anonymous."""
    wanted = normalise_key(domain)
    for path in config_paths() if paths is None else paths:
        auths = _read_config(path).get("auths")
        if not isinstance(auths, dict):
            continue
        for key, entry in auths.items():
            if isinstance(key, str) and normalise_key(key) == wanted:
                found = _entry_credentials(entry, path, key)
                if found is not None:
                    return found
    return None


def _write_config(path: Path, config: dict[str, Any]) -> None:
    """Atomically replace `path`, readable by its owner only (it holds passwords)."""
    from pybuildkit.atomicfile import atomic_write_json

    try:
        atomic_write_json(path, config, indent="\t", mode=0o600, parents=True)
    except OSError as exc:
        raise RegistryError(f"cannot write credentials file {path}: {exc.strerror}") from None


def _config_key(domain: str) -> str:
    return DOCKER_HUB_KEY if normalise_key(domain) == DEFAULT_DOMAIN else normalise_key(domain)


def save_credentials(domain: str, credentials: Credentials, path: Path | None = None) -> Path:
    """Record `credentials` for `domain` in our config file (other keys kept); returns the file."""
    target = path or own_config_path()
    config = _read_config(target)
    auths = config.get("auths")
    if not isinstance(auths, dict):
        auths = {}
    wanted = normalise_key(domain)
    auths = {k: v for k, v in auths.items() if normalise_key(k) != wanted}
    raw = f"{credentials.username}:{credentials.password}".encode()
    auths[_config_key(domain)] = {"auth": base64.b64encode(raw).decode("ascii")}
    config["auths"] = auths
    _write_config(target, config)
    return target


def erase_credentials(domain: str, path: Path | None = None) -> bool:
    """Forget `domain` in our config file; True if there was something to forget."""
    target = path or own_config_path()
    config = _read_config(target)
    auths = config.get("auths")
    if not isinstance(auths, dict):
        return False
    wanted = normalise_key(domain)
    kept = {k: v for k, v in auths.items() if normalise_key(k) != wanted}
    if len(kept) == len(auths):
        return False
    config["auths"] = kept
    _write_config(target, config)
    return True
