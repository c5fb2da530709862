"""Multi-stage builds with COPY: incremental rebuilds, and every output read back by real tools."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from pybuildkit.api import parse_output
from tests.support.build import Builder, builder, requires_root  # noqa: F401 - fixture

pytestmark = [pytest.mark.integration, requires_root]

MULTI_STAGE = """\
FROM busybox AS builder
WORKDIR /build
RUN echo toolchain > /build/tool
COPY src/ /build/src/
RUN find src -type f | sort | xargs cat > /build/all.txt
RUN wc -l < /build/all.txt > /build/count

FROM busybox
COPY --from=builder /build/all.txt /build/count /app/
COPY config.txt /app/config.txt
RUN ls /app > /app/listing
CMD ["cat", "/app/all.txt"]
"""

SOURCES = {f"src/pkg{i}/mod{j}.py": f"# module {i}.{j}\n" for i in range(3) for j in range(4)} | {"config.txt": "debug=0\n"}


def test_multi_stage_incremental(builder: Builder, tmp_path: Path) -> None:
    builder.write(SOURCES)
    first = builder.build(MULTI_STAGE)
    assert len(first.ran) == 8
    again = builder.build(MULTI_STAGE)
    assert again.ran == [] and again.result.digest == first.result.digest

    builder.write({"src/pkg1/mod2.py": "# changed\n"})
    changed = builder.build(MULTI_STAGE)
    assert changed.ran == [
        "COPY src/ /build/src/",
        "RUN find src -type f | sort | xargs cat > /build/all.txt",
        "RUN wc -l < /build/all.txt > /build/count",
        "COPY --from=builder /build/all.txt /build/count /app/",
        "COPY config.txt /app/config.txt",
        "RUN ls /app > /app/listing",
    ]
    assert changed.reasons()["COPY src/ /build/src/"] == "file src/pkg1/mod2.py changed (under COPY src/)"

    builder.write({"config.txt": "debug=1\n"})
    config_only = builder.build(MULTI_STAGE)
    assert config_only.ran == ["COPY config.txt /app/config.txt", "RUN ls /app > /app/listing"]


def test_ignored_file_changes_keep_every_step_cached(builder: Builder) -> None:
    builder.write({"app.txt": "app\n", "notes.log": "one\n", ".dockerignore": "*.log\n"})
    dockerfile = "FROM busybox\nCOPY . /ctx/\nRUN ls /ctx\n"
    builder.build(dockerfile)
    builder.write({"notes.log": "two\n"})
    assert builder.build(dockerfile).ran == []


def _check_layout(layout: Path, manifest_digest: str) -> None:
    """Every blob's digest and size, and every layer's diff_id, as a strict OCI checker does."""
    index = json.loads((layout / "index.json").read_text())
    assert json.loads((layout / "oci-layout").read_text())["imageLayoutVersion"] == "1.0.0"

    def blob(desc: dict) -> bytes:
        data = (layout / "blobs" / "sha256" / desc["digest"].split(":")[1]).read_bytes()
        assert len(data) == desc["size"] and "sha256:" + hashlib.sha256(data).hexdigest() == desc["digest"]
        return data

    (entry,) = index["manifests"]
    assert entry["digest"] == manifest_digest
    manifest = json.loads(blob(entry))
    config = json.loads(blob(manifest["config"]))
    diff_ids = [("sha256:" + hashlib.sha256(gzip.decompress(blob(layer))).hexdigest()) for layer in manifest["layers"]]
    assert diff_ids == config["rootfs"]["diff_ids"]
    non_empty = [h for h in config["history"] if not h.get("empty_layer")]
    assert len(non_empty) == len(diff_ids)


def test_oci_layout_passes_umoci_and_skopeo(builder: Builder, tmp_path: Path) -> None:
    builder.write(SOURCES)
    layout = tmp_path / "layout"
    built = builder.build(MULTI_STAGE, outputs=[parse_output(f"type=oci,dest={layout},tar=false,name=v1")])
    _check_layout(layout, built.result.digest)
    inspect = json.loads(subprocess.run(["skopeo", "inspect", f"oci:{layout}:v1"], check=True, capture_output=True, text=True).stdout)
    assert inspect["Digest"] == built.result.digest
    bundle = tmp_path / "bundle"
    subprocess.run(["umoci", "unpack", "--image", f"{layout}:v1", str(bundle)], check=True, capture_output=True)
    assert (bundle / "rootfs/app/all.txt").read_text().count("module") == 12
    assert json.loads((bundle / "config.json").read_text())["process"]["args"] == ["cat", "/app/all.txt"]


def test_oci_archive_and_docker_archive_are_accepted(builder: Builder, tmp_path: Path) -> None:
    builder.write(SOURCES)
    oci_tar, docker_tar = tmp_path / "image.oci.tar", tmp_path / "image.docker.tar"
    built = builder.build(
        MULTI_STAGE,
        tags=["demo:1"],
        outputs=[parse_output(f"type=oci,dest={oci_tar}"), parse_output(f"type=docker,dest={docker_tar}")],
    )
    for ref in (f"oci-archive:{oci_tar}", f"docker-archive:{docker_tar}"):
        out = json.loads(subprocess.run(["skopeo", "inspect", ref], check=True, capture_output=True, text=True).stdout)
        assert len(out["Layers"]) == 4
    with tarfile.open(docker_tar) as tf:
        manifest = json.load(tf.extractfile("manifest.json"))
    assert manifest[0]["RepoTags"] == ["demo:1"]
    assert built.result.tags


def test_local_and_tar_outputs_hold_the_rootfs(builder: Builder, tmp_path: Path) -> None:
    builder.write(SOURCES)
    local, rootfs_tar = tmp_path / "local", tmp_path / "rootfs.tar"
    builder.build(MULTI_STAGE, outputs=[parse_output(f"type=local,dest={local}"), parse_output(f"type=tar,dest={rootfs_tar}")])
    assert (local / "app/config.txt").read_text() == "debug=0\n"
    assert (local / "bin/busybox").is_file()
    with tarfile.open(rootfs_tar) as tf:
        assert "app/listing" in tf.getnames()


def test_squash_folds_the_added_layers(builder: Builder, tmp_path: Path) -> None:
    dockerfile = "FROM busybox\nRUN echo a > /a\nRUN echo b > /b && rm /a\nRUN rm /bin/vi\n"
    layout = tmp_path / "layout"
    built = builder.build(dockerfile, squash=True, outputs=[parse_output(f"type=oci,dest={layout},tar=false,name=sq")])
    _check_layout(layout, built.result.digest)
    bundle = tmp_path / "bundle"
    subprocess.run(["umoci", "unpack", "--image", f"{layout}:sq", str(bundle)], check=True, capture_output=True)
    assert (bundle / "rootfs/b").exists() and not (bundle / "rootfs/a").exists() and not (bundle / "rootfs/bin/vi").exists()
    manifest = json.loads((layout / "index.json").read_text())["manifests"][0]
    data = json.loads((layout / "blobs/sha256" / manifest["digest"].split(":")[1]).read_text())
    assert len(data["layers"]) == 2


def test_metadata_and_iidfile(builder: Builder, tmp_path: Path) -> None:
    meta, iid = tmp_path / "meta.json", tmp_path / "iid"
    built = builder.build("FROM busybox\nRUN true\n", tags=["m:1"], metadata_file=meta, iidfile=iid)
    data = json.loads(meta.read_text())
    assert data["containerimage.digest"] == built.result.digest
    assert data["containerimage.config.digest"] == iid.read_text() == built.result.config_digest
    assert data["image.name"] == "m:1"
    assert [(s["name"], s["cached"]) for s in data["steps"]] == [("[stage-0 1/2] FROM busybox", True), ("[stage-0 2/2] RUN true", False)]


def test_add_url_is_cached_until_the_server_content_changes(builder: Builder, tmp_path: Path) -> None:
    import functools
    import http.server
    import os
    import threading
    import time

    served = tmp_path / "served"
    served.mkdir()
    (served / "data.txt").write_text("v1\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/data.txt"
        dockerfile = f"FROM busybox\nADD {url} /data.txt\nRUN cat /data.txt\n"
        assert len(builder.build(dockerfile).ran) == 2
        assert builder.build(dockerfile).ran == []
        (served / "data.txt").write_text("v2\n")
        later = time.time() + 5
        os.utime(served / "data.txt", (later, later))
        changed = builder.build(dockerfile)
        assert len(changed.ran) == 2 and "v2" in changed.log
    finally:
        server.shutdown()
        server.server_close()


def test_copy_link_with_chown_by_name(builder: Builder) -> None:
    builder.write({"f.txt": "x\n"})
    built = builder.build("FROM busybox\nCOPY --link --chown=tester:tester f.txt /home/tester/f.txt\nRUN stat -c '%U:%G' /home/tester/f.txt\n")
    assert "tester:tester" in built.log
