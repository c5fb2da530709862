"""Answering a registry's 401: basic credentials, or bearer tokens fetched per scope and cached.

The distribution protocol lets a registry demand auth on any request. The client learns the
scheme from the first challenge, then authenticates every later request up front, so a large blob
upload is never sent twice. Bearer tokens are scoped (`repository:app:pull,push`): one is cached
per set of scopes until shortly before it expires, shared by the threads of one pull or push.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import attrs
import httpx

from pybuildkit.errors import RegistryError
from pybuildkit.registry.challenge import Challenge, parse_www_authenticate
from pybuildkit.registry.credentials import Credentials

__all__ = ["Authenticator", "pull_scope", "push_scope", "DEFAULT_TOKEN_LIFETIME"]

DEFAULT_TOKEN_LIFETIME = 60.0
_EXPIRY_MARGIN = 10.0


def pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"


def push_scope(repository: str) -> str:
    return f"repository:{repository}:pull,push"


@attrs.frozen
class _Token:
    value: str
    expires: float


class Authenticator:
    """Auth state for one registry host; thread-safe.

    `fetch` sends the token request (realm URL, query params, headers) and returns the response:
    injected so the same HTTP client (and its transport policy) serves registry and token server.
    """

    def __init__(
        self,
        registry: str,
        credentials: Credentials | None,
        fetch: Callable[[str, list[tuple[str, str]], dict[str, str]], httpx.Response],
    ) -> None:
        self.registry = registry
        self.credentials = credentials
        self._fetch = fetch
        self._challenge: Challenge | None = None
        self._tokens: dict[tuple[str, ...], _Token] = {}
        self._lock = threading.Lock()

    @property
    def scheme(self) -> str | None:
        return self._challenge.scheme if self._challenge else None

    def header(self, scopes: Sequence[str]) -> str | None:
        """The `Authorization` value for a request needing `scopes`, or None (anonymous)."""
        challenge = self._challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return self.credentials.basic() if self.credentials else None
        key = tuple(sorted(set(scopes)))
        with self._lock:
            token = self._tokens.get(key)
            if token is None or token.expires <= time.monotonic():
                token = self._fetch_token(challenge, key)
                self._tokens[key] = token
        return f"Bearer {token.value}"

    def challenged(self, response: httpx.Response, scopes: Sequence[str], sent: str | None) -> tuple[str, ...]:
        """Learn from a 401 and return the scopes to retry with (the server may ask for more).

        Raises when retrying cannot help: no usable scheme, basic auth without credentials, or
        credentials already sent and refused. The caller retries once; a second 401 is final.
        """
        header = response.headers.get("www-authenticate", "")
        challenges = parse_www_authenticate(header)
        chosen = next((c for c in challenges if c.scheme == "bearer" and c.realm), None)
        chosen = chosen or next((c for c in challenges if c.scheme == "basic"), None)
        if chosen is None:
            raise RegistryError(
                f"authentication required by registry {self.registry}, but it offers no scheme pybuildkit supports"
                f" ({header or 'no WWW-Authenticate header'!r})"
            )
        if chosen.scheme == "basic":
            if self.credentials is None:
                raise self.missing()
            if sent is not None and sent.startswith("Basic "):
                raise self.refused()
        wanted = tuple(scopes)
        if chosen.scheme == "bearer":
            extra = tuple(s for s in (chosen.scope or "").split() if s not in wanted)
            wanted += extra
            with self._lock:
                self._tokens.pop(tuple(sorted(set(scopes))), None)
        self._challenge = chosen
        return wanted

    def missing(self) -> RegistryError:
        return RegistryError(
            f"authentication required by registry {self.registry}: no credentials for it",
            hint=f"log in first: pybuild login {self.registry}",
        )

    def refused(self) -> RegistryError:
        who = f" for user {self.credentials.username!r}" if self.credentials else ""
        return RegistryError(
            f"authentication failed at registry {self.registry}{who}: credentials refused",
            hint=f"check them with: pybuild login {self.registry}",
        )

    def _fetch_token(self, challenge: Challenge, scopes: tuple[str, ...]) -> _Token:
        realm = challenge.realm or ""
        params = [("service", challenge.service)] if challenge.service else []
        params += [("scope", scope) for scope in scopes]
        headers = {"Authorization": self.credentials.basic()} if self.credentials else {}
        response = self._fetch(realm, params, headers)
        if response.status_code in (401, 403):
            raise self.refused() if self.credentials else self.missing()
        if response.status_code != 200:
            raise RegistryError(
                f"authentication failed at registry {self.registry}: token server {realm} answered {response.status_code}"
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        value = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise RegistryError(f"authentication failed at registry {self.registry}: token server {realm} sent no token")
        lifetime = body.get("expires_in") if isinstance(body, dict) else None
        seconds = float(lifetime) if isinstance(lifetime, (int, float)) and lifetime > 0 else DEFAULT_TOKEN_LIFETIME
        return _Token(value=value, expires=time.monotonic() + max(seconds - _EXPIRY_MARGIN, 1.0))
