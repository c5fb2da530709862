"""The distribution protocol's endpoints over one HTTP connection pool, for one registry host.

This is the layer that knows URLs (`/v2/<repo>/manifests/<ref>`, `/blobs/uploads/`), status
codes and headers (`Docker-Content-Digest`, `Location`, `Range`), and turns every failure into a
:class:`RegistryError` that names the registry: a user should read "cannot reach registry ..." or
"manifest unknown", never an httpx traceback. Pull and push are written against these methods.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from urllib.parse import urljoin

import httpx

from pybuildkit.errors import RegistryError
from pybuildkit.oci import mediatypes as mt
from pybuildkit.registry.auth import Authenticator, pull_scope, push_scope
from pybuildkit.registry.credentials import Credentials, load_credentials
from pybuildkit.registry.hosts import Target, is_loopback

__all__ = ["RegistryClient", "MANIFEST_ACCEPT", "MAX_MANIFEST_SIZE", "USER_AGENT"]

MANIFEST_ACCEPT = ", ".join((mt.OCI_MANIFEST, mt.OCI_INDEX, mt.DOCKER_MANIFEST, mt.DOCKER_MANIFEST_LIST))
MAX_MANIFEST_SIZE = 4 << 20
USER_AGENT = "pybuildkit"
_RETRY_STATUS = frozenset({502, 503, 504})
_IDEMPOTENT = frozenset({"GET", "HEAD"})
_ATTEMPTS = 3


def _error_detail(response: httpx.Response) -> str:
    """The registry's own words: `{"errors": [{"code", "message"}]}`, else the status line."""
    detail = ""
    with contextlib.suppress(Exception):
        body = response.json()
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list):
            parts = []
            for err in errors:
                if isinstance(err, dict):
                    code, message = err.get("code"), err.get("message")
                    parts.append(": ".join(str(x) for x in (code, message) if x))
            detail = "; ".join(p for p in parts if p)
    return detail or f"HTTP {response.status_code} {response.reason_phrase}".strip()


