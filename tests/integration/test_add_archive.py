"""ADD of local archives made by the real `tar` (and compressors): recognised by content,
unpacked with owners, modes and times, never outside the destination."""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybuildkit.errors import BuildError
from pybuildkit.execute.archive import is_archive
from pybuildkit.execute.fileops import CopySpec, apply_copy

from .test_add_support import tree

pytestmark = pytest.mark.integration

FORMATS = [
    ("plain", "app.tar", ["-cf"], None),
    ("gzip", "app.tar.gz", ["-czf"], "gzip"),
    ("bzip2", "app.tbz", ["-cjf"], "bzip2"),
    ("xz", "app.txz", ["-cJf"], "xz"),
    ("zstd", "app.tzst", ["--zstd", "-cf"], "zstd"),
]


def _payload(tmp_path: Path) -> Path:
    src = tmp_path / "payload"
    (src / "bin").mkdir(parents=True)
    (src / "bin/tool").write_text("#!/bin/sh\necho tool\n")
    os.chmod(src / "bin/tool", 0o751)
    (src / "etc").mkdir()
    (src / "etc/conf").write_text("conf")
    os.symlink("../etc/conf", src / "bin/conf-link")
    os.link(src / "etc/conf", src / "etc/conf-hard")
    (src / ".wh.not-a-whiteout").write_text("plain name")
    os.utime(src / "etc/conf", (1_500_000_000, 1_500_000_000))
    return src


def _make_archive(tmp_path: Path, name: str, flags: list[str], tool: str | None) -> Path:
    if tool and not shutil.which(tool):
        pytest.skip(f"{tool} is not installed")
    src = _payload(tmp_path)
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    subprocess.run(
        ["tar", *flags, os.fspath(ctx / name), "--owner=1234", "--group=55", "--numeric-owner", "-C", os.fspath(src), "."],
        check=True,
    )
    return ctx


EXPECTED = {
    "opt/app": "dir",
    "opt/app/bin": "dir",
    "opt/app/bin/tool": "#!/bin/sh\necho tool\n",
    "opt/app/bin/conf-link": "link:../etc/conf",
    "opt/app/etc": "dir",
    "opt/app/etc/conf": "conf",
    "opt/app/etc/conf-hard": "conf",
    "opt/app/.wh.not-a-whiteout": "plain name",
}


@pytest.mark.parametrize(("name", "flags", "tool"), [f[1:] for f in FORMATS], ids=[f[0] for f in FORMATS])
def test_add_unpacks_local_archive(tmp_path: Path, name: str, flags: list[str], tool: str | None) -> None:
    ctx = _make_archive(tmp_path, name, flags, tool)
    assert is_archive(ctx / name)
    root = tmp_path / "root"
    root.mkdir()
    result = apply_copy(CopySpec(dest="/opt/app", sources=(name,), source_root=ctx, is_add=True), dest_root=root)
    assert tree(root) == {"opt": "dir", **EXPECTED}
    assert stat.S_IMODE(os.stat(root / "opt/app/bin/tool").st_mode) == 0o751
    assert os.stat(root / "opt/app/etc/conf").st_mtime == 1_500_000_000
    assert os.stat(root / "opt/app/etc/conf").st_ino == os.stat(root / "opt/app/etc/conf-hard").st_ino
    if os.geteuid() == 0:
        assert (os.stat(root / "opt/app/etc/conf").st_uid, os.stat(root / "opt/app/etc/conf").st_gid) == (1234, 55)
    assert "opt/app/etc/conf" in result.written


def test_add_without_unpack_copies_the_file(tmp_path: Path) -> None:
    ctx = _make_archive(tmp_path, "app.tar.gz", ["-czf"], "gzip")
    root = tmp_path / "root"
    root.mkdir()
    apply_copy(CopySpec(dest="/d/", sources=("app.tar.gz",), source_root=ctx, is_add=True, unpack=False), dest_root=root)
    assert (root / "d/app.tar.gz").read_bytes() == (ctx / "app.tar.gz").read_bytes()


def test_copy_never_unpacks(tmp_path: Path) -> None:
    ctx = _make_archive(tmp_path, "app.tar", ["-cf"], None)
    root = tmp_path / "root"
    root.mkdir()
    apply_copy(CopySpec(dest="/d/", sources=("app.tar",), source_root=ctx), dest_root=root)
    assert (root / "d/app.tar").is_file()


