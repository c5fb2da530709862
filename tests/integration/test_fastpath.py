"""The no-change fast path answers only when nothing the build reads has changed.

Every case changes one input and checks that the ordinary build runs (and runs what it must),
then that the next unchanged build is answered by the fast path with the same image."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pybuildkit.store import Store
from tests.support.images import install_busybox

pytestmark = [pytest.mark.integration, pytest.mark.skipif(os.geteuid() != 0, reason="builds with RUN need root")]

DOCKERFILE = "FROM busybox\nARG V=1\nCOPY app.txt /app.txt\nRUN cat /app.txt\n"
FAST = "no input changed since the last build"


@pytest.fixture()
def setup(tmp_path: Path) -> tuple[Path, Path]:
    root, context = tmp_path / "store", tmp_path / "context"
    with Store(root) as store:
        install_busybox(store, tmp_path)
    context.mkdir()
    (context / "Dockerfile").write_text(DOCKERFILE)
    (context / "app.txt").write_text("one\n")
    return root, context


def build(root: Path, context: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    time.sleep(0.15)  # past the racy window: a file changed this recently is never trusted by stat
    done = subprocess.run(
        [sys.executable, "-m", "pybuildkit.cli.main", "--root", str(root), "build", "--progress=plain", *extra, str(context)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done


def image(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout.strip().removeprefix("Image ")


def test_fast_path_only_when_nothing_changed(setup: tuple[Path, Path]) -> None:
    root, context = setup
    first = build(root, context, "-t", "fp:1")
    again = build(root, context, "-t", "fp:1")
    assert FAST in again.stderr and image(again) == image(first)

    (context / "app.txt").write_text("two\n")
    changed = build(root, context, "-t", "fp:1")
    assert FAST not in changed.stderr and "RUN cat /app.txt" in changed.stderr and "two" in changed.stderr
    assert FAST in build(root, context, "-t", "fp:1").stderr

    with_arg = build(root, context, "-t", "fp:1", "--build-arg", "V=2")
    assert FAST not in with_arg.stderr and "cache miss" in with_arg.stderr

    (context / "Dockerfile").write_text(DOCKERFILE + "ENV X=1\n")
    assert FAST not in build(root, context, "-t", "fp:1").stderr
    assert FAST in build(root, context, "-t", "fp:1").stderr

    assert FAST not in build(root, context, "-t", "fp:1", "--no-cache").stderr


def test_store_changes_defeat_the_fast_path(setup: tuple[Path, Path]) -> None:
    root, context = setup
    first = build(root, context, "-t", "fp:1")
    subprocess.run([sys.executable, "-m", "pybuildkit.cli.main", "--root", str(root), "rmi", "fp:1"], check=True, capture_output=True)
    rebuilt = build(root, context, "-t", "fp:1")
    assert FAST not in rebuilt.stderr and image(rebuilt) == image(first)
    # Re-pointing the base image's tag changes what FROM means.
    with Store(root) as store:
        store.tag(image(first), "busybox:latest")
    assert FAST not in build(root, context, "-t", "fp:1").stderr


def test_new_or_removed_context_files_defeat_the_fast_path(setup: tuple[Path, Path]) -> None:
    root, context = setup
    first = build(root, context)
    (context / "new.txt").write_text("x")
    added = build(root, context)
    assert FAST not in added.stderr
    assert FAST in build(root, context).stderr
    (context / "new.txt").unlink()
    # Back to the first build's inputs and store: its recorded result is exactly right again.
    back = build(root, context)
    assert image(back) == image(first)
    (context / "app.txt").write_text("three\n")
    assert FAST not in build(root, context).stderr


IGNORE_CASES = [
    # (ignore files written, file changed, fast path kept)
    pytest.param({".dockerignore": "logs\n"}, "logs/app.log", True, id="file-in-excluded-dir"),
    pytest.param({".dockerignore": "*.tmp\n"}, "x.tmp", True, id="excluded-file-beside-kept-ones"),
    pytest.param({".dockerignore": "logs\n!logs/keep.txt\n"}, "logs/app.log", True, id="excluded-file-in-descended-dir"),
    pytest.param({".dockerignore": "logs\n!logs/keep.txt\n"}, "logs/keep.txt", False, id="exception-re-includes"),
    pytest.param({".dockerignore": "other\n", "Dockerfile.dockerignore": "logs\n"}, "logs/app.log", True, id="dockerfile-ignore-wins"),
    pytest.param({".dockerignore": "logs\n", "Dockerfile.dockerignore": "other\n"}, "logs/app.log", False, id="context-ignore-replaced"),
]


@pytest.mark.parametrize(("ignores", "changed", "kept"), IGNORE_CASES)
def test_ignored_file_changes_keep_the_fast_path(
    setup: tuple[Path, Path], ignores: dict[str, str], changed: str, kept: bool
) -> None:
    root, context = setup
    (context / "Dockerfile").write_text("FROM busybox\nCOPY . /ctx/\n")
    (context / "logs").mkdir()
    for name in ("logs/app.log", "logs/keep.txt", "x.tmp"):
        (context / name).write_text("before\n")
    for name, text in ignores.items():
        (context / name).write_text(text)
    first = build(root, context, "-t", "fp:ign")
    assert FAST in build(root, context, "-t", "fp:ign").stderr

    (context / changed).write_text("after\n")
    again = build(root, context, "-t", "fp:ign")
    assert (FAST in again.stderr) is kept, again.stderr
    assert (image(again) == image(first)) is kept