class RegistryClient:
    """Talks to the registry of `target` (one host, any repository on it). Thread-safe."""

    def __init__(
        self,
        target: Target,
        *,
        credentials: Credentials | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.domain = target.domain
        self.host = target.host
        self.base_url = target.base_url
        self._origin = httpx.URL(target.base_url)
        if credentials is None:
            credentials = load_credentials(target.domain)
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            follow_redirects=True,
            trust_env=not is_loopback(target.host),
            headers={"User-Agent": USER_AGENT},
            transport=transport,
        )
        self.auth = Authenticator(target.domain, credentials, self._fetch_token)
        self.requests = 0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------

    def unreachable(self, exc: Exception) -> RegistryError:
        where = self.domain if self.domain == self.host else f"{self.domain} ({self.host})"
        return RegistryError(f"cannot reach registry {where}: {exc or type(exc).__name__}")

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.base_url}{path}"

    def _fetch_token(self, realm: str, params: list[tuple[str, str]], headers: dict[str, str]) -> httpx.Response:
        if not realm.startswith(("http://", "https://")):
            raise RegistryError(f"registry {self.domain} sent an unusable token realm {realm!r}")
        try:
            response = self._http.get(realm, params=params, headers=headers)
            response.read()
            return response
        except httpx.TransportError as exc:
            raise RegistryError(f"cannot reach the token server {realm} of registry {self.domain}: {exc}") from None

    def request(
        self,
        method: str,
        path: str,
        *,
        scopes: Sequence[str] = (),
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        content: bytes | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send one request with auth (answering one 401) and retries for idempotent methods.

        With `stream`, the body is not read: the caller must close the response."""
        wanted = tuple(scopes)
        answered = False
        attempt = 0
        while True:
            attempt += 1
            # Merge, not replace: an upload Location carries its own query (`_state=...`).
            url = httpx.URL(self.url(path))
            if params:
                url = url.copy_merge_params(params)
            # Credentials go to the registry's own origin only, never to a Location elsewhere.
            own = url.scheme == self._origin.scheme and url.netloc == self._origin.netloc
            sent = self.auth.header(wanted) if own else None
            all_headers = dict(headers or {})
            if sent:
                all_headers["Authorization"] = sent
            request = self._http.build_request(method, url, headers=all_headers, content=content)
            try:
                self.requests += 1
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                if method in _IDEMPOTENT and attempt < _ATTEMPTS and not isinstance(exc, httpx.ConnectError):
                    time.sleep(0.2 * attempt)
                    continue
                raise self.unreachable(exc) from None
            if response.status_code == 401:
                response.close()
                if answered:
                    raise self.auth.refused() if self.auth.credentials else self.auth.missing()
                wanted = self.auth.challenged(response, wanted, sent)
                answered = True
                continue
            if response.status_code in _RETRY_STATUS and method in _IDEMPOTENT and attempt < _ATTEMPTS:
                response.close()
                time.sleep(0.2 * attempt)
                continue
            if not stream:
                try:
                    response.read()
                except httpx.TransportError as exc:
                    response.close()
                    raise self.unreachable(exc) from None
                finally:
                    response.close()
            return response

    def fail(self, response: httpx.Response, what: str) -> RegistryError:
        """The error for an unexpected answer to `what` (reads a streamed body's error JSON)."""
        with contextlib.suppress(Exception):
            response.read()
        detail = _error_detail(response)
        if response.status_code == 403:
            return RegistryError(
                f"registry {self.domain} denied {what}: {detail}", hint=f"check your access; pybuild login {self.domain}"
            )
        return RegistryError(f"registry {self.domain}: {what} failed: {detail}")

    # -- endpoints -----------------------------------------------------------------------------

    def ping(self) -> None:
        """`GET /v2/`: is this a registry, and do our credentials pass (if it demands any)?"""
        response = self.request("GET", "/v2/")
        if response.status_code != 200:
            raise self.fail(response, "the API version check (GET /v2/)")

    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str | None, str | None]:
        """(bytes, Content-Type, Docker-Content-Digest) of a manifest or index."""
        what = f"fetching manifest {repository}:{reference}" if ":" not in reference else f"fetching manifest {repository}@{reference}"
        response = self.request(
            "GET",
            f"/v2/{repository}/manifests/{reference}",
            scopes=(pull_scope(repository),),
            headers={"Accept": MANIFEST_ACCEPT},
            stream=True,
        )
        try:
            if response.status_code != 200:
                raise self.fail(response, what)
            body = bytearray()
            try:
                for chunk in response.iter_raw():
                    body += chunk
                    if len(body) > MAX_MANIFEST_SIZE:
                        raise RegistryError(
                            f"registry {self.domain}: manifest {repository}:{reference} is larger than {MAX_MANIFEST_SIZE} bytes"
                        )
            except httpx.TransportError as exc:
                raise self.unreachable(exc) from None
            content_type = response.headers.get("content-type", "").split(";")[0].strip() or None
            return bytes(body), content_type, response.headers.get("docker-content-digest")
        finally:
            response.close()

    @contextlib.contextmanager
    def open_blob(self, repository: str, digest: str) -> Iterator[httpx.Response]:
        """A streaming 200 response for a blob (redirects to storage followed)."""
        response = self.request(
            "GET", f"/v2/{repository}/blobs/{digest}", scopes=(pull_scope(repository),), stream=True
        )
        try:
            if response.status_code != 200:
                raise self.fail(response, f"fetching blob {digest}")
            yield response
        finally:
            response.close()

    def has_blob(self, repository: str, digest: str, *, scopes: Sequence[str] = ()) -> bool:
        response = self.request("HEAD", f"/v2/{repository}/blobs/{digest}", scopes=scopes or (pull_scope(repository),))
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
        raise self.fail(response, f"checking blob {digest}")

    def _location(self, response: httpx.Response, what: str) -> str:
        location = response.headers.get("location")
        if not location:
            raise RegistryError(f"registry {self.domain}: {what}: the answer has no Location header")
        return urljoin(str(response.url), location)

    def start_upload(self, repository: str, *, mount: str | None = None, source: str | None = None) -> str | None:
        """Open an upload session; returns its URL, or None if `mount` was mounted from `source`."""
        scopes = [push_scope(repository)]
        params = None
        if mount and source:
            scopes.append(pull_scope(source))
            params = {"mount": mount, "from": source}
        response = self.request("POST", f"/v2/{repository}/blobs/uploads/", scopes=scopes, params=params)
        if response.status_code == 201 and params is not None:
            return None
        if response.status_code != 202:
            raise self.fail(response, f"starting a blob upload to {repository}")
        return self._location(response, "starting a blob upload")

    def upload_chunk(self, repository: str, location: str, data: bytes, offset: int) -> str:
        """PATCH one chunk at `offset`; returns the URL for the next step."""
        response = self.request(
            "PATCH",
            location,
            scopes=(push_scope(repository),),
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{offset}-{offset + len(data) - 1}",
            },
            content=data,
        )
        if response.status_code != 202:
            raise self.fail(response, f"uploading a chunk to {repository}")
        return self._location(response, "uploading a chunk")

    def finish_upload(self, repository: str, location: str, digest: str, data: bytes = b"") -> None:
        """PUT `?digest=` closing the session, with the last (or only) bytes as the body."""
        response = self.request(
            "PUT",
            location,
            scopes=(push_scope(repository),),
            headers={"Content-Type": "application/octet-stream"},
            params={"digest": digest},
            content=data,
        )
        if response.status_code not in (201, 204):
            raise self.fail(response, f"completing the upload of {digest}")
        returned = response.headers.get("docker-content-digest")
        if returned and returned != digest:
            raise RegistryError(f"registry {self.domain} stored blob {digest} as {returned}")

    def put_manifest(self, repository: str, reference: str, data: bytes, media_type: str) -> str | None:
        """PUT a manifest or index under a tag or digest; returns the digest the registry reports."""
        response = self.request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            scopes=(push_scope(repository),),
            headers={"Content-Type": media_type},
            content=data,
        )
        if response.status_code not in (200, 201, 202):
            raise self.fail(response, f"pushing manifest {repository}:{reference}")
        return response.headers.get("docker-content-digest")
