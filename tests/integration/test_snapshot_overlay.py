"""Snapshots on real overlayfs mounts: diffs become layers that real tools read back.

Needs root and overlayfs; everything is real — mount(2), the kernel's whiteouts, GNU tar.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from pybuildkit.errors import ImageError
from pybuildkit.snapshot import Snapshots, apply_layer, overlay_supported, write_tree_layer

pytestmark = pytest.mark.integration

SDE = 1_600_000_000


@pytest.fixture
def overlay_root(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        pytest.skip("overlay mounts need root")
    if not overlay_supported(tmp_path):
        pytest.skip("overlayfs cannot be mounted here")
    return tmp_path


def make_base(root: Path) -> None:
    (root / "etc").mkdir()
    (root / "etc" / "keep.conf").write_bytes(b"keep")
    (root / "etc" / "mod.conf").write_bytes(b"old contents")
    (root / "etc" / "gone.conf").write_bytes(b"delete me")
    (root / "opt" / "app" / "lib").mkdir(parents=True)
    (root / "opt" / "app" / "lib" / "old.so").write_bytes(b"\x7fELF old")
    (root / "opt" / "app" / "README").write_bytes(b"readme")
    (root / "var" / "cache").mkdir(parents=True)
    (root / "var" / "cache" / "blob").write_bytes(os.urandom(10_000))
    (root / "tofile").mkdir()
    (root / "tofile" / "inner").write_bytes(b"i")
    (root / "todir").write_bytes(b"was a file")
    os.symlink("etc/keep.conf", root / "link")
    os.utime(root / "etc" / "keep.conf", (1000, 1000))


def change(m: Path) -> None:
    """Create, modify, delete, replace a dir (opaque), and swap file/dir types."""
    (m / "etc" / "new.conf").write_bytes(b"created")
    (m / "etc" / "mod.conf").write_bytes(b"new contents!")
    (m / "etc" / "gone.conf").unlink()
    shutil.rmtree(m / "opt" / "app")
    (m / "opt" / "app").mkdir()
    (m / "opt" / "app" / "fresh").write_bytes(b"fresh")
    shutil.rmtree(m / "tofile")
    (m / "tofile").write_bytes(b"now a file")
    (m / "todir").unlink()
    (m / "todir").mkdir()
    (m / "todir" / "child").write_bytes(b"c")
    shutil.rmtree(m / "var" / "cache")
    os.chmod(m / "etc" / "keep.conf", 0o600)
    os.link(m / "etc" / "new.conf", m / "etc" / "new-hardlink")
    os.symlink("/etc/new.conf", m / "abs-link")


EXPECTED = [
    ("abs-link", tarfile.SYMTYPE),
    ("etc", tarfile.DIRTYPE),
    (".wh.gone.conf", tarfile.REGTYPE),
    ("keep.conf", tarfile.REGTYPE),
    ("mod.conf", tarfile.REGTYPE),
    ("new-hardlink", tarfile.REGTYPE),
    ("new.conf", tarfile.LNKTYPE),
    ("opt", tarfile.DIRTYPE),
    ("app", tarfile.DIRTYPE),
    (".wh..wh..opq", tarfile.REGTYPE),
    ("fresh", tarfile.REGTYPE),
    ("todir", tarfile.DIRTYPE),
    (".wh..wh..opq", tarfile.REGTYPE),
    ("child", tarfile.REGTYPE),
    ("tofile", tarfile.REGTYPE),
    ("var", tarfile.DIRTYPE),
    (".wh.cache", tarfile.REGTYPE),
]


def tree_of(path: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for p in sorted(path.rglob("*")):
        st = p.lstat()
        if stat.S_ISLNK(st.st_mode):
            what: object = ("link", os.readlink(p))
        elif stat.S_ISDIR(st.st_mode):
            what = ("dir", stat.S_IMODE(st.st_mode))
        else:
            what = ("file", stat.S_IMODE(st.st_mode), p.read_bytes())
        out[str(p.relative_to(path))] = what
    return out


def base_snapshot(root: Path, backend: str, src: Path | None = None, name: str = "") -> tuple[Snapshots, str, Path]:
    src = src or root / "base-src"
    if not src.exists():
        src.mkdir()
        make_base(src)
    snaps = Snapshots(root / f"snaps-{backend}{name}", backend=backend)
    buf = io.BytesIO()
    info = write_tree_layer(src, buf, compression="zstd")
    buf.seek(0)
    snap = snaps.add_layer(None, info.diff_id, buf)
    return snaps, snap.chain_id, src


def diff_layer(root: Path, backend: str, compression: str, act: Callable[[Path], None] = change) -> tuple[bytes, object, dict]:
    snaps, chain, _ = base_snapshot(root, backend)
    assert snaps.backend == backend
    with snaps.active(snaps.lowerdirs(chain)) as view:
        act(view.merged)
        merged = tree_of(view.merged)
        out = io.BytesIO()
        info = view.write_layer(out, compression=compression, source_date_epoch=SDE)
    return out.getvalue(), info, merged


def test_overlay_diff_becomes_oci_whiteouts_and_reads_back(overlay_root: Path) -> None:
    data, info, merged = diff_layer(overlay_root, "overlay", "none")
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        got = [(m.name.rsplit("/", 1)[-1], m.type) for m in tf.getmembers()]
        assert got == EXPECTED
        by = {m.name: m for m in tf.getmembers()}
        assert tf.extractfile("etc/mod.conf").read() == b"new contents!"
        assert by["etc/keep.conf"].mode == 0o600 and by["etc/keep.conf"].mtime == 1000
        assert by["etc/new.conf"].linkname == "etc/new-hardlink"
        assert all(m.mtime <= SDE for m in tf.getmembers())
        assert not any("overlay" in k for m in tf.getmembers() for k in m.pax_headers)

    # Flatten base + diff with our unpacker: the result is exactly what the overlay showed.
    flat = overlay_root / "flat"
    flat.mkdir()
    base = io.BytesIO()
    write_tree_layer(overlay_root / "base-src", base, compression="gzip")
    base.seek(0)
    apply_layer(base, flat)
    apply_layer(io.BytesIO(data), flat, expect_diff_id=info.diff_id)
    assert tree_of(flat) == merged

    # GNU tar reads it too (whiteouts come out as plain files: tar knows nothing of layers).
    layer = overlay_root / "diff.tar"
    layer.write_bytes(data)
    listing = subprocess.run(["tar", "-tvf", str(layer)], check=True, capture_output=True, text=True).stdout
    assert "etc/.wh.gone.conf" in listing and "opt/app/.wh..wh..opq" in listing
    out = overlay_root / "gnu"
    out.mkdir()
    subprocess.run(["tar", "-xf", str(layer), "-C", str(out)], check=True)
    assert (out / "etc" / "mod.conf").read_bytes() == b"new contents!"
    assert os.stat(out / "etc" / "new.conf").st_ino == os.stat(out / "etc" / "new-hardlink").st_ino


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_same_change_twice_gives_identical_layers(overlay_root: Path, compression: str) -> None:
    (overlay_root / "one").mkdir()
    (overlay_root / "two").mkdir()
    first, info1, _ = diff_layer(overlay_root / "one", "overlay", compression)
    second, info2, _ = diff_layer(overlay_root / "two", "overlay", compression)
    assert first == second and info1 == info2
    assert info1.digest == "sha256:" + hashlib.sha256(first).hexdigest()
    path = overlay_root / "layer"
    path.write_bytes(first)
    cmd = ["tar", {"none": "-tv", "gzip": "-tvz", "zstd": "--zstd"}[compression], "-tvf", str(path)]
    listing = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    assert "opt/app/fresh" in listing


def test_copy_fallback_gives_the_same_layer_as_overlay(overlay_root: Path) -> None:
    (overlay_root / "o").mkdir()
    (overlay_root / "c").mkdir()
    over, info_o, merged_o = diff_layer(overlay_root / "o", "overlay", "gzip")
    copy, info_c, merged_c = diff_layer(overlay_root / "c", "copy", "gzip")
    assert merged_o == merged_c
    assert info_o == info_c and over == copy


def test_layers_are_stored_in_overlay_format_and_stack_without_copying(overlay_root: Path) -> None:
    snaps, chain, _ = base_snapshot(overlay_root, "overlay")
    data, info, merged = diff_layer(overlay_root, "overlay", "gzip")
    top = snaps.add_layer(chain, info.diff_id, io.BytesIO(data))
    st = os.lstat(top.path / "etc" / "gone.conf")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    assert os.getxattr(top.path / "opt" / "app", "trusted.overlay.opaque") == b"y"
    lowers = snaps.lowerdirs(top.chain_id)
    assert lowers == [top.path, snaps.get(chain).path]
    with snaps.active(lowers) as view:
        assert tree_of(view.merged) == merged


def test_commit_keeps_the_upper_as_the_next_snapshot(overlay_root: Path) -> None:
    snaps, chain, _ = base_snapshot(overlay_root, "overlay")
    with snaps.active(snaps.lowerdirs(chain)) as view:
        change(view.merged)
        merged = tree_of(view.merged)
        out = io.BytesIO()
        info, snap = snaps.commit(view, chain, out, compression="zstd", source_date_epoch=SDE)
    assert snap.diff_id == info.diff_id and snap.parent == chain
    assert not any((overlay_root / f"snaps-overlay" / "active").iterdir())
    with snaps.active(snaps.lowerdirs(snap.chain_id)) as view:
        assert tree_of(view.merged) == merged
    # The layer written on the way unpacks, elsewhere, to the same view.
    other, other_chain, _ = base_snapshot(overlay_root, "overlay", name="-elsewhere")
    assert other_chain == chain
    out.seek(0)
    again = other.add_layer(chain, info.diff_id, out)
    assert again.chain_id == snap.chain_id
    with other.active(other.lowerdirs(again.chain_id)) as view:
        assert tree_of(view.merged) == merged


def test_ensure_unpacks_each_layer_once_and_checks_diff_ids(overlay_root: Path) -> None:
    blobs = {}
    for i in range(3):
        d = overlay_root / f"l{i}"
        d.mkdir()
        (d / f"f{i}").write_bytes(b"%d" % i)
        buf = io.BytesIO()
        diff_id = write_tree_layer(d, buf, compression="gzip").diff_id
        blobs[diff_id] = buf.getvalue()
    opened: list[str] = []

    def open_layer(diff_id: str) -> io.BytesIO:
        opened.append(diff_id)
        return io.BytesIO(blobs[diff_id])

    diff_ids = list(blobs)
    top = Snapshots(overlay_root / "s").ensure(diff_ids, open_layer)
    again = Snapshots(overlay_root / "s").ensure(diff_ids, open_layer)
    assert top == again and opened == diff_ids
    with pytest.raises(ImageError, match="diff_id"):
        Snapshots(overlay_root / "s").add_layer(top, "sha256:" + "0" * 64, io.BytesIO(blobs[diff_ids[0]]))
    assert not any((overlay_root / "s" / "tmp").iterdir())
    assert len(list((overlay_root / "s" / "snapshots").iterdir())) == 3


@pytest.mark.parametrize("max_lowers", [500, 8])
def test_deep_stacks_with_long_paths_mount(overlay_root: Path, max_lowers: int) -> None:
    """60 layers under a long root overflow mount(2)'s one page of options; max_lowers=8 stacks (8 groups of <=8)."""
    root = overlay_root / ("deep-" + "x" * 120)
    snaps = Snapshots(root, backend="overlay", max_lowers=max_lowers)
    parent = None
    for i in range(60):
        d = overlay_root / f"src{i}"
        d.mkdir()
        (d / f"f{i}").write_bytes(b"x")
        (d / "top").write_bytes(b"%d" % i)
        buf = io.BytesIO()
        info = write_tree_layer(d, buf, compression="none")
        buf.seek(0)
        parent = snaps.add_layer(parent, info.diff_id, buf).chain_id
        shutil.rmtree(d)
    lowers = snaps.lowerdirs(parent)
    assert sum(len(os.fspath(p)) + 1 for p in lowers) > 4096
    with snaps.active(lowers) as view:
        assert (view.merged / "top").read_bytes() == b"59"
        assert len(os.listdir(view.merged)) == 61
        (view.merged / "new").write_bytes(b"n")
        names = [e.path for e in view.entries()]
    assert names == ["new"]


