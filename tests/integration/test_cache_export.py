"""`--cache-to`/`--cache-from`: a fresh, empty store that imports an exported cache rebuilds an
unchanged Dockerfile with nothing executed; cache-mount content travels too; re-exports into one
directory do not grow it. Builds are real (namespaces, overlay); tests count steps, never time."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from pybuildkit.cache.spec import parse_cache_spec
from pybuildkit.store import Store
from tests.support.build import Builder, builder, requires_root  # noqa: F401 - fixture
from tests.support.images import install_busybox
from tests.support.tools import need

pytestmark = [pytest.mark.integration, requires_root]

MULTI_STAGE = """\
FROM busybox AS deps
RUN echo deps > /deps.txt
FROM busybox AS app
COPY app.txt /app.txt
RUN cat /app.txt > /copied.txt
COPY --from=deps /deps.txt /deps.txt
RUN echo done > /done.txt
"""


def fresh_builder(tmp_path: Path, context: Path, name: str) -> Builder:
    """Another store with only the busybox base image, building the same context."""
    root = tmp_path / name
    with Store(root) as store:
        install_busybox(store, tmp_path)
    return Builder(root, context)


def to(dest: Path, extra: str = "") -> tuple:
    return (parse_cache_spec(f"type=local,dest={dest}{extra}", export=True),)


def src(path: Path) -> tuple:
    return (parse_cache_spec(f"type=local,src={path}", export=False),)


def layout_blobs(dest: Path) -> set[str]:
    return set(os.listdir(dest / "blobs" / "sha256"))


@pytest.mark.parametrize(("mode", "reruns"), [("max", []), ("min", ["RUN echo deps > /deps.txt"])])
def test_fresh_store_rebuilds_from_imported_cache(builder: Builder, tmp_path: Path, mode: str, reruns: list[str]) -> None:
    builder.write({"app.txt": "hello\n"})
    first = builder.build(MULTI_STAGE, cache_to=to(tmp_path / "cache", f",mode={mode}"))
    assert len(first.ran) == 5
    fresh = fresh_builder(tmp_path, builder.context, "fresh")
    again = fresh.build(MULTI_STAGE, cache_from=src(tmp_path / "cache"))
    # mode=max carries every stage; mode=min only the final image's chain, so the deps stage re-runs
    # (its output is then keyed the same, and the final stage's COPY --from still hits).
    assert again.ran == reruns
    assert "RUN echo done > /done.txt" in again.cached
    assert again.result.digest == first.result.digest


def test_export_is_an_oci_layout_that_skopeo_reads(builder: Builder, tmp_path: Path) -> None:
    builder.build("FROM busybox\nRUN echo a > /a\n", cache_to=to(tmp_path / "cache"))
    index = json.loads((tmp_path / "cache" / "index.json").read_text())
    (entry,) = index["manifests"]
    assert entry["artifactType"] == "application/vnd.pybuildkit.cache.v1+json"
    need("skopeo")
    out = subprocess.run(
        ["skopeo", "inspect", "--raw", f"oci:{tmp_path / 'cache'}:latest"], capture_output=True, text=True, check=True
    )
    manifest = json.loads(out.stdout)
    assert manifest["config"]["mediaType"] == "application/vnd.pybuildkit.cache.config.v1+json"
    assert len(manifest["layers"]) == 1


def test_reexport_replaces_the_entry_and_collects_old_blobs(builder: Builder, tmp_path: Path) -> None:
    dest = tmp_path / "cache"
    for n in range(3):
        builder.write({"app.txt": f"version {n}\n"})
        builder.build("FROM busybox\nCOPY app.txt /app.txt\n", cache_to=to(dest))
        # One manifest, one config, one layer: older versions' blobs are gone.
        assert len(layout_blobs(dest)) == 3
    index = json.loads((dest / "index.json").read_text())
    assert len(index["manifests"]) == 1


def test_tags_share_one_directory(builder: Builder, tmp_path: Path) -> None:
    dest = tmp_path / "cache"
    builder.build("FROM busybox\nRUN echo one > /x\n", cache_to=to(dest, ",tag=one"))
    builder.build("FROM busybox\nRUN echo two > /x\n", cache_to=to(dest, ",tag=two"))
    assert len(json.loads((dest / "index.json").read_text())["manifests"]) == 2
    fresh = fresh_builder(tmp_path, builder.context, "fresh")
    built = fresh.build("FROM busybox\nRUN echo one > /x\n", cache_from=(parse_cache_spec(f"type=local,src={dest},tag=one", export=False),))
    assert built.ran == []


def test_cache_mounts_travel_with_the_cache(builder: Builder, tmp_path: Path) -> None:
    writes = "FROM busybox\nRUN --mount=type=cache,target=/var/cache/app echo warm > /var/cache/app/state\n"
    builder.build(writes, cache_to=to(tmp_path / "cache", ",cache-mounts=true"))
    fresh = fresh_builder(tmp_path, builder.context, "fresh")
    reads = "FROM busybox\nRUN --mount=type=cache,target=/var/cache/app cat /var/cache/app/state\n"
    built = fresh.build(reads, cache_from=src(tmp_path / "cache"))
    assert built.ran == ["RUN --mount=type=cache,target=/var/cache/app cat /var/cache/app/state"]
    assert "warm" in built.log


def test_cache_mounts_stay_home_unless_asked(builder: Builder, tmp_path: Path) -> None:
    writes = "FROM busybox\nRUN --mount=type=cache,target=/c echo warm > /c/state\n"
    builder.build(writes, cache_to=to(tmp_path / "cache"))
    fresh = fresh_builder(tmp_path, builder.context, "fresh")
    built = fresh.build("FROM busybox\nRUN --mount=type=cache,target=/c cat /c/state || echo cold\n", cache_from=src(tmp_path / "cache"))
    assert "cold" in built.log


def test_missing_cache_source_is_a_warning_not_a_failure(builder: Builder, tmp_path: Path) -> None:
    from pybuildkit.execute import events as ev

    built = builder.build("FROM busybox\nRUN echo a\n", cache_from=src(tmp_path / "nowhere"))
    assert built.ran == ["RUN echo a"]
    warnings = [e.message for e in built.events if isinstance(e, ev.Warning)]
    assert any("nowhere" in w and "no index.json" in w for w in warnings)


def test_inline_cache_in_an_oci_layout_of_the_image(builder: Builder, tmp_path: Path) -> None:
    from pybuildkit.execute.request import parse_output

    builder.write({"app.txt": "hello\n"})
    dockerfile = "FROM busybox\nCOPY app.txt /app.txt\nRUN cp /app.txt /copied\n"
    plain = builder.build(dockerfile)
    inline = builder.build(
        dockerfile,
        cache_to=(parse_cache_spec("type=inline", export=True),),
        outputs=(parse_output(f"type=oci,dest={tmp_path / 'image'},tar=false"),),
    )
    # The records ride in a manifest annotation: the image ID (config) is the plain build's.
    assert inline.result.config_digest == plain.result.config_digest
    fresh = fresh_builder(tmp_path, builder.context, "fresh")
    again = fresh.build(dockerfile, cache_from=src(tmp_path / "image"))
    assert again.ran == []


def test_cli_build_flags(builder: Builder, tmp_path: Path) -> None:
    import sys

    (builder.context / "Dockerfile").write_text("FROM busybox\nRUN echo a > /a\n")

    def pybuild(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "pybuildkit.cli.main", "--root", str(root), "build", "--progress", "plain", *args, str(builder.context)]
        return subprocess.run(cmd, capture_output=True, text=True)

    made = pybuild(builder.root, "--cache-to", f"type=local,dest={tmp_path / 'c'},mode=max")
    assert made.returncode == 0, made.stderr
    fresh = fresh_builder(tmp_path, builder.context, "fresh")
    used = pybuild(fresh.root, "--cache-from", f"type=local,src={tmp_path / 'c'}", "--metadata-file", str(tmp_path / "meta.json"))
    assert used.returncode == 0, used.stderr
    assert json.loads((tmp_path / "meta.json").read_text())["report"]["steps_run"] == 0
    bad = pybuild(builder.root, "--cache-to", "type=s3,bucket=x")
    assert bad.returncode == 2 and "unknown cache type" in bad.stderr and "Traceback" not in bad.stderr


def test_cli_cache_export_carries_cache_mounts_it_saw_used(builder: Builder, tmp_path: Path) -> None:
    import sys

    builder.build("FROM busybox\nRUN --mount=type=cache,id=pkgs,target=/p echo warm > /p/state\n")

    def pybuild(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pybuildkit.cli.main", "--root", str(root), "cache", *args], capture_output=True, text=True)

    out = pybuild(builder.root, "export", f"type=local,dest={tmp_path / 'c'},cache-mounts=true")
    assert out.returncode == 0 and "1 cache mounts" in out.stdout, out.stderr
    fresh = fresh_builder(tmp_path, builder.context, "fresh")
    back = pybuild(fresh.root, "import", f"type=local,src={tmp_path / 'c'}")
    assert back.returncode == 0 and "1 cache mounts restored" in back.stdout, back.stderr
    built = fresh.build("FROM busybox\nRUN --mount=type=cache,id=pkgs,target=/elsewhere cat /elsewhere/state\n")
    assert "warm" in built.log


def test_ci_pattern_same_dir_from_and_to(builder: Builder, tmp_path: Path) -> None:
    """Each CI run imports the previous run's cache and exports its own into the same dir."""
    cache = tmp_path / "cache"
    both = {"cache_from": src(cache), "cache_to": to(cache, ",mode=max")}
    builder.write({"app.txt": "one\n"})
    builder.build(MULTI_STAGE, **both)  # the first run warns (nothing to import) and exports
    for name in ("second", "third"):
        runner = fresh_builder(tmp_path, builder.context, name)
        built = runner.build(MULTI_STAGE, **both)
        assert built.ran == []
    assert len(json.loads((cache / "index.json").read_text())["manifests"]) == 1
