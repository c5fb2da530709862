"""Golden JSON bytes: the wire form of every OCI value is an API (digests are taken over it)."""

from __future__ import annotations

import pytest

from pybuildkit.oci import (
    Descriptor,
    Healthcheck,
    History,
    Image,
    ImageConfig,
    Index,
    Manifest,
    Platform,
    RootFS,
    mediatypes as mt,
    sha256_digest,
)

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64

FULL_CONFIG = ImageConfig(
    user="app:app",
    exposed_ports=("8080/tcp", "53/udp", "8080/tcp"),
    env=("PATH=/usr/bin:/bin", "LANG=C.UTF-8"),
    entrypoint=("/entry",),
    cmd=("serve", "--port", "8080"),
    volumes=("/data",),
    working_dir="/srv",
    labels={"b": "2", "a": "1"},
    stop_signal="SIGTERM",
    args_escaped=True,
    healthcheck=Healthcheck(test=("CMD", "true"), interval=30_000_000_000, retries=3),
    on_build=("RUN echo hi",),
    shell=("/bin/sh", "-c"),
)

CASES = [
    pytest.param(
        Descriptor(mt.OCI_LAYER_GZIP, D1, 42),
        b'{"digest":"sha256:' + b"1" * 64 + b'","mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":42}',
        id="descriptor-minimal",
    ),
    pytest.param(
        Descriptor(
            mt.OCI_MANIFEST,
            D1,
            7,
            annotations={mt.ANNOTATION_REF_NAME: "latest"},
            platform=Platform("arm64", "linux", variant="v8"),
        ),
        b'{"annotations":{"org.opencontainers.image.ref.name":"latest"},"digest":"sha256:' + b"1" * 64
        + b'","mediaType":"application/vnd.oci.image.manifest.v1+json","platform":{"architecture":"arm64","os":"linux","variant":"v8"},"size":7}',
        id="descriptor-annotated",
    ),
    pytest.param(
        Manifest(config=Descriptor(mt.OCI_CONFIG, D1, 10), layers=(Descriptor(mt.OCI_LAYER_GZIP, D2, 20),)),
        b'{"config":{"digest":"sha256:' + b"1" * 64 + b'","mediaType":"application/vnd.oci.image.config.v1+json","size":10},'
        b'"layers":[{"digest":"sha256:' + b"2" * 64 + b'","mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":20}],'
        b'"mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2}',
        id="manifest",
    ),
    pytest.param(
        Index(manifests=(Descriptor(mt.OCI_MANIFEST, D3, 5),)),
        b'{"manifests":[{"digest":"sha256:' + b"3" * 64
        + b'","mediaType":"application/vnd.oci.image.manifest.v1+json","size":5}],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}',
        id="index",
    ),
    pytest.param(
        Image(),
        b'{"architecture":"amd64","config":{},"os":"linux","rootfs":{"diff_ids":[],"type":"layers"}}',
        id="image-empty-omits-fields",
    ),
    pytest.param(
        Image(
            created="2024-01-01T00:00:00Z",
            author="me",
            config=FULL_CONFIG,
            rootfs=RootFS(diff_ids=(D1,)),
            history=(
                History(created="2024-01-01T00:00:00Z", created_by="COPY . /", comment="buildkit.dockerfile.v0"),
                History(created_by="CMD", empty_layer=True),
            ),
        ),
        b'{"architecture":"amd64","author":"me","config":{"ArgsEscaped":true,"Cmd":["serve","--port","8080"],'
        b'"Entrypoint":["/entry"],"Env":["PATH=/usr/bin:/bin","LANG=C.UTF-8"],"ExposedPorts":{"53/udp":{},"8080/tcp":{}},'
        b'"Healthcheck":{"Interval":30000000000,"Retries":3,"Test":["CMD","true"]},"Labels":{"a":"1","b":"2"},'
        b'"OnBuild":["RUN echo hi"],"Shell":["/bin/sh","-c"],"StopSignal":"SIGTERM","User":"app:app",'
        b'"Volumes":{"/data":{}},"WorkingDir":"/srv"},"created":"2024-01-01T00:00:00Z",'
        b'"history":[{"comment":"buildkit.dockerfile.v0","created":"2024-01-01T00:00:00Z","created_by":"COPY . /"},'
        b'{"created_by":"CMD","empty_layer":true}],"os":"linux","rootfs":{"diff_ids":["sha256:' + b"1" * 64 + b'"],"type":"layers"}}',
        id="image-full",
    ),
]


@pytest.mark.parametrize(("value", "golden"), CASES)
def test_golden_bytes(value: object, golden: bytes) -> None:
    assert value.to_bytes() == golden  # type: ignore[attr-defined]


@pytest.mark.parametrize(("value", "golden"), CASES)
def test_round_trip(value: object, golden: bytes) -> None:
    parsed = type(value).from_json(golden)  # type: ignore[attr-defined]
    assert parsed == value
    assert parsed.to_bytes() == golden
    hash(parsed)  # frozen values must be usable as dict keys


def test_manifest_digest_is_digest_of_bytes() -> None:
    manifest = Manifest(config=Descriptor(mt.OCI_CONFIG, D1, 10))
    assert manifest.digest() == sha256_digest(manifest.to_bytes())
    assert manifest.descriptor().size == len(manifest.to_bytes())


def test_docker_config_keeps_unmodelled_fields() -> None:
    """A config written by Docker (legacy fields, nulls) survives parse and re-serialise."""
    docker = (
        b'{"architecture":"amd64","config":{"Hostname":"","AttachStdin":false,"Env":["PATH=/bin"],"Cmd":["sh"],'
        b'"Image":"sha256:' + b"1" * 64 + b'","Volumes":null,"OnBuild":null,"Labels":null},'
        b'"container":"abc","docker_version":"20.10.24","created":"2024-01-01T00:00:00Z","os":"linux",'
        b'"rootfs":{"type":"layers","diff_ids":[]}}'
    )
    image = Image.from_json(docker)
    assert image.config.cmd == ("sh",)
    assert image.extra["docker_version"] == "20.10.24"
    out = image.to_json()
    assert out["container"] == "abc"
    assert out["config"]["Hostname"] == "" and out["config"]["AttachStdin"] is False
    assert "OnBuild" not in out["config"]  # null is "unset", as Docker's omitempty writes it


def test_with_layer_and_history() -> None:
    image = Image().with_layer(D1, History(created_by="RUN x")).with_history(History(created_by="ENV a=b"))
    assert image.rootfs.diff_ids == (D1,)
    assert [h.empty_layer for h in image.history] == [False, True]


def test_platform_string() -> None:
    assert str(Platform("arm", "linux", variant="v7")) == "linux/arm/v7"
