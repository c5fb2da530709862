"""Push and pull against a real distribution registry (Debian's docker-registry) on 127.0.0.1.

What the registry received is read from its own access log, so "the second push sends no blob"
and "this layer went up in chunks" are facts about the wire, not about our bookkeeping. skopeo
reads what we pushed, and a second, empty store pulls it back byte for byte.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("httpx", reason="httpx is not installed: add it to pyproject dependencies (pybuildkit.registry needs it)")

from pybuildkit.cli.main import main
from pybuildkit.errors import RegistryError
from pybuildkit.registry import Progress, Status, pull, push
from pybuildkit.store import Store, StoredImage
from tests.support.registry import TEST_PASSWORD, TEST_USER, RegistryServer, auth_registry, free_port, registry  # noqa: F401
from tests.support.tools import need
from tests.unit.store.imagefactory import make_image

pytestmark = pytest.mark.integration

LAYERS = [{"etc/greeting": b"hello\n"}, {"data/table.bin": bytes(range(256)) * 64}]


@pytest.fixture(autouse=True)
def no_user_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the developer's ~/.docker: every test has its own (empty) config files."""
    monkeypatch.setenv("PYBUILDKIT_CONFIG", str(tmp_path / "pybuildkit-config.json"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.delenv("PYBUILDKIT_INSECURE_REGISTRIES", raising=False)


def stored_image(tmp_path: Path, name: str, layers: list[dict[str, bytes]] = LAYERS) -> tuple[Store, StoredImage]:
    store = Store(tmp_path / "source-store")
    return store, make_image(store, layers, tags=(name,))


def blob_bytes(store: Store, image: StoredImage) -> dict[str, bytes]:
    return {d.digest: store.blob_path(d.digest).read_bytes() for d in (image.manifest.config, *image.layers)}


def test_push_then_skopeo_then_pull_into_empty_store(tmp_path: Path, registry: RegistryServer) -> None:
    name = f"{registry.host}/app:v1"
    store, image = stored_image(tmp_path, name)
    events: list[Progress] = []
    assert push(store, name, progress=events.append) == image.digest
    assert {e.status for e in events} >= {Status.TRANSFER, Status.DONE, Status.PUSHED}

    out = subprocess.run(
        [need("skopeo"), "inspect", "--tls-verify=false", f"docker://{name}"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    inspected = json.loads(out.stdout)
    assert inspected["Digest"] == image.digest
    assert inspected["Layers"] == [layer.digest for layer in image.layers]

    with Store(tmp_path / "empty-store") as fresh:
        pulled = pull(fresh, name)
        assert pulled.digest == image.digest
        assert pulled.tags == (name,)
        assert blob_bytes(fresh, pulled) == blob_bytes(store, image)
        assert fresh.read_blob(pulled.digest) == store.read_blob(image.digest)
        assert fresh.check(deep=True).ok


def test_second_push_sends_no_blob(tmp_path: Path, registry: RegistryServer) -> None:
    name = f"{registry.host}/app:v1"
    store, image = stored_image(tmp_path, name)
    push(store, name)
    first = len(registry.requests())
    events: list[Progress] = []
    push(store, name, progress=events.append)
    second = registry.requests()[first:]
    blobs = 1 + len(image.layers)
    assert [m for m, _, _ in second if m in ("POST", "PATCH")] == []
    assert [(m, p) for m, p, _ in second if m == "PUT"] == [("PUT", "/v2/app/manifests/v1")]
    assert sorted(s for m, _, s in second if m == "HEAD") == [200] * blobs
    assert [e.status for e in events].count(Status.EXISTS) == blobs


def test_push_to_another_repository_mounts_blobs(tmp_path: Path, registry: RegistryServer) -> None:
    name = f"{registry.host}/team/app:v1"
    store, image = stored_image(tmp_path, name)
    push(store, name)
    before = len(registry.requests())
    dest = f"{registry.host}/other/copy:v2"
    assert push(store, name, dest) == image.digest
    sent = registry.requests()[before:]
    mounts = [(p, s) for m, p, s in sent if m == "POST"]
    assert len(mounts) == 1 + len(image.layers)
    assert all("mount=sha256" in p and ("from=team%2Fapp" in p or "from=team/app" in p) for p, _ in mounts)
    assert {s for _, s in mounts} == {201}
    assert not [p for m, p, _ in sent if m in ("PUT", "PATCH") and "/blobs/uploads/" in p]
    with Store(tmp_path / "pulled") as fresh:
        assert pull(fresh, dest).digest == image.digest


def test_large_blob_goes_up_in_chunks(tmp_path: Path, registry: RegistryServer) -> None:
    name = f"{registry.host}/big:1"
    payload = os.urandom(300 * 1024)  # incompressible: the gzip layer stays ~300 KiB
    store, image = stored_image(tmp_path, name, [{"random.bin": payload}])
    layer = image.layers[0]
    assert layer.size > 256 * 1024
    chunk = 64 * 1024
    push(store, name, chunk_threshold=chunk, chunk_size=chunk)
    patches = registry.requests("PATCH", "/v2/big/blobs/uploads/")
    assert len(patches) == -(-layer.size // chunk)
    assert {s for _, _, s in patches} == {202}
    with Store(tmp_path / "pulled") as fresh:
        pulled = pull(fresh, name)
        assert fresh.blob_path(layer.digest).read_bytes() == store.blob_path(layer.digest).read_bytes()
        assert pulled.digest == image.digest


def test_pull_skips_blobs_the_store_has_and_executor_signature(tmp_path: Path, registry: RegistryServer) -> None:
    name = f"{registry.host}/app:v1"
    store, image = stored_image(tmp_path, name)
    push(store, name)
    before = len(registry.requests())
    again = pull(store, name, platform="linux/amd64")
    assert again.digest == image.digest
    assert not [p for m, p, _ in registry.requests()[before:] if "/blobs/" in p]


def test_pull_of_a_missing_tag_names_the_registry_error(tmp_path: Path, registry: RegistryServer) -> None:
    with Store(tmp_path / "s") as store, pytest.raises(RegistryError, match="MANIFEST_UNKNOWN|NAME_UNKNOWN"):
        pull(store, f"{registry.host}/nothing:here")
    assert list(store.blobs.iter_digests()) == []


def test_unreachable_registry_is_a_clear_error(tmp_path: Path) -> None:
    host = f"127.0.0.1:{free_port()}"
    with Store(tmp_path / "s") as store:
        with pytest.raises(RegistryError, match=f"cannot reach registry {host}"):
            pull(store, f"{host}/app")
        make_image(store, LAYERS, tags=(f"{host}/app:v1",))
        with pytest.raises(RegistryError, match=f"cannot reach registry {host}"):
            push(store, f"{host}/app:v1")


def _docker_config(tmp_path: Path, host: str, password: str) -> None:
    auth = base64.b64encode(f"{TEST_USER}:{password}".encode()).decode()
    config = tmp_path / "docker-config"
    config.mkdir(exist_ok=True)
    (config / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))


def test_htpasswd_registry_with_docker_config_credentials(tmp_path: Path, auth_registry: RegistryServer) -> None:
    name = f"{auth_registry.host}/private:v1"
    store, image = stored_image(tmp_path, name)
    with pytest.raises(RegistryError, match="authentication required") as info:
        push(store, name)
    assert info.value.hint and "pybuild login" in info.value.hint

    _docker_config(tmp_path, auth_registry.host, "wrong")
    with pytest.raises(RegistryError, match="authentication failed"):
        push(store, name)

    _docker_config(tmp_path, auth_registry.host, TEST_PASSWORD)
    assert push(store, name) == image.digest
    with Store(tmp_path / "pulled") as fresh:
        assert pull(fresh, name).digest == image.digest

    os.unlink(tmp_path / "docker-config" / "config.json")
    with Store(tmp_path / "anonymous") as fresh:
        with pytest.raises(RegistryError, match="authentication"):
            pull(fresh, name)
        assert list(fresh.blobs.iter_digests()) == [] and fresh.images() == []


def test_cli_login_push_pull(tmp_path: Path, auth_registry: RegistryServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    host = auth_registry.host
    name = f"{host}/cli:v1"
    root = tmp_path / "root"
    with Store(root) as store:
        image = make_image(store, LAYERS, tags=(name,))

    monkeypatch.setattr("sys.stdin", io.StringIO("wrong\n"))
    assert main(["login", "-u", TEST_USER, "--password-stdin", host]) == 1
    assert "authentication failed" in capsys.readouterr().err
    assert not (tmp_path / "pybuildkit-config.json").exists()

    monkeypatch.setattr("sys.stdin", io.StringIO(TEST_PASSWORD + "\n"))
    assert main(["login", "-u", TEST_USER, "--password-stdin", host]) == 0
    assert "Login Succeeded" in capsys.readouterr().out
    saved = json.loads((tmp_path / "pybuildkit-config.json").read_text())
    assert host in saved["auths"]

    assert main(["--root", str(root), "push", name]) == 0
    out = capsys.readouterr()
    assert f"Digest: {image.digest}" in out.out
    assert "pushed" in out.err and "uploading" in out.err

    assert main(["--root", str(tmp_path / "other-root"), "pull", name]) == 0
    out = capsys.readouterr()
    assert f"Digest: {image.digest}" in out.out and f"Pulled: {name}" in out.out
    assert "verified" in out.err

    assert main(["login", "--logout", host]) == 0
    assert main(["--root", str(tmp_path / "third-root"), "pull", name]) == 1
    assert "authentication required" in capsys.readouterr().err


def test_mount_from_a_repository_without_the_blob_falls_back_to_upload(tmp_path: Path, registry: RegistryServer) -> None:
    name = f"{registry.host}/fresh:v1"
    store, image = stored_image(tmp_path, name)
    assert push(store, name, mount_from=(f"{registry.host}/empty/repo:x",)) == image.digest
    posts = registry.requests("POST", "/v2/fresh/blobs/uploads/")
    assert len(posts) == 1 + len(image.layers) and {s for _, _, s in posts} == {202}
    assert all("from=empty" in p for _, p, _ in posts)
    with Store(tmp_path / "pulled") as fresh:
        assert pull(fresh, name).digest == image.digest


def test_executor_resolver_pulls_a_missing_base(tmp_path: Path, registry: RegistryServer) -> None:
    """FROM naming an image the store lacks: the executor's resolver pulls it through us."""
    from pybuildkit.execute.resolver import resolve_stored_image
    from pybuildkit.oci.descriptor import Platform

    name = f"{registry.host}/base:1"
    store, image = stored_image(tmp_path, name)
    push(store, name)
    with Store(tmp_path / "builder") as builder:
        got = resolve_stored_image(builder, name, Platform(architecture="amd64", os="linux"))
        assert got.digest == image.digest
        assert builder.image(name).digest == image.digest
