"""ADD of git sources: a repository made with `git init`, served over git's dumb HTTP protocol
by http.server on 127.0.0.1 (and read as a local path through `fetch_git(allow_local=True)`),
checked out at `#ref:subdir`, with and without --keep-git-dir and --checksum."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pybuildkit.errors import BuildError
from pybuildkit.execute.fetch import fetch_git, parse_git_source
from pybuildkit.execute.fileops import CopySpec, apply_copy

from .test_add_support import serve, tree

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]

_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
}


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=_ENV, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> dict[str, object]:
    """A bare repository `repo.git` with: main (2 commits), branch `feature`, tag `v1` on the
    first commit; files at the root and in `sub/`."""
    base = tmp_path_factory.mktemp("git")
    work = base / "work"
    work.mkdir()
    _git(work, "init", "-q", "-b", "main")
    (work / "README").write_text("v1\n")
    (work / "sub").mkdir()
    (work / "sub/data.txt").write_text("data v1\n")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "first")
    first = _git(work, "rev-parse", "HEAD")
    _git(work, "tag", "v1")
    (work / "README").write_text("v2\n")
    _git(work, "commit", "-q", "-am", "second")
    second = _git(work, "rev-parse", "HEAD")
    _git(work, "checkout", "-q", "-b", "feature")
    (work / "sub/feature.txt").write_text("feature\n")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "feature")
    _git(work, "checkout", "-q", "main")
    site = base / "site"
    site.mkdir()
    _git(base, "clone", "-q", "--bare", os.fspath(work), os.fspath(site / "repo.git"))
    _git(site / "repo.git", "update-server-info")
    return {"site": site, "bare": site / "repo.git", "first": first, "second": second}


CASES = [
    ("default-branch", "", {"README": "v2\n", "sub": "dir", "sub/data.txt": "data v1\n"}),
    ("branch", "#feature", {"README": "v2\n", "sub": "dir", "sub/data.txt": "data v1\n", "sub/feature.txt": "feature\n"}),
    ("tag", "#v1", {"README": "v1\n", "sub": "dir", "sub/data.txt": "data v1\n"}),
    ("subdir", "#feature:sub", {"data.txt": "data v1\n", "feature.txt": "feature\n"}),
    ("default-ref-subdir", "#:sub", {"data.txt": "data v1\n"}),
]


@pytest.mark.parametrize(("fragment", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_add_git_over_http(tmp_path: Path, repo, fragment: str, expected: dict[str, str]) -> None:
    root = tmp_path / "root"
    root.mkdir()
    with serve(repo["site"]) as base:
        apply_copy(CopySpec(dest="/src/", sources=(f"{base}/repo.git{fragment}",), is_add=True), dest_root=root)
    got = tree(root / "src")
    assert got == expected
    if os.geteuid() == 0:
        assert os.stat(root / "src" / next(iter(expected))).st_uid == 0


def test_add_git_commit_and_checksum(tmp_path: Path, repo) -> None:
    root = tmp_path / "root"
    root.mkdir()
    with serve(repo["site"]) as base:
        source = f"{base}/repo.git#{repo['first']}"
        apply_copy(CopySpec(dest="/src", sources=(source,), is_add=True, checksum=str(repo["first"])), dest_root=root)
        assert (root / "src/README").read_text() == "v1\n"
        with pytest.raises(BuildError, match="expected checksum"):
            apply_copy(CopySpec(dest="/other", sources=(source,), is_add=True, checksum=str(repo["second"])), dest_root=root)
    assert not (root / "other").exists()


def test_keep_git_dir(tmp_path: Path, repo) -> None:
    into = tmp_path / "scratch"
    into.mkdir()
    checkout = fetch_git(f"{repo['bare']}#v1", into, keep_git_dir=True, allow_local=True)
    assert (checkout / ".git").is_dir()
    head = subprocess.run(["git", "-C", os.fspath(checkout), "rev-parse", "HEAD"], capture_output=True, text=True, env=_ENV)
    assert head.stdout.strip() == repo["first"]
    plain = tmp_path / "plain"
    plain.mkdir()
    assert not (fetch_git(f"{repo['bare']}#v1", plain, allow_local=True) / ".git").exists()


def test_local_paths_need_allow_local(tmp_path: Path, repo) -> None:
    with pytest.raises(BuildError, match="not a remote git repository"):
        fetch_git(os.fspath(repo["bare"]), tmp_path)


@pytest.mark.parametrize(
    ("source", "message"),
    [("#nope", "not found"), ("#main:missing-dir", "subdirectory 'missing-dir' not found")],
    ids=["unknown-ref", "unknown-subdir"],
)
def test_git_errors(tmp_path: Path, repo, source: str, message: str) -> None:
    with pytest.raises(BuildError, match=message):
        fetch_git(f"{repo['bare']}{source}", tmp_path, allow_local=True)


def test_unreachable_repository(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="git clone failed"):
        fetch_git("http://127.0.0.1:9/none.git", tmp_path, timeout=30)


@pytest.mark.parametrize(
    ("source", "remote", "ref", "subdir"),
    [
        ("https://h/r.git", "https://h/r.git", "", ""),
        ("https://h/r.git#v1:a/b", "https://h/r.git", "v1", "a/b"),
        ("git@github.com:o/r.git#main", "git@github.com:o/r.git", "main", ""),
        ("ssh://git@h/r.git#:docs", "ssh://git@h/r.git", "", "docs"),
    ],
)
def test_parse_git_source(source: str, remote: str, ref: str, subdir: str) -> None:
    parsed = parse_git_source(source)
    assert (parsed.remote, parsed.ref, parsed.subdir) == (remote, ref, subdir)


@pytest.mark.parametrize(("fragment", "which"), [("", "second"), ("#main", "second"), ("#v1", "first"), ("#v1:sub", "first")])
def test_remote_identity_is_the_commit(repo, fragment: str, which: str) -> None:
    from pybuildkit.execute.fileops import remote_identities

    with serve(repo["site"]) as base:
        source = f"{base}/repo.git{fragment}"
        assert remote_identities(CopySpec(dest="/d/", sources=(source,), is_add=True)) == {source: f"git:{repo[which]}"}


@pytest.mark.parametrize("fragment", ["#main", "#v1", ""])
def test_smart_transport_clones_shallow(tmp_path: Path, repo, fragment: str) -> None:
    """Over a smart transport only the ref's commit is fetched; dumb HTTP falls back to a full clone."""
    checkout = fetch_git(f"file://{repo['bare']}{fragment}", tmp_path, keep_git_dir=True, allow_local=True)
    answer = subprocess.run(
        ["git", "-C", os.fspath(checkout), "rev-parse", "--is-shallow-repository"], capture_output=True, text=True, env=_ENV
    )
    assert answer.stdout.strip() == "true"


def test_commit_id_ref_uses_a_full_clone(tmp_path: Path, repo) -> None:
    checkout = fetch_git(f"file://{repo['bare']}#{repo['first']}", tmp_path, allow_local=True)
    assert (checkout / "README").read_text() == "v1\n"
