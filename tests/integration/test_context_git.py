"""Real git checkouts: the "git" checksum mode must give the same key to the same commit checked
out under another umask or owner, as on a CI runner, while "full" mode sees the difference."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pybuildkit.context.checksum import Checksummer
from pybuildkit.context.dockerignore import PatternMatcher
from pybuildkit.context.walker import select

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]

_GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]


def _run(args: list[str], cwd: Path, umask: int = 0o022) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, preexec_fn=lambda: os.umask(umask))


def _origin(tmp_path: Path) -> Path:
    repo = tmp_path / "origin"
    (repo / "src" / "pkg").mkdir(parents=True)
    (repo / "src" / "pkg" / "mod.py").write_text("print('hi')\n")
    (repo / "tool.sh").write_text("#!/bin/sh\necho tool\n")
    (repo / "tool.sh").chmod(0o755)
    (repo / "README").write_text("readme\n")
    os.symlink("src/pkg/mod.py", repo / "entry.py")
    _run(_GIT + ["init", "-q"], repo)
    _run(_GIT + ["add", "-A"], repo)
    _run(_GIT + ["commit", "-q", "-m", "init"], repo)
    return repo


def _digests(checkout: Path) -> dict[str, str]:
    ignore = PatternMatcher.from_patterns([".git"])
    selection = select(checkout, ["."], ignore=ignore)
    return {mode: Checksummer(mode).selection_digest(selection) for mode in ("full", "git")}  # type: ignore[arg-type]


def test_git_mode_is_stable_across_umask_and_owner(tmp_path: Path) -> None:
    origin = _origin(tmp_path)
    loose = tmp_path / "loose"
    tight = tmp_path / "tight"
    _run(_GIT + ["clone", "-q", str(origin), str(loose)], tmp_path, umask=0o022)
    _run(_GIT + ["clone", "-q", str(origin), str(tight)], tmp_path, umask=0o077)
    assert (tight / "README").stat().st_mode & 0o077 == 0  # the umask really applied
    if os.geteuid() == 0:
        for dirpath, dirnames, filenames in os.walk(tight):
            for name in dirnames + filenames:
                os.lchown(os.path.join(dirpath, name), 4242, 4242)

    a, b = _digests(loose), _digests(tight)
    assert a["git"] == b["git"]
    assert a["full"] != b["full"]


def test_git_mode_sees_a_real_change(tmp_path: Path) -> None:
    origin = _origin(tmp_path)
    checkout = tmp_path / "checkout"
    _run(_GIT + ["clone", "-q", str(origin), str(checkout)], tmp_path)
    before = _digests(checkout)["git"]
    (checkout / "README").chmod(0o755)  # git records the executable bit
    assert _digests(checkout)["git"] != before
