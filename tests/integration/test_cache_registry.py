"""`--cache-to/--cache-from type=registry`: the cache artifact pushed to a real distribution
registry (Debian's docker-registry on 127.0.0.1) and pulled into a fresh, empty store."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("httpx", reason="httpx is not installed (pybuildkit.registry needs it)")

from pybuildkit.cache.spec import parse_cache_spec  # noqa: E402
from pybuildkit.execute import events as ev  # noqa: E402
from pybuildkit.store import Store  # noqa: E402
from tests.support.build import Builder, builder, requires_root  # noqa: E402,F401 - fixture
from tests.support.images import install_busybox  # noqa: E402
from tests.support.registry import REGISTRY_BIN, RegistryServer, registry  # noqa: E402,F401 - fixture

pytestmark = [
    pytest.mark.integration,
    requires_root,
    pytest.mark.skipif(not REGISTRY_BIN.exists(), reason="docker-registry is not installed"),
]

DOCKERFILE = """\
FROM busybox
COPY app.txt /app.txt
RUN --mount=type=cache,target=/cache cat /app.txt > /cache/seen && cp /app.txt /copied
"""


def test_registry_cache_round_trip(builder: Builder, tmp_path: Path, registry: RegistryServer) -> None:
    ref = f"{registry.host}/app/cache:main"
    builder.write({"app.txt": "hello\n"})
    first = builder.build(DOCKERFILE, cache_to=(parse_cache_spec(f"type=registry,ref={ref},mode=max,cache-mounts=true", export=True),))
    assert len(first.ran) == 2
    if shutil.which("skopeo"):
        raw = subprocess.run(
            ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"], capture_output=True, text=True, check=True
        )
        assert json.loads(raw.stdout)["artifactType"] == "application/vnd.pybuildkit.cache.v1+json"
    root = tmp_path / "fresh"
    with Store(root) as store:
        install_busybox(store, tmp_path)
    fresh = Builder(root, builder.context)
    again = fresh.build(DOCKERFILE, cache_from=(parse_cache_spec(f"type=registry,ref={ref}", export=False),))
    assert again.ran == []
    assert again.result.digest == first.result.digest
    # The cache mount came along: a changed RUN sees what the first build left in it.
    reads = fresh.build("FROM busybox\nRUN --mount=type=cache,target=/cache cat /cache/seen\n")
    assert "hello" in reads.log


def test_second_export_uploads_no_blob(builder: Builder, registry: RegistryServer) -> None:
    ref = f"{registry.host}/app/cache:main"
    builder.write({"app.txt": "hello\n"})
    spec = (parse_cache_spec(f"type=registry,ref={ref}", export=True),)
    builder.build(DOCKERFILE, cache_to=spec)
    before = len(registry.requests("PUT", "/blobs/uploads/"))
    builder.build(DOCKERFILE, cache_to=spec)
    assert len(registry.requests("PUT", "/blobs/uploads/")) == before


def test_missing_registry_tag_is_a_warning(builder: Builder, registry: RegistryServer) -> None:
    built = builder.build("FROM busybox\nRUN echo a\n", cache_from=(parse_cache_spec(f"type=registry,ref={registry.host}/none:x", export=False),))
    assert built.ran == ["RUN echo a"]
    assert any(isinstance(e, ev.Warning) and "cache import" in e.message for e in built.events)


def test_inline_cache_travels_with_the_pushed_image(builder: Builder, tmp_path: Path, registry: RegistryServer) -> None:
    from pybuildkit.execute.request import parse_output

    name = f"{registry.host}/app/image:v1"
    builder.write({"app.txt": "hello\n"})
    dockerfile = "FROM busybox\nCOPY app.txt /app.txt\nRUN cp /app.txt /copied\n"
    first = builder.build(
        dockerfile,
        cache_to=(parse_cache_spec("type=inline", export=True),),
        outputs=(parse_output(f"type=image,name={name},push=true"),),
    )
    root = tmp_path / "fresh"
    with Store(root) as store:
        install_busybox(store, tmp_path)
    again = Builder(root, builder.context).build(dockerfile, cache_from=(parse_cache_spec(f"type=registry,ref={name}", export=False),))
    assert again.ran == []
    # Same layers and config; only the manifest annotation (asked for only by the first) differs.
    assert again.result.config_digest == first.result.config_digest
