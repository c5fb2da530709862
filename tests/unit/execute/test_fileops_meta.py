"""What COPY keeps and changes: owners (context 0:0, stage kept, --chown), modes and --chmod,
mtimes, xattrs, hardlinks, heredoc sources, and the digests of what was selected and written."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from pybuildkit.errors import BuildError
from pybuildkit.execute.fileops import CopySpec, apply_copy, source_digest

from .test_fileops_support import make_tree

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")

PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n"
GROUP = "root:x:0:\nstaff:x:50:app\napp:x:1001:\n"


def _context(tmp_path: Path) -> Path:
    ctx = make_tree(tmp_path / "ctx", {"f.txt": "F", "dir/g.txt": "G", "dir/sub/h.txt": "H"})
    os.chmod(ctx / "f.txt", 0o640)
    os.chmod(ctx / "dir", 0o750)
    os.utime(ctx / "f.txt", (1_000_000, 1_000_000))
    os.utime(ctx / "dir/sub", (2_000_000, 2_000_000))
    return ctx


def _dest(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "root", {"etc/passwd": PASSWD, "etc/group": GROUP})


def _owner(path: Path) -> tuple[int, int]:
    st = os.lstat(path)
    return st.st_uid, st.st_gid


CHOWN = [
    ("1000", (1000, 1000)),
    ("1000:50", (1000, 50)),
    ("app", (1000, 1001)),
    ("app:staff", (1000, 50)),
    ("app:7", (1000, 7)),
    ("0:staff", (0, 50)),
]


@needs_root
@pytest.mark.parametrize(("chown", "ids"), CHOWN)
def test_chown_resolved_in_destination(tmp_path: Path, chown: str, ids: tuple[int, int]) -> None:
    ctx, root = _context(tmp_path), _dest(tmp_path)
    apply_copy(CopySpec(dest="/new/deep/", sources=("f.txt", "dir"), source_root=ctx, chown=chown), dest_root=root)
    for rel in ("new", "new/deep", "new/deep/f.txt", "new/deep/g.txt", "new/deep/sub", "new/deep/sub/h.txt"):
        assert _owner(root / rel) == ids, rel


@pytest.mark.parametrize(("chown", "message"), [("nobody", "unable to find user nobody"), ("app:wheel", "unable to find group wheel"), (":staff", "invalid --chown")])
def test_chown_unknown_names(tmp_path: Path, chown: str, message: str) -> None:
    ctx, root = _context(tmp_path), _dest(tmp_path)
    with pytest.raises(BuildError, match=message):
        apply_copy(CopySpec(dest="/d/", sources=("f.txt",), source_root=ctx, chown=chown), dest_root=root)
    assert not (root / "d").exists()


@needs_root
def test_chown_names_from_user_root(tmp_path: Path) -> None:
    """--link copies into an empty layer: names come from the stage's root, passed as user_root."""
    ctx, users = _context(tmp_path), _dest(tmp_path)
    empty = tmp_path / "layer"
    empty.mkdir()
    apply_copy(CopySpec(dest="/f", sources=("f.txt",), source_root=ctx, chown="app", user_root=users, link=True), dest_root=empty)
    assert _owner(empty / "f") == (1000, 1001)


@needs_root
def test_context_owner_is_root_stage_owner_kept(tmp_path: Path) -> None:
    ctx, root = _context(tmp_path), _dest(tmp_path)
    os.chown(ctx / "f.txt", 1234, 5678)
    apply_copy(CopySpec(dest="/c", sources=("f.txt",), source_root=ctx), dest_root=root)
    apply_copy(CopySpec(dest="/s", sources=("f.txt",), source_root=ctx, from_context=False), dest_root=root)
    assert _owner(root / "c") == (0, 0)
    assert _owner(root / "s") == (1234, 5678)


def test_modes_and_mtimes_kept(tmp_path: Path) -> None:
    ctx, root = _context(tmp_path), _dest(tmp_path)
    apply_copy(CopySpec(dest="/d/", sources=("f.txt", "dir"), source_root=ctx), dest_root=root)
    assert stat.S_IMODE(os.stat(root / "d/f.txt").st_mode) == 0o640
    assert os.stat(root / "d/f.txt").st_mtime == 1_000_000
    assert os.stat(root / "d/sub").st_mtime == 2_000_000
    # The destination directory itself is made, not copied: 0755 (a dir source's mode is not its).
    assert stat.S_IMODE(os.stat(root / "d").st_mode) == 0o755


@pytest.mark.parametrize(
    ("chmod", "file_mode", "dir_mode"),
    [("0755", 0o755, 0o755), ("644", 0o644, 0o644), ("a+X", 0o640, 0o751), ("go-rwx,u+x", 0o700, 0o700)],
)
def test_chmod_files_and_dirs(tmp_path: Path, chmod: str, file_mode: int, dir_mode: int) -> None:
    ctx, root = _context(tmp_path), _dest(tmp_path)
    os.chmod(ctx / "dir/sub", 0o750)
    (ctx / "dir/sub/h.txt").unlink()
    os.symlink("g.txt", ctx / "dir/link")
    apply_copy(CopySpec(dest="/d/", sources=("f.txt", "dir"), source_root=ctx, chmod=chmod), dest_root=root)
    assert stat.S_IMODE(os.stat(root / "d/f.txt").st_mode) == file_mode
    assert stat.S_IMODE(os.stat(root / "d/sub").st_mode) == dir_mode
    assert os.readlink(root / "d/link") == "g.txt"