def test_gnu_tar_made_layer_unpacks_like_the_tree(overlay_root: Path) -> None:
    src = overlay_root / "src"
    src.mkdir()
    make_base(src)
    os.mknod(src / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    os.chmod(src / "etc" / "keep.conf", 0o4755)
    layer = overlay_root / "gnu.tar.gz"
    subprocess.run(["tar", "--format=posix", "--xattrs", "-czf", str(layer), "-C", str(src), "."], check=True)
    dest = overlay_root / "dest"
    dest.mkdir()
    with open(layer, "rb") as f:
        apply_layer(f, dest)
    assert tree_of(dest) == tree_of(src)
    st = os.lstat(dest / "null")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)


def test_cleanup_after_a_crash_unmounts_and_clears(overlay_root: Path) -> None:
    snaps, chain, _ = base_snapshot(overlay_root, "overlay")
    crashed = snaps.active(snaps.lowerdirs(chain))
    view = crashed.__enter__()  # a build that never got to clean up
    (view.merged / "half").write_bytes(b"written")
    (snaps.root / "tmp" / "unpack-leftover").mkdir()
    assert os.path.ismount(view.merged)
    assert Snapshots(snaps.root).cleanup() == 2
    assert not os.path.ismount(view.merged)
    assert os.listdir(snaps.root / "active") == [] and os.listdir(snaps.root / "tmp") == []
    crashed.__exit__(None, None, None)  # the late exit of the old view does not fail
    assert [s.chain_id for s in snaps.list()] == [chain]
    assert snaps.remove(chain) and snaps.get(chain) is None and not snaps.remove(chain)
