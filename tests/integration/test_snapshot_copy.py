"""The copy backend on its own: materialise, change, diff — the traps of diffing by walking."""

from __future__ import annotations

import io
import os
import shutil
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from pybuildkit.snapshot import Snapshots, diff_entries, flatten, materialize, overlay_supported, write_tree_layer

pytestmark = pytest.mark.integration


@pytest.fixture
def lowers(tmp_path: Path) -> list[Path]:
    """Two overlay-format layer dirs, top first: the top one deletes and hides lower content."""
    if os.geteuid() != 0:
        pytest.skip("overlay-format whiteouts (char 0/0) need root")
    bottom, top = tmp_path / "bottom", tmp_path / "top"
    (bottom / "d" / "sub").mkdir(parents=True)
    (bottom / "d" / "sub" / "x").write_bytes(b"x")
    (bottom / "d" / "y").write_bytes(b"y")
    (bottom / "gone").write_bytes(b"g")
    (bottom / "f").write_bytes(b"same size")
    (bottom / "hidden").mkdir()
    (bottom / "hidden" / "old").write_bytes(b"o")
    top.mkdir()
    os.mknod(top / "gone", stat.S_IFCHR, os.makedev(0, 0))
    (top / "hidden").mkdir()
    os.setxattr(top / "hidden", "trusted.overlay.opaque", b"y")
    (top / "hidden" / "new").write_bytes(b"n")
    return [top, bottom]


def names(root: Path, baseline) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.path for e in diff_entries(root, baseline)]


def test_materialize_applies_whiteouts_and_opaque_dirs(lowers: list[Path], tmp_path: Path) -> None:
    merged = tmp_path / "merged"
    merged.mkdir()
    base = materialize(lowers, merged)
    assert sorted(str(p.relative_to(merged)) for p in merged.rglob("*")) == [
        "d", "d/sub", "d/sub/x", "d/y", "f", "hidden", "hidden/new"]
    assert names(merged, base) == []
    assert not any("overlay" in k for k in os.listxattr(merged / "hidden"))


CHANGES: list[tuple[str, Callable[[Path], None], list[str]]] = [
    ("same-size-rewrite-in-the-same-tick", lambda m: (m / "f").write_bytes(b"SAME SIZE"), ["f"]),
    ("chmod-only", lambda m: os.chmod(m / "d" / "y", 0o600), ["d", "d/y"]),
    ("deep-delete", lambda m: (m / "d" / "sub" / "x").unlink(), ["d", "d/sub", "d/sub/.wh.x"]),
    ("dir-recreated", lambda m: (shutil.rmtree(m / "d"), (m / "d").mkdir()), ["d", "d/.wh..wh..opq"]),
    ("dir-to-file", lambda m: (shutil.rmtree(m / "d"), (m / "d").write_bytes(b"")), ["d"]),
    ("delete-dir", lambda m: shutil.rmtree(m / "d"), [".wh.d"]),
    ("rename", lambda m: os.rename(m / "f", m / "g"), [".wh.f", "g"]),
]


@pytest.mark.parametrize(("act", "expected"), [(a, e) for _, a, e in CHANGES], ids=[n for n, _, _ in CHANGES])
def test_changes_are_found(lowers: list[Path], tmp_path: Path, act: Callable[[Path], None], expected: list[str]) -> None:
    merged = tmp_path / "merged"
    merged.mkdir()
    base = materialize(lowers, merged)
    act(merged)
    assert names(merged, base) == expected


def test_inode_reuse_cannot_hide_a_replaced_dir(lowers: list[Path], tmp_path: Path) -> None:
    """ext4 hands a just-freed inode number to the next mkdir; identity must not rest on it."""
    merged = tmp_path / "merged"
    merged.mkdir()
    base = materialize(lowers, merged)
    for _ in range(20):
        old = os.stat(merged / "d" / "sub").st_ino
        shutil.rmtree(merged / "d" / "sub")
        (merged / "d" / "sub").mkdir()
        if os.stat(merged / "d" / "sub").st_ino == old:
            break
    assert names(merged, base) == ["d", "d/sub", "d/sub/.wh..wh..opq"]


def test_backend_is_chosen_once_and_reported(tmp_path: Path) -> None:
    auto = Snapshots(tmp_path / "auto")
    expected = "overlay" if os.geteuid() == 0 and overlay_supported(tmp_path) else "copy"
    assert auto.backend == expected
    assert Snapshots(tmp_path / "forced", backend="copy").backend == "copy"
    with pytest.raises(ValueError):
        Snapshots(tmp_path / "bad", backend="btrfs")


def test_copy_backend_commit_round_trips(lowers: list[Path], tmp_path: Path) -> None:
    snaps = Snapshots(tmp_path / "s", backend="copy")
    src = tmp_path / "src"
    src.mkdir()
    (src / "a").write_bytes(b"a")
    (src / "kept").mkdir()
    buf = io.BytesIO()
    info = write_tree_layer(src, buf)
    buf.seek(0)
    base = snaps.add_layer(None, info.diff_id, buf)
    with snaps.active(snaps.lowerdirs(base.chain_id)) as view:
        assert view.backend == "copy" and view.upper is None
        (view.merged / "a").unlink()
        (view.merged / "b").write_bytes(b"b")
        (view.merged / "kept" / "c").write_bytes(b"c")  # a marked baseline dir goes into the layer
        out = io.BytesIO()
        layer, snap = snaps.commit(view, base.chain_id, out, compression="gzip")
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tf:
        assert tf.getnames() == [".wh.a", "b", "kept", "kept/c"]
        assert not any("pybuildkit" in k for m in tf.getmembers() for k in m.pax_headers)
    with snaps.active(snaps.lowerdirs(snap.chain_id)) as view:
        assert sorted(os.listdir(view.merged)) == ["b", "kept"]


def test_flatten_leaves_no_marks(lowers: list[Path], tmp_path: Path) -> None:
    dest = tmp_path / "rootfs"
    dest.mkdir()
    flatten(lowers, dest)
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*")) == [
        "d", "d/sub", "d/sub/x", "d/y", "f", "hidden", "hidden/new"]
    assert all(not os.listxattr(p) for p in dest.rglob("*") if p.is_dir())
