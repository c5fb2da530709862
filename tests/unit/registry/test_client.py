"""The client's protocol edges on an in-process transport: auth retries, token reuse per scope,
retries of idempotent requests, and the registry's own error words in RegistryError."""

from __future__ import annotations

import json

import pytest

httpx = pytest.importorskip("httpx", reason="httpx is not installed: add it to pyproject dependencies (pybuildkit.registry needs it)")

from pybuildkit.errors import RegistryError
from pybuildkit.registry import Credentials, RegistryClient, resolve_target

TARGET = resolve_target("127.0.0.1:5000/app")


def client(handler, credentials: Credentials | None = None) -> RegistryClient:  # type: ignore[no-untyped-def]
    return RegistryClient(TARGET, credentials=credentials or Credentials("u", "p"), transport=httpx.MockTransport(handler))


def test_bearer_tokens_cached_per_scope() -> None:
    tokens: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            scope = request.url.params.get_list("scope")
            tokens.append(",".join(scope))
            assert request.headers["authorization"] == Credentials("u", "p").basic()
            return httpx.Response(200, json={"token": "T:" + " ".join(scope)})
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer T:"):
            return httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="http://127.0.0.1:5000/token",service="s"'})
        return httpx.Response(200 if request.method == "HEAD" else 404)

    with client(handler) as c:
        for _ in range(3):
            assert c.has_blob("app", "sha256:" + "0" * 64)
            assert c.has_blob("other", "sha256:" + "0" * 64)
    assert tokens == ["repository:app:pull", "repository:other:pull"]


def test_basic_refused_once_is_final() -> None:
    calls: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers.get("authorization"))
        return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})

    with client(handler) as c, pytest.raises(RegistryError, match="authentication failed .* for user 'u'"):
        c.ping()
    assert calls == [None, Credentials("u", "p").basic()]


def test_unknown_scheme_is_named() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, headers={"WWW-Authenticate": "Negotiate"})

    with client(handler) as c, pytest.raises(RegistryError, match="no scheme pybuildkit supports"):
        c.ping()


def test_idempotent_requests_retry_on_503() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return httpx.Response(503) if len(seen) < 3 else httpx.Response(200)

    with client(handler) as c:
        c.ping()
    assert seen == ["GET", "GET", "GET"]


@pytest.mark.parametrize(
    ("status", "body", "match"),
    [
        (404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}, "MANIFEST_UNKNOWN: manifest unknown"),
        (403, {"errors": [{"code": "DENIED", "message": "no"}]}, "denied .*DENIED: no"),
        (500, None, "HTTP 500"),
        (429, {"errors": [{"code": "TOOMANYREQUESTS"}]}, "TOOMANYREQUESTS"),
    ],
)
def test_registry_errors_carry_the_registry_words(status: int, body: object, match: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        content = json.dumps(body).encode() if body is not None else b"oops"
        return httpx.Response(status, content=content)

    with client(handler) as c, pytest.raises(RegistryError, match=match):
        c.get_manifest("app", "latest")


def test_upload_location_query_is_kept() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.method == "POST":
            return httpx.Response(202, headers={"Location": "/v2/app/blobs/uploads/u1?_state=abc%3D"})
        return httpx.Response(201)

    with client(handler) as c:
        location = c.start_upload("app")
        c.finish_upload("app", location, "sha256:" + "1" * 64, b"x")
    assert seen[-1] == "http://127.0.0.1:5000/v2/app/blobs/uploads/u1?_state=abc%3D&digest=sha256%3A" + "1" * 64


def test_credentials_never_follow_a_location_to_another_host() -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization")
        seen.append((request.url.host, auth))
        if request.url.host == "127.0.0.1" and auth is None:
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
        if request.method == "POST":
            return httpx.Response(202, headers={"Location": "http://storage.example/upload/1"})
        return httpx.Response(201)

    with client(handler) as c:
        location = c.start_upload("app")
        c.finish_upload("app", location, "sha256:" + "1" * 64, b"x")
    assert seen[-1] == ("storage.example", None)
    assert seen[1] == ("127.0.0.1", Credentials("u", "p").basic())
