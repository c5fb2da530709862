"""The test rootfs helper is deterministic: two builds give the same tree, metadata included."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.rootfs import EPOCH, make_busybox_rootfs


def _listing(root: Path) -> list[tuple]:
    rows = []
    for path in sorted(root.rglob("*")):
        st = os.lstat(path)
        link = os.readlink(path) if path.is_symlink() else None
        rows.append((str(path.relative_to(root)), st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, link))
    return rows


def test_busybox_rootfs_is_deterministic(tmp_path: Path) -> None:
    first = make_busybox_rootfs(tmp_path / "a")
    second = make_busybox_rootfs(tmp_path / "b")
    assert _listing(first) == _listing(second)
    assert os.lstat(first).st_mtime_ns == EPOCH * 10**9
    assert os.readlink(first / "bin" / "sh") == "/bin/busybox"
    assert oct(os.lstat(first / "tmp").st_mode & 0o7777) == "0o1777"
    assert (first / "etc" / "passwd").read_text().startswith("root:x:0:0:")
