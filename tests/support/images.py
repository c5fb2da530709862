"""Base images for build tests, made locally: the busybox rootfs of `rootfs.py` as a one-layer image.

Tests never pull: `install_busybox(store)` writes the layer through the project's own layer writer
into the store and tags it `busybox:latest`, exactly what a user gets from `pybuild load`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pybuildkit.oci.config import History, Image, ImageConfig, RootFS
from pybuildkit.snapshot import write_tree_layer
from pybuildkit.store import Store
from tests.support.rootfs import EPOCH, make_busybox_rootfs

__all__ = ["install_busybox", "BUSYBOX_TAG"]

BUSYBOX_TAG = "busybox:latest"


# Debian's busybox-static lacks adduser; BuildKit's test cases call `adduser -D NAME`.
ADDUSER = """#!/bin/sh
# adduser [-D] [-H] [-S] [-u UID] NAME: the part of busybox's adduser that tests use.
uid=""
while [ $# -gt 1 ]; do
  case "$1" in -u) uid=$2; shift 2 ;; *) shift ;; esac
done
name=$1
[ -n "$uid" ] || uid=$(awk -F: 'BEGIN { m = 999 } $3 > m && $3 < 60000 { m = $3 } END { print m + 1 }' /etc/passwd)
echo "$name:x:$uid:$uid::/home/$name:/bin/sh" >> /etc/passwd
echo "$name:x:$uid:" >> /etc/group
mkdir -p "/home/$name" && chown "$uid:$uid" "/home/$name"
"""


def _like_official_image(rootfs: Path) -> None:
    """Every applet also in /bin, as in the official busybox image, plus an adduser script."""
    applets = subprocess.run([str(rootfs / "bin/busybox"), "--list"], check=True, capture_output=True, text=True).stdout
    for name in applets.split():
        link = rootfs / "bin" / name
        if not link.exists() and not link.is_symlink():
            link.symlink_to("busybox")
    script = rootfs / "bin/adduser"
    if not script.exists():
        script.write_text(ADDUSER)
        script.chmod(0o755)
    for path in (rootfs / "bin").iterdir():
        os.utime(path, (EPOCH, EPOCH), follow_symlinks=False)
    os.utime(rootfs / "bin", (EPOCH, EPOCH))


def install_busybox(store: Store, workdir: Path, tag: str = BUSYBOX_TAG) -> str:
    """Put a busybox image into `store` under `tag`; returns its manifest digest."""
    rootfs = workdir / "busybox-rootfs"
    if not rootfs.exists():
        make_busybox_rootfs(rootfs)
        _like_official_image(rootfs)
    ingest = store.open_ingest()
    try:
        info = write_tree_layer(rootfs, ingest, compression="gzip", source_date_epoch=EPOCH)
        layer = ingest.commit(info.digest, media_type=info.media_type)
    except BaseException:
        ingest.abort()
        raise
    created = "2023-11-14T22:13:20Z"
    image = Image(
        created=created,
        config=ImageConfig(env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",), cmd=("sh",)),
        rootfs=RootFS(diff_ids=(info.diff_id,)),
        history=(History(created=created, created_by="busybox rootfs from Debian's busybox-static"),),
    )
    return store.put_image(image, [layer], tags=[tag]).digest
