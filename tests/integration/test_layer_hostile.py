"""Hostile layers through the snapshot store, as root: refused, nothing published, nothing left.

The unit tests prove the unpacker refuses them; here the same tars go through `Snapshots`, whose
promise is that a refused layer leaves neither a snapshot nor temp files behind, and root-only
content (device nodes, setuid bits, ownership) survives a legitimate layer.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from pybuildkit.errors import ImageError
from pybuildkit.snapshot import Snapshots
from tests.unit.snapshot.test_unpack import HOSTILE, make_tar

pytestmark = pytest.mark.integration


@pytest.fixture
def store(tmp_path: Path) -> Snapshots:
    if os.geteuid() != 0:
        pytest.skip("needs root: overlay-format whiteouts, device nodes, chown")
    return Snapshots(tmp_path / "store")


@pytest.mark.parametrize("make", [m for _, m in HOSTILE], ids=[n for n, _ in HOSTILE])
def test_hostile_layer_publishes_nothing(store: Snapshots, tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"keep me")
    blob = make(outside)
    diff_id = "sha256:" + hashlib.sha256(blob).hexdigest()
    with pytest.raises(ImageError):
        store.add_layer(None, diff_id, io.BytesIO(blob))
    assert os.listdir(outside) == ["secret"] and (outside / "secret").read_bytes() == b"keep me"
    assert os.listdir(store.root / "snapshots") == []
    assert os.listdir(store.root / "tmp") == []


def test_root_only_content_survives(store: Snapshots) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        dev = tarfile.TarInfo("dev/null")
        dev.type, dev.devmajor, dev.devminor, dev.mode = tarfile.CHRTYPE, 1, 3, 0o666
        tf.addfile(dev)
        su = tarfile.TarInfo("bin/su")
        su.mode, su.uid, su.gid, su.size = 0o4755, 0, 0, 3
        tf.addfile(su, io.BytesIO(b"su!"))
        owned = tarfile.TarInfo("home/user/file")
        owned.uid, owned.gid, owned.mode, owned.size = 1000, 1001, 0o640, 1
        owned.pax_headers = {"SCHILY.xattr.user.note": "hi", "SCHILY.xattr.trusted.overlay.opaque": "y"}
        tf.addfile(owned, io.BytesIO(b"x"))
    raw = buf.getvalue()
    snap = store.add_layer(None, "sha256:" + hashlib.sha256(raw).hexdigest(), io.BytesIO(raw))
    st = os.lstat(snap.path / "dev" / "null")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3) and stat.S_IMODE(st.st_mode) == 0o666
    assert stat.S_IMODE(os.stat(snap.path / "bin" / "su").st_mode) == 0o4755
    st = os.stat(snap.path / "home" / "user" / "file")
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1000, 1001, 0o640)
    names = os.listxattr(snap.path / "home" / "user" / "file")
    assert "trusted.overlay.opaque" not in names  # a layer cannot forge overlayfs control xattrs
    if "user.note" in names:
        assert os.getxattr(snap.path / "home" / "user" / "file", "user.note") == b"hi"


def test_whiteout_layer_is_stored_for_overlay(store: Snapshots) -> None:
    lower = make_tar(("d", "dir", None), ("d/x", "file", b"x"), ("f", "file", b"f"))
    upper = make_tar(("d", "dir", None), ("d/.wh..wh..opq", "file", b""), (".wh.f", "file", b""))
    base = store.add_layer(None, "sha256:" + hashlib.sha256(lower).hexdigest(), io.BytesIO(lower))
    top = store.add_layer(base.chain_id, "sha256:" + hashlib.sha256(upper).hexdigest(), io.BytesIO(upper))
    st = os.lstat(top.path / "f")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    assert os.getxattr(top.path / "d", "trusted.overlay.opaque") == b"y"
    with store.active(store.lowerdirs(top.chain_id)) as view:
        assert os.listdir(view.merged) == ["d"] and os.listdir(view.merged / "d") == []
