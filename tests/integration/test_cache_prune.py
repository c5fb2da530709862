"""`pybuild cache du|prune` and the store's own size budget, on real builds: least recently used
records go first, images and containers keep what they need, and a pruned step really re-runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pybuildkit.cache.maintenance import disk_usage, enforce_budget, prune
from pybuildkit.snapshot import Snapshots
from pybuildkit.store import Store
from tests.support.build import Builder, builder, requires_root  # noqa: F401 - fixture

pytestmark = [pytest.mark.integration, requires_root]


def two_stage(name: str) -> str:
    """The builder stage's layer (64 KiB incompressible beside the small file the final stage
    copies) is the cache's alone: no image holds it."""
    return f"FROM busybox AS b\nRUN head -c 65536 /dev/urandom > /junk && echo {name} > /{name}\nFROM busybox\nCOPY --from=b /{name} /{name}\n"


def snapshot_count(root: Path) -> int:
    return len(Snapshots(root / "fs").list())


def test_least_recently_used_records_go_first(builder: Builder) -> None:
    builder.build(two_stage("x"))
    builder.build(two_stage("y"))
    builder.build(two_stage("x"))  # x's records are used again: y's are now the oldest
    with Store(builder.root) as store:
        before = disk_usage(store)
        assert before.records == 4 and before.record_bytes >= 2 * 65536
        report = prune(store, keep_storage=before.record_bytes - 1)
        assert report.records_removed >= 1 and report.blobs_removed >= 1
        assert disk_usage(store).record_bytes < before.record_bytes
    assert builder.build(two_stage("x")).ran == []
    assert builder.build(two_stage("y")).ran == ["RUN head -c 65536 /dev/urandom > /junk && echo y > /y"]


def test_prune_all_drops_records_mounts_and_cache_only_snapshots(builder: Builder) -> None:
    dockerfile = "FROM busybox AS b\nRUN --mount=type=cache,target=/c echo hi > /c/f && echo x > /x && echo junk > /junk\nFROM busybox\nCOPY --from=b /x /x\n"
    first = builder.build(dockerfile)
    with Store(builder.root) as store:
        usage = disk_usage(store)
        assert (usage.records, usage.mounts) == (2, 1) and usage.snapshots >= 3
        report = prune(store, all=True)
        assert (report.records_removed, report.mounts_removed) == (2, 1)
        assert report.snapshots_removed >= 1
        after = disk_usage(store)
        assert (after.records, after.mounts) == (0, 0)
        # The image's blobs and snapshots stay: it can still be run and exported.
        assert store.check().ok
        image = store.image(first.result.digest)
        assert all(store.has_blob(layer.digest) for layer in image.layers)
    again = builder.build(dockerfile)
    assert len(again.ran) == 2


@pytest.mark.parametrize(("until", "removed"), [(3600.0, 0), (0.0, 1)])
def test_until_filter(builder: Builder, until: float, removed: int) -> None:
    builder.build("FROM busybox\nRUN echo a > /a\n")
    with Store(builder.root) as store:
        assert prune(store, unused_for=until).records_removed == removed


@pytest.mark.parametrize("container", [True, False])
def test_a_container_keeps_its_snapshots_even_when_its_image_is_gone(builder: Builder, container: bool) -> None:
    built = builder.build("FROM busybox\nRUN echo a > /a\n")
    with Store(builder.root) as store:
        store.remove_image(built.result.digest, force=True)
        if container:
            home = builder.root / "containers" / ("c" * 64)
            home.mkdir(parents=True)
            (home / "config.json").write_text(json.dumps({"id": "c" * 64, "image_digest": built.result.digest}))
        before = snapshot_count(builder.root)
        prune(store, all=True)
        after = snapshot_count(builder.root)
    if container:
        assert after == before
    else:
        assert after == before - 1  # the RUN's snapshot; busybox (an image) keeps its own


def test_budget_from_the_environment(builder: Builder, monkeypatch: pytest.MonkeyPatch) -> None:
    builder.build(two_stage("x"))
    with Store(builder.root) as store:
        monkeypatch.setenv("PYBUILDKIT_GC_KEEP_STORAGE", "1GB")
        assert enforce_budget(store) is None
        monkeypatch.setenv("PYBUILDKIT_GC_KEEP_STORAGE", "1k")
        report = enforce_budget(store)
        assert report is not None and report.records_removed >= 1
        assert disk_usage(store).record_bytes <= 1024
        monkeypatch.setenv("PYBUILDKIT_GC_KEEP_STORAGE", "0")
        assert enforce_budget(store) is None


def pybuild(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pybuildkit.cli.main", "--root", str(root), *args], capture_output=True, text=True)


def test_cli_du_prune_export_import(builder: Builder, tmp_path: Path) -> None:
    builder.build("FROM busybox\nRUN echo a > /a\n")
    du = pybuild(builder.root, "cache", "du", "--bytes")
    assert du.returncode == 0, du.stderr
    assert "cache records" in du.stdout and "snapshots" in du.stdout
    exported = pybuild(builder.root, "cache", "export", f"type=local,dest={tmp_path / 'c'}")
    assert exported.returncode == 0 and "exported 1 cache records" in exported.stdout
    pruned = pybuild(builder.root, "cache", "prune", "--all")
    assert pruned.returncode == 0 and "removed 1 cache records" in pruned.stdout
    imported = pybuild(builder.root, "cache", "import", f"type=local,src={tmp_path / 'c'}")
    assert imported.returncode == 0 and "imported 1 cache records" in imported.stdout
    assert builder.build("FROM busybox\nRUN echo a > /a\n").ran == []
    bad = pybuild(builder.root, "cache", "prune", "--filter", "label=x")
    assert bad.returncode == 2 and "unsupported prune filter" in bad.stderr and "Traceback" not in bad.stderr


def test_a_build_keeps_the_budget_by_itself(builder: Builder, monkeypatch: pytest.MonkeyPatch) -> None:
    from pybuildkit.execute import events as ev

    monkeypatch.setenv("PYBUILDKIT_GC_KEEP_STORAGE", "100k")
    builder.build(two_stage("x"))
    built = builder.build(two_stage("y"))  # two 64 KiB cache-only layers do not fit in 100 KiB
    assert any(isinstance(e, ev.Warning) and "size budget" in e.message for e in built.events)
    with Store(builder.root) as store:
        assert disk_usage(store).record_bytes <= 100 * 1024
    assert builder.build(two_stage("y")).ran == []  # the newest build's records were kept
