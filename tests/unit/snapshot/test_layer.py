"""Layers from directory trees: deterministic bytes, honest digests, faithful members."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest
import zstandard

from pybuildkit.errors import ImageError
from pybuildkit.snapshot.entries import Entry, walk_tree
from pybuildkit.snapshot.layer import MEDIA_TYPES, write_entries, write_layer_file, write_tree_layer

COMPRESSIONS = ["none", "gzip", "zstd"]


def decompress(data: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return gzip.decompress(data)
    if compression == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
    return data


def members(tar_bytes: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tf:
        return tf.getmembers()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "b" / "c").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"hello")
    (root / "b" / "c" / "deep").write_bytes(b"x" * 5000)
    (root / "b.txt").write_bytes(b"")
    (root / "big").write_bytes(os.urandom(3 << 20))
    os.symlink("a.txt", root / "link")
    os.link(root / "a.txt", root / "z-hard")
    os.chmod(root / "a.txt", 0o4751)
    os.mkfifo(root / "fifo")
    return root


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_digests_are_of_the_bytes_written(tree: Path, compression: str) -> None:
    out = io.BytesIO()
    info = write_tree_layer(tree, out, compression=compression)
    data = out.getvalue()
    assert info.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert info.diff_id == "sha256:" + hashlib.sha256(decompress(data, compression)).hexdigest()
    assert info.size == len(data)
    assert info.media_type == MEDIA_TYPES[compression]


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_same_tree_same_bytes(tree: Path, compression: str) -> None:
    first, second = io.BytesIO(), io.BytesIO()
    a = write_tree_layer(tree, first, compression=compression)
    os.chmod(tree / "b.txt", 0o644)  # ctime churn must not matter
    b = write_tree_layer(tree, second, compression=compression)
    assert a == b and first.getvalue() == second.getvalue()


def test_gzip_wrapper_has_no_name_and_no_time(tree: Path) -> None:
    out = io.BytesIO()
    write_tree_layer(tree, out, compression="gzip")
    head = out.getvalue()[:10]
    assert head[:3] == b"\x1f\x8b\x08" and head[3] == 0  # no FNAME, no FEXTRA
    assert head[4:8] == b"\0\0\0\0"


def test_members_sorted_parents_first_with_kinds_kept(tree: Path) -> None:
    out = io.BytesIO()
    write_tree_layer(tree, out, compression="none")
    got = members(out.getvalue())
    names = [m.name for m in got]
    assert names == ["a.txt", "b", "b/c", "b/c/deep", "b.txt", "big", "fifo", "link", "z-hard"]
    by = {m.name: m for m in got}
    assert by["a.txt"].mode == 0o4751 and by["a.txt"].isreg()
    assert by["b"].isdir() and by["link"].issym() and by["link"].linkname == "a.txt"
    assert by["z-hard"].islnk() and by["z-hard"].linkname == "a.txt"
    assert by["fifo"].isfifo()
    assert all(m.uname == "" and m.gname == "" for m in got)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tf:
        assert tf.extractfile("big").read() == (tree / "big").read_bytes()


def test_source_date_epoch_clamps_only_newer_times(tree: Path) -> None:
    os.utime(tree / "a.txt", (100, 100))
    out = io.BytesIO()
    write_tree_layer(tree, out, compression="none", source_date_epoch=1000)
    got = {m.name: m.mtime for m in members(out.getvalue())}
    assert got["a.txt"] == 100
    assert got["b.txt"] == 1000


def test_xattrs_are_pax_records_but_overlay_ones_are_not(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    f = root / "f"
    f.write_bytes(b"")
    try:
        os.setxattr(f, "user.kept", b"yes")
        os.setxattr(f, "user.overlay.opaque", b"y")
    except OSError as exc:
        pytest.skip(f"no user xattrs here: {exc}")
    out = io.BytesIO()
    write_tree_layer(root, out, compression="none")
    (m,) = members(out.getvalue())
    assert m.pax_headers.get("SCHILY.xattr.user.kept") == "yes"
    assert not any("overlay" in k for k in m.pax_headers)


@pytest.mark.parametrize(("actual", "claimed"), [(3, 10), (10, 3), (100_000, 200_000), (200_000, 100_000)])
def test_file_that_changed_size_is_cut_or_padded_so_the_tar_stays_valid(tmp_path: Path, actual: int, claimed: int) -> None:
    src = tmp_path / "f"
    content = bytes(range(256)) * (actual // 256 + 1)
    src.write_bytes(content[:actual])
    entry = Entry("f", "file", mode=0o644, size=claimed, source=os.fspath(src))
    out = io.BytesIO()
    write_entries([entry, Entry("after", "dir", mode=0o755)], out, compression="none")
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tf:
        assert tf.extractfile("f").read() == (content[:actual] + bytes(claimed))[:claimed]
        assert tf.getnames() == ["f", "after"]


def test_unknown_compression_is_an_image_error(tree: Path) -> None:
    with pytest.raises(ImageError, match="compression"):
        write_tree_layer(tree, io.BytesIO(), compression="lz4")


def test_layer_file_is_atomic(tree: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out" / "layer.tar.gz"
    dest.parent.mkdir()
    info = write_layer_file(walk_tree(tree), dest)
    assert "sha256:" + hashlib.sha256(dest.read_bytes()).hexdigest() == info.digest

    def broken():
        yield Entry("a", "file", size=1, source=os.fspath(tmp_path / "missing"))

    with pytest.raises(Exception):
        write_layer_file(broken(), tmp_path / "out" / "other")
    assert sorted(p.name for p in dest.parent.iterdir()) == ["layer.tar.gz"]