def test_timestamp_replaces_mtimes(tmp_path: Path) -> None:
    ctx, root = _context(tmp_path), _dest(tmp_path)
    apply_copy(CopySpec(dest="/new/d/", sources=("f.txt", "dir"), source_root=ctx, timestamp=86400), dest_root=root)
    for rel in ("new", "new/d", "new/d/f.txt", "new/d/g.txt", "new/d/sub", "new/d/sub/h.txt"):
        assert os.lstat(root / rel).st_mtime == 86400, rel


def test_hardlinks_preserved(tmp_path: Path) -> None:
    ctx = make_tree(tmp_path / "ctx", {"d/a": "same", "d/other": "x"})
    os.link(ctx / "d/a", ctx / "d/b")
    root = _dest(tmp_path)
    apply_copy(CopySpec(dest="/out/", sources=("d",), source_root=ctx), dest_root=root)
    assert os.stat(root / "out/a").st_ino == os.stat(root / "out/b").st_ino
    assert os.stat(root / "out/a").st_ino != os.stat(root / "out/other").st_ino


def test_xattrs_copied(tmp_path: Path) -> None:
    ctx = make_tree(tmp_path / "ctx", {"f": "x"})
    try:
        os.setxattr(ctx / "f", "user.pbk", b"value")
    except OSError:
        pytest.skip("the temp filesystem does not take user xattrs")
    root = _dest(tmp_path)
    apply_copy(CopySpec(dest="/f", sources=("f",), source_root=ctx), dest_root=root)
    assert os.getxattr(root / "f", "user.pbk") == b"value"


def test_heredoc_sources(tmp_path: Path) -> None:
    root = _dest(tmp_path)
    apply_copy(CopySpec(dest="/dest/single", inline=(("EOF", "single file\n"),)), dest_root=root)
    apply_copy(CopySpec(dest="/dest/double/", inline=(("EOF", "first\n"), ("EOF2", "second\n"))), dest_root=root)
    apply_copy(CopySpec(dest="/dest/all", inline=(("EOF", "x"),), chmod="777"), dest_root=root)
    assert (root / "dest/single").read_text() == "single file\n"
    assert (root / "dest/double/EOF").read_text() == "first\n"
    assert (root / "dest/double/EOF2").read_text() == "second\n"
    assert stat.S_IMODE(os.stat(root / "dest/single").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(root / "dest/all").st_mode) == 0o777


def test_result_lists_and_digests_what_was_written(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    first, second = make_tree(tmp_path / "r1", {}), make_tree(tmp_path / "r2", {})
    spec = CopySpec(dest="/d/", sources=("f.txt", "dir"), source_root=ctx)
    one = apply_copy(spec, dest_root=first)
    os.utime(ctx / "f.txt", (5, 5))  # times never enter the digest
    two = apply_copy(spec, dest_root=second)
    assert one.written == ("d", "d/f.txt", "d/g.txt", "d/sub", "d/sub/h.txt")
    assert one.digest == two.digest
    three = apply_copy(CopySpec(dest="/d/", sources=("f.txt", "dir"), source_root=ctx, chmod="600"), dest_root=make_tree(tmp_path / "r3", {}))
    assert three.digest != one.digest


def test_source_digest(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    spec = CopySpec(dest="/d/", sources=("f.txt", "dir"), source_root=ctx)
    digest, manifest = source_digest(spec)
    assert set(manifest) == {"f.txt", "dir", "dir/g.txt", "dir/sub", "dir/sub/h.txt"}
    os.utime(ctx / "dir/g.txt", (7, 7))
    assert source_digest(spec)[0] == digest
    (ctx / "dir/g.txt").write_text("changed")
    changed, manifest2 = source_digest(spec)
    assert changed != digest
    assert {k for k in manifest if manifest[k] != manifest2[k]} == {"dir/g.txt"}
    excluded = source_digest(CopySpec(dest="/d/", sources=("f.txt", "dir"), source_root=ctx, excludes=("sub",)))[1]
    assert "dir/sub/h.txt" not in excluded
    inline = source_digest(CopySpec(dest="/d/", inline=(("EOF", "a"),)))
    assert inline[1] == {"<<EOF": "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}


def test_source_digest_uses_memo(tmp_path: Path) -> None:
    from pybuildkit.context import Checksummer, DigestMemo

    ctx = _context(tmp_path)
    for name in ("f.txt", "dir/g.txt", "dir/sub/h.txt"):
        os.utime(ctx / name, (1_000_000, 1_000_000))
    time.sleep(0.06)  # files touched within the memo's racy window are never recorded
    memo_path = tmp_path / "memo.sqlite"
    spec = CopySpec(dest="/d/", sources=("f.txt", "dir"), source_root=ctx, memo_path=memo_path)
    cold = source_digest(spec)
    warm = Checksummer("full", DigestMemo(memo_path))
    assert source_digest(spec, checksummer=warm) == cold
    assert warm.reads == 0 and warm.hits >= 3
