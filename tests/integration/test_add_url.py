"""ADD of http(s) URLs against a real http.server on 127.0.0.1: names, mode 0600, Last-Modified,
--checksum good and bad, unpack only when asked, HTTP errors."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from pathlib import Path

import pytest

from pybuildkit.errors import BuildError
from pybuildkit.execute.fileops import CopySpec, apply_copy

from .test_add_support import serve, tree

pytestmark = pytest.mark.integration

BODY = b"downloaded payload\n"
SHA = "sha256:" + hashlib.sha256(BODY).hexdigest()


@pytest.fixture
def site(tmp_path: Path):
    files = tmp_path / "site"
    files.mkdir()
    (files / "file.txt").write_bytes(BODY)
    os.utime(files / "file.txt", (1_600_000_000, 1_600_000_000))
    payload = tmp_path / "payload"
    payload.mkdir()
    (payload / "inside.txt").write_text("from the tarball")
    subprocess.run(["tar", "-czf", os.fspath(files / "bundle.tar.gz"), "-C", os.fspath(payload), "."], check=True)
    with serve(files) as base:
        yield base


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    return root


CASES = [
    ("into-dir", "/file.txt", "/d/", "d/file.txt"),
    ("to-path", "/file.txt", "/d/renamed", "d/renamed"),
    ("content-disposition-when-path-has-no-name", "/?named=file.txt", "/d/", "d/attachment-file.txt"),
    ("query-ignored-for-name", "/file.txt?version=2", "/d/", "d/file.txt"),
]


@pytest.mark.parametrize(("path", "dest", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_add_url(tmp_path: Path, site: str, path: str, dest: str, expected: str) -> None:
    root = _root(tmp_path)
    apply_copy(CopySpec(dest=dest, sources=(site + path,), is_add=True), dest_root=root)
    target = root / expected
    assert target.read_bytes() == BODY
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert os.stat(target).st_mtime == 1_600_000_000


def test_checksum_good(tmp_path: Path, site: str) -> None:
    root = _root(tmp_path)
    apply_copy(CopySpec(dest="/d/", sources=(site + "/file.txt",), is_add=True, checksum=SHA), dest_root=root)
    assert (root / "d/file.txt").read_bytes() == BODY


def test_checksum_mismatch_writes_nothing(tmp_path: Path, site: str) -> None:
    root = _root(tmp_path)
    wrong = "sha256:" + "0" * 64
    with pytest.raises(BuildError, match="digest mismatch"):
        apply_copy(CopySpec(dest="/d/", sources=(site + "/file.txt",), is_add=True, checksum=wrong), dest_root=root)
    assert tree(root) == {}


@pytest.mark.parametrize("checksum", ["sha256:abc", "md5:" + "0" * 32, "nonsense"])
def test_checksum_malformed(tmp_path: Path, site: str, checksum: str) -> None:
    with pytest.raises(BuildError, match="invalid checksum"):
        apply_copy(CopySpec(dest="/d/", sources=(site + "/file.txt",), is_add=True, checksum=checksum), dest_root=_root(tmp_path))


def test_http_error(tmp_path: Path, site: str) -> None:
    root = _root(tmp_path)
    with pytest.raises(BuildError, match="invalid response status 404"):
        apply_copy(CopySpec(dest="/d/", sources=(site + "/missing",), is_add=True), dest_root=root)
    assert tree(root) == {}


def test_unreachable(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="failed to download"):
        apply_copy(CopySpec(dest="/d/", sources=("http://127.0.0.1:9/x",), is_add=True), dest_root=_root(tmp_path))


@pytest.mark.parametrize(("unpack", "expected"), [(None, "d/bundle.tar.gz"), (True, "d/inside.txt")])
def test_remote_archive_unpacked_only_when_asked(tmp_path: Path, site: str, unpack, expected: str) -> None:
    root = _root(tmp_path)
    apply_copy(CopySpec(dest="/d/", sources=(site + "/bundle.tar.gz",), is_add=True, unpack=unpack), dest_root=root)
    assert (root / expected).is_file()


@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
def test_url_with_chown_and_chmod(tmp_path: Path, site: str) -> None:
    root = _root(tmp_path)
    apply_copy(CopySpec(dest="/d/f", sources=(site + "/file.txt",), is_add=True, chown="7:8", chmod="644"), dest_root=root)
    st = os.stat(root / "d/f")
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (7, 8, 0o644)


def test_url_mixed_with_context_files(tmp_path: Path, site: str) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "local.txt").write_text("local")
    root = _root(tmp_path)
    apply_copy(
        CopySpec(dest="/d/", sources=("local.txt", site + "/file.txt"), source_root=ctx, is_add=True), dest_root=root
    )
    assert tree(root) == {"d": "dir", "d/local.txt": "local", "d/file.txt": BODY.decode()}


def test_remote_identity_follows_the_server(tmp_path: Path, site: str) -> None:
    from pybuildkit.execute.fileops import remote_identities

    spec = CopySpec(dest="/d/", sources=(site + "/file.txt",), is_add=True)
    first = remote_identities(spec)[site + "/file.txt"]
    assert first is not None and first == remote_identities(spec)[site + "/file.txt"]
    os.utime(tmp_path / "site/file.txt", (1_700_000_000, 1_700_000_000))
    assert remote_identities(spec)[site + "/file.txt"] != first
    pinned = CopySpec(dest="/d/", sources=(site + "/file.txt",), is_add=True, checksum=SHA)
    assert remote_identities(pinned) == {site + "/file.txt": "checksum:" + SHA}
