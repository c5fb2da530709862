"""A full disk and an unwritable store: a clear error from the CLI, and nothing half-written.

The full disk is a real 8 MiB tmpfs mounted as the store root; builds that overflow it while
copying context files, while a RUN's layer is written, or while an archive is loaded must exit 1
with `error:` (no traceback), then leave a store that passes a deep check, no ingest temp files and
no scratch dirs; once space is back, the same build succeeds. The unwritable store is a read-only
bind mount (as root) and a user's own store root chmod 0500 (as nobody, via setpriv).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pybuildkit.exporters import export_oci_archive
from pybuildkit.store import Store
from tests.integration.test_crash_kill import mounts_under, scratch_left
from tests.support.build import requires_root
from tests.support.images import install_busybox
from tests.unit.store.imagefactory import make_image

pytestmark = [pytest.mark.integration, requires_root]


def pybuild(root: Path, *args: str, user: bool = False) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "pybuildkit.cli.main", "--root", str(root), *args]
    if user:
        if shutil.which("setpriv") is None:
            pytest.skip("setpriv (util-linux) is not installed")
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
    env = dict(os.environ, HOME="/nonexistent", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)


def assert_clear_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    assert "error" in done.stderr.lower() or (words and all(w in done.stderr for w in words)), done.stderr
    assert "--debug" not in done.stderr, f"an untranslated exception reached the CLI: {done.stderr}"
    for word in words:
        assert word in done.stderr, done.stderr


def assert_nothing_half_written(root: Path) -> None:
    with Store(root) as store:
        report = store.check(deep=True)
    assert report.ok, report.problems
    assert [n for n in os.listdir(root / "ingest")] == [] if (root / "ingest").is_dir() else True
    assert mounts_under(root) == [] and scratch_left(root) == []
    leftovers = [str(p) for p in root.rglob("*.tmp")] + [str(p) for p in root.rglob(".tmp-*")]
    assert leftovers == []


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def small_store(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "store", "8m") as root:
        with Store(root) as store:
            install_busybox(store, tmp_path)
        yield root


CASES = {
    "copy-big-context-file": ("FROM busybox\nCOPY big /big\n", 12 << 20),
    "run-layer-too-big": ("FROM busybox\nRUN head -c 5000000 /dev/urandom > /r1 && cp /r1 /r2 || true\n", 0),
    "run-writes-past-the-end": ("FROM busybox\nRUN head -c 20000000 /dev/urandom > /big\n", 0),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_full_disk_build_is_a_clear_error(small_store: Path, tmp_path: Path, case: str) -> None:
    dockerfile, big = CASES[case]
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(dockerfile)
    (ctx / "big").write_bytes(os.urandom(big))
    done = pybuild(small_store, "build", "-t", "full:1", str(ctx))
    assert_clear_error(done)
    assert_nothing_half_written(small_store)
    with Store(small_store) as store:
        assert not store.has_image("full:1")
        assert store.has_image("busybox")


def test_full_disk_load_is_a_clear_error(small_store: Path, tmp_path: Path) -> None:
    with Store(tmp_path / "origin") as origin:
        make_image(origin, [{"blob.bin": os.urandom(12 << 20)}], tags=("big:1",), compression="none")
        export_oci_archive(origin, "big:1", tmp_path / "big.tar")
    done = pybuild(small_store, "load", "-i", str(tmp_path / "big.tar"))
    assert_clear_error(done)
    assert_nothing_half_written(small_store)


def test_space_back_then_the_build_succeeds(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY big /big\nRUN wc -c < /big > /size\n")
    (ctx / "big").write_bytes(os.urandom(6 << 20))
    with tmpfs(tmp_path / "store", "8m") as root:
        with Store(root) as store:
            install_busybox(store, tmp_path)
        assert_clear_error(pybuild(root, "build", "-t", "grow:1", str(ctx)))
        assert_nothing_half_written(root)
        subprocess.run(["mount", "-o", "remount,size=64m", str(root)], check=True)
        done = pybuild(root, "build", "-t", "grow:1", str(ctx))
        assert done.returncode == 0, done.stderr
        assert_nothing_half_written(root)


@pytest.fixture
def loaded_store(tmp_path: Path) -> Path:
    root = tmp_path / "ro-store"
    with Store(root) as store:
        install_busybox(store, tmp_path)
    return root


@pytest.mark.parametrize(
    "argv",
    [("build", "-t", "ro:1", "CTX"), ("load", "-i", "ARCHIVE"), ("tag", "busybox", "other:1"), ("store", "gc", "--grace", "0")],
    ids=["build", "load", "tag", "gc"],
)
def test_read_only_store_is_a_clear_error(loaded_store: Path, tmp_path: Path, argv: tuple[str, ...]) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN echo hi > /hi\n")
    with Store(tmp_path / "origin") as origin:
        make_image(origin, [{"x": b"x"}], tags=("small:1",))
        export_oci_archive(origin, "small:1", tmp_path / "small.tar")
    argv = tuple({"CTX": str(ctx), "ARCHIVE": str(tmp_path / "small.tar")}.get(a, a) for a in argv)
    subprocess.run(["mount", "--bind", str(loaded_store), str(loaded_store)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(loaded_store)], check=True)
        done = pybuild(loaded_store, *argv)
    finally:
        subprocess.run(["umount", "-l", str(loaded_store)], check=False)
    assert_clear_error(done)
    assert_nothing_half_written(loaded_store)


@pytest.mark.parametrize("argv", [("build", "-t", "ro:1", "CTX"), ("load", "-i", "ARCHIVE"), ("images",)], ids=["build", "load", "images"])
def test_store_made_read_only_by_its_user_is_a_clear_error(tmp_path: Path, argv: tuple[str, ...]) -> None:
    base = Path(tempfile.mkdtemp(prefix="pybuild-unwritable-", dir="/tmp"))  # nobody must reach it
    try:
        os.chmod(base, 0o755)
        root = base / "store"
        with Store(root) as store:
            install_busybox(store, tmp_path)
        ctx = base / "ctx"
        ctx.mkdir()
        (ctx / "Dockerfile").write_text("FROM busybox\nCOPY Dockerfile /d\n")
        with Store(base / "origin") as origin:
            make_image(origin, [{"x": b"x"}], tags=("small:1",))
            export_oci_archive(origin, "small:1", base / "small.tar")
        for path in [base, ctx, *ctx.iterdir(), base / "small.tar"]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        for path in [root, *root.rglob("*")]:  # the user's own store, which the user made read-only
            os.chown(path, 65534, 65534, follow_symlinks=False)
        os.chmod(root, 0o500)
        before = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
        argv = tuple({"CTX": str(ctx), "ARCHIVE": str(base / "small.tar")}.get(a, a) for a in argv)
        done = pybuild(root, *argv, user=True)
        assert_clear_error(done)
        assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == before
        os.chmod(root, 0o755)
        for path in [root, *root.rglob("*")]:
            os.chown(path, 0, 0, follow_symlinks=False)
        assert_nothing_half_written(root)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("kind", ["tar", "oci", "docker", "local"])
def test_full_output_disk_leaves_nothing_partial(tmp_path: Path, kind: str) -> None:
    root = tmp_path / "store"
    with Store(root) as store:
        install_busybox(store, tmp_path)
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN echo hi > /hi\n")
    with tmpfs(tmp_path / "out", "1m") as out:
        (out / "keep").mkdir()  # an earlier local output must survive a failed new one
        dest = out / ("keep" if kind == "local" else f"image.{kind}")
        done = pybuild(root, "build", "-t", "out:1", "--output", f"type={kind},dest={dest}", str(ctx))
        assert_clear_error(done, *(("cannot write",) if kind != "docker" else ()))
        assert sorted(os.listdir(out)) == ["keep"] and os.listdir(out / "keep") == []
    assert_nothing_half_written(root)
