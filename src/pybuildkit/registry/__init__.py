"""pybuildkit.registry: an OCI distribution client (pull, push, login), written on httpx.

`pull(store, ref, platform=...)` brings an image into the store, verified blob by blob;
`push(store, ref, dest)` sends one up, skipping and mounting what the registry already has;
`login(server, user, password)` checks and saves credentials in Docker's config.json format.
Only this package speaks HTTP; everything above it sees images and RegistryError.
"""

from __future__ import annotations

from pybuildkit.registry.auth import Authenticator, pull_scope, push_scope
from pybuildkit.registry.challenge import Challenge, parse_www_authenticate
from pybuildkit.registry.client import MANIFEST_ACCEPT, RegistryClient
from pybuildkit.registry.credentials import (
    Credentials,
    config_paths,
    docker_config_path,
    erase_credentials,
    load_credentials,
    normalise_key,
    own_config_path,
    save_credentials,
)
from pybuildkit.registry.hosts import Target, api_host, insecure_from_env, is_loopback, resolve_target, uses_plain_http
from pybuildkit.registry.login import login, logout, registry_domain, verify_credentials
from pybuildkit.registry.platforms import DEFAULT_PLATFORM, as_platform, platform_matches, select_manifest
from pybuildkit.registry.progress import Progress, ProgressCallback, Status
from pybuildkit.registry.pull import pull
from pybuildkit.registry.push import DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_THRESHOLD, mount_candidates, push

__all__ = [
    "pull",
    "push",
    "login",
    "logout",
    "verify_credentials",
    "registry_domain",
    "RegistryClient",
    "MANIFEST_ACCEPT",
    "Authenticator",
    "pull_scope",
    "push_scope",
    "Challenge",
    "parse_www_authenticate",
    "Credentials",
    "config_paths",
    "docker_config_path",
    "own_config_path",
    "load_credentials",
    "save_credentials",
    "erase_credentials",
    "normalise_key",
    "Target",
    "api_host",
    "insecure_from_env",
    "is_loopback",
    "resolve_target",
    "uses_plain_http",
    "DEFAULT_PLATFORM",
    "as_platform",
    "platform_matches",
    "select_manifest",
    "Progress",
    "ProgressCallback",
    "Status",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_CHUNK_THRESHOLD",
    "mount_candidates",
]