@pytest.mark.parametrize("content", [b"just text, named like an archive", b"\x1f\x8bnot really gzip", b""])
def test_archive_detected_by_content_not_name(tmp_path: Path, content: bytes) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "fake.tar.gz").write_bytes(content)
    root = tmp_path / "root"
    root.mkdir()
    apply_copy(CopySpec(dest="/d/", sources=("fake.tar.gz",), source_root=ctx, is_add=True), dest_root=root)
    assert (root / "d/fake.tar.gz").read_bytes() == content


def _hostile(entries: list[tuple[str, str, str]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, value in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = value.encode()
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tf.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = value
                tf.addfile(info)
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = value
                tf.addfile(info)
    return buf.getvalue()


HOSTILE = [
    ("absolute-name", [("/abs.txt", "file", "x")], {"x/abs.txt": "x"}),
    ("dot-slash-dotdot-inside", [("a/../b.txt", "file", "x")], {"x/b.txt": "x"}),
    ("link-to-root-then-write", [("root", "symlink", "/"), ("root/escaped", "file", "x")], {"x/root": "link:/", "x/escaped": "x"}),
    ("link-climbing-then-write", [("up", "symlink", "../../../../.."), ("up/escaped", "file", "x")], {"x/up": "link:../../../../..", "x/escaped": "x"}),
]


@pytest.mark.parametrize(("entries", "expected"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_archive_stays_inside(tmp_path: Path, entries, expected) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "evil.tar").write_bytes(_hostile(entries))
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    apply_copy(CopySpec(dest="/x/", sources=("evil.tar",), source_root=ctx, is_add=True), dest_root=root)
    got = tree(root)
    got.pop("x")
    assert got == expected
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "escaped").exists()


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([("../../escape.txt", "file", "x")], "outside the extraction directory"),
        ([("h", "hardlink", "../../../etc/passwd")], "outside the extraction directory"),
        ([("h", "hardlink", "missing")], "target not found"),
    ],
    ids=["dotdot-name", "hardlink-out", "hardlink-missing"],
)
def test_hostile_archive_refused(tmp_path: Path, entries, message: str) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "evil.tar").write_bytes(_hostile(entries))
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(BuildError, match=message):
        apply_copy(CopySpec(dest="/x/", sources=("evil.tar",), source_root=ctx, is_add=True), dest_root=root)
    assert not (tmp_path / "escape.txt").exists()


def test_truncated_archive_is_a_build_error(tmp_path: Path) -> None:
    ctx = _make_archive(tmp_path, "app.tar.gz", ["-czf"], "gzip")
    data = (ctx / "app.tar.gz").read_bytes()
    (ctx / "app.tar.gz").write_bytes(data[: len(data) // 2])
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(BuildError, match="cannot unpack app.tar.gz"):
        apply_copy(CopySpec(dest="/x/", sources=("app.tar.gz",), source_root=ctx, is_add=True), dest_root=root)


_NAMES = st.lists(st.sampled_from(["a", "b", "..", ".", "", "/", "c.wh", "link"]), min_size=1, max_size=4).map("/".join)
_ENTRY = st.tuples(_NAMES, st.sampled_from(["file", "dir", "symlink", "hardlink"]), _NAMES)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(_ENTRY, min_size=1, max_size=6))
def test_random_hostile_archives_never_escape(tmp_path_factory, entries) -> None:
    """Whatever the names and link targets, an ADD archive writes only below its destination
    directory, and a bad one fails with a BuildError (never another exception)."""
    base = tmp_path_factory.mktemp("fuzz")
    ctx, root = base / "ctx", base / "root"
    ctx.mkdir()
    (root / "x").mkdir(parents=True)
    (root / "sentinel").write_text("keep")
    (ctx / "evil.tar").write_bytes(_hostile([(n, k, v or "t") for n, k, v in entries]))
    try:
        apply_copy(CopySpec(dest="/x/", sources=("evil.tar",), source_root=ctx, is_add=True), dest_root=root)
    except BuildError:
        pass
    assert sorted(p.name for p in base.iterdir()) == ["ctx", "root"]
    assert sorted(p.name for p in root.iterdir()) == ["sentinel", "x"]
    assert (root / "sentinel").read_text() == "keep"
