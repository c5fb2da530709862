"""Pulls from a small registry written here (http.server on 127.0.0.1), for what a real registry
will not do on demand: serve bytes that do not match their digest, serve a multi-platform index
with an attestation entry, and authenticate with bearer tokens from a token server."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("httpx", reason="httpx is not installed: add it to pyproject dependencies (pybuildkit.registry needs it)")

from pybuildkit.errors import RegistryError
from pybuildkit.oci import Descriptor, Index, Platform, mediatypes as mt, sha256_digest
from pybuildkit.registry import pull
from pybuildkit.store import Store, StoredImage
from tests.unit.store.imagefactory import make_image

pytestmark = pytest.mark.integration

USER, PASSWORD = "alice", "wonderland"


class Served:
    """What the small registry serves and what it saw."""

    def __init__(self) -> None:
        self.manifests: dict[tuple[str, str], tuple[bytes, str, str | None]] = {}
        self.blobs: dict[tuple[str, str], bytes] = {}
        self.requests: list[tuple[str, str]] = []
        self.token_requests: list[str] = []
        self.bearer = False
        self.port = 0
        self.lock = threading.Lock()

    def add_manifest(self, repo: str, ref: str, data: bytes, media_type: str, claimed: str | None = None) -> None:
        self.manifests[(repo, ref)] = (data, media_type, claimed or sha256_digest(data))
        self.manifests[(repo, sha256_digest(data))] = (data, media_type, sha256_digest(data))

    def add_image(self, repo: str, ref: str, store: Store, image: StoredImage) -> None:
        self.add_manifest(repo, ref, store.read_blob(image.digest), image.media_type)
        for desc in (image.manifest.config, *image.layers):
            self.blobs[(repo, desc.digest)] = store.blob_path(desc.digest).read_bytes()


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def authorised(self, repo: str) -> bool:
            if not served.bearer:
                return True
            scope = f"repository:{repo}:pull"
            if self.headers.get("Authorization") == f"Bearer token-for-{scope}":
                return True
            realm = f"http://127.0.0.1:{served.port}/token"
            challenge = f'Bearer realm="{realm}",service="served",scope="{scope}"'
            self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {"WWW-Authenticate": challenge})
            return False

        def token(self) -> None:
            from urllib.parse import parse_qs, urlsplit

            query = parse_qs(urlsplit(self.path).query)
            with served.lock:
                served.token_requests.append(self.path)
            expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != expected or query.get("service") != ["served"]:
                self.send(401)
                return
            scopes = " ".join(query.get("scope", []))
            self.send(200, json.dumps({"access_token": f"token-for-{scopes}", "expires_in": 300}).encode())

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            with served.lock:
                served.requests.append((self.command, self.path))
            if self.path.startswith("/token"):
                self.token()
                return
            parts = self.path.split("/")
            if self.path == "/v2/":
                self.send(200, b"{}")
                return
            if len(parts) < 5 or parts[1] != "v2":
                self.send(404)
                return
            repo, kind, ref = "/".join(parts[2:-2]), parts[-2], parts[-1]
            if not self.authorised(repo):
                return
            if kind == "manifests" and (repo, ref) in served.manifests:
                data, media_type, claimed = served.manifests[(repo, ref)]
                self.send(200, data, {"Content-Type": media_type, "Docker-Content-Digest": claimed or ""})
            elif kind == "blobs" and (repo, ref) in served.blobs:
                self.send(200, served.blobs[(repo, ref)], {"Content-Type": "application/octet-stream"})
            else:
                self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"not here"}]}')

    return Handler


@pytest.fixture
def served() -> Iterator[Served]:
    state = Served()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYBUILDKIT_CONFIG", str(tmp_path / "pybuildkit-config.json"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))


def source_image(tmp_path: Path, label: str = "amd64", layers: int = 2) -> tuple[Store, StoredImage]:
    store = Store(tmp_path / f"source-{label}")
    files = [{f"layer{i}/{label}.txt": f"{label} {i}\n".encode() * 100} for i in range(layers)]
    return store, make_image(store, files, tags=(f"example/{label}:latest",), label=label)


def assert_empty(store: Store) -> None:
    assert list(store.blobs.iter_digests()) == []
    assert store.images() == [] and store.tags() == ()
    assert list(store.blobs.ingest_dir.iterdir()) == []


def _flip(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])


CORRUPTIONS = {
    "layer byte flipped": lambda img, blobs: blobs.__setitem__(img.layers[1].digest, _flip(blobs[img.layers[1].digest])),
    "layer one byte longer": lambda img, blobs: blobs.__setitem__(img.layers[0].digest, blobs[img.layers[0].digest] + b"x"),
    "layer truncated": lambda img, blobs: blobs.__setitem__(img.layers[0].digest, blobs[img.layers[0].digest][:-5]),
    "config byte flipped": lambda img, blobs: blobs.__setitem__(img.config_digest, _flip(blobs[img.config_digest])),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_corrupt_blob_is_rejected_and_nothing_stays(tmp_path: Path, served: Served, corruption: str) -> None:
    store, image = source_image(tmp_path)
    served.add_image("app", "latest", store, image)
    blobs = {digest: data for (_, digest), data in served.blobs.items()}
    CORRUPTIONS[corruption](image, blobs)
    served.blobs = {("app", digest): data for digest, data in blobs.items()}
    with Store(tmp_path / "target") as target:
        with pytest.raises(RegistryError, match="does not match its digest|digest mismatch"):
            pull(target, f"127.0.0.1:{served.port}/app:latest")
        assert_empty(target)


def test_manifest_that_does_not_match_its_digest_is_rejected(tmp_path: Path, served: Served) -> None:
    store, image = source_image(tmp_path)
    served.add_image("app", "latest", store, image)
    data = store.read_blob(image.digest)
    served.add_manifest("app", "latest", data, image.media_type, claimed=sha256_digest(b"something else"))
    served.manifests[("app", image.digest)] = (data + b" ", image.media_type, image.digest)
    with Store(tmp_path / "target") as target:
        with pytest.raises(RegistryError, match="labelled"):
            pull(target, f"127.0.0.1:{served.port}/app:latest")
        with pytest.raises(RegistryError, match="not the requested"):
            pull(target, f"127.0.0.1:{served.port}/app@{image.digest}")
        assert_empty(target)
    assert not [p for _, p in served.requests if "/blobs/" in p]


def test_index_pull_picks_amd64_and_fetches_only_its_blobs(tmp_path: Path, served: Served) -> None:
    amd_store, amd = source_image(tmp_path, "amd64")
    arm_store, arm = source_image(tmp_path, "arm64")
    served.add_image("multi", amd.digest, amd_store, amd)
    served.add_image("multi", arm.digest, arm_store, arm)
    attestation = Descriptor(
        media_type=mt.OCI_MANIFEST,
        digest=sha256_digest(b"attestation"),
        size=11,
        platform=Platform(architecture="unknown", os="unknown"),
    )
    index = Index(
        manifests=(
            attestation,
            Descriptor(mt.OCI_MANIFEST, arm.digest, arm.size, platform=Platform(architecture="arm64", os="linux", variant="v8")),
            Descriptor(mt.OCI_MANIFEST, amd.digest, amd.size, platform=Platform(architecture="amd64", os="linux")),
        )
    )
    served.add_manifest("multi", "latest", index.to_bytes(), mt.OCI_INDEX)
    ref = f"127.0.0.1:{served.port}/multi:latest"

    with Store(tmp_path / "amd") as target:
        pulled = pull(target, ref)
        assert pulled.digest == amd.digest and pulled.tags == (f"127.0.0.1:{served.port}/multi:latest",)
        assert pulled.config.config.labels["test"] == "amd64"
    fetched = {p.rsplit("/", 1)[1] for _, p in served.requests if "/blobs/" in p}
    assert fetched == {d.digest for d in (amd.manifest.config, *amd.layers)}

    with Store(tmp_path / "arm") as target:
        assert pull(target, ref, platform="linux/arm64").digest == arm.digest
        with pytest.raises(RegistryError, match="no image for platform linux/s390x"):
            pull(target, ref, platform="linux/s390x")


def _docker_auth(tmp_path: Path, host: str, password: str) -> None:
    (tmp_path / "docker-config").mkdir(exist_ok=True)
    auth = base64.b64encode(f"{USER}:{password}".encode()).decode()
    (tmp_path / "docker-config" / "config.json").write_text(json.dumps({"auths": {f"http://{host}": {"auth": auth}}}))


def test_bearer_token_flow(tmp_path: Path, served: Served) -> None:
    store, image = source_image(tmp_path)
    served.add_image("secure/app", "latest", store, image)
    served.bearer = True
    host = f"127.0.0.1:{served.port}"
    ref = f"{host}/secure/app:latest"
    with Store(tmp_path / "target") as target:
        with pytest.raises(RegistryError, match="authentication required"):
            pull(target, ref)
        _docker_auth(tmp_path, host, "wrong")
        with pytest.raises(RegistryError, match="authentication failed"):
            pull(target, ref)
        assert_empty(target)
        _docker_auth(tmp_path, host, PASSWORD)
        served.token_requests.clear()
        assert pull(target, ref).digest == image.digest
    # One token for the one scope, reused by the manifest and every blob request.
    assert len(served.token_requests) == 1
    assert "scope=repository%3Asecure%2Fapp%3Apull" in served.token_requests[0]
