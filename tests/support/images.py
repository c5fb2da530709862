"""Base images for build tests, made locally: the busybox rootfs of `rootfs.py` as a one-layer image.

Tests never pull: `install_busybox(store)` writes the layer through the project's own layer writer
into the store and tags it `busybox:latest`, exactly what a user gets from `pybuild load`.
"""

from __future__ import annotations

from pathlib import Path

from pybuildkit.oci.config import History, Image, ImageConfig, RootFS
from pybuildkit.snapshot import write_tree_layer
from pybuildkit.store import Store
from tests.support.rootfs import EPOCH, make_busybox_rootfs

__all__ = ["install_busybox", "BUSYBOX_TAG"]

BUSYBOX_TAG = "busybox:latest"


def install_busybox(store: Store, workdir: Path, tag: str = BUSYBOX_TAG) -> str:
    """Put a busybox image into `store` under `tag`; returns its manifest digest."""
    rootfs = workdir / "busybox-rootfs"
    if not rootfs.exists():
        make_busybox_rootfs(rootfs)
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
