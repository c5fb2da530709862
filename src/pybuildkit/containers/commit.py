"""`pybuild commit`: a container's writable layer as a new image on top of its image.

The overlay upper dir already is the diff (whiteouts included), so it is written as one layer
straight into the store; the new config is the image's with that diff_id, a history entry, and
the container's own command and environment, as Docker's commit does.
"""

from __future__ import annotations

import time

import attrs

from pybuildkit.containers.records import Container
from pybuildkit.errors import StoreError
from pybuildkit.store import Store, StoredImage

__all__ = ["commit"]


def commit(store: Store, container: Container, ref: str | None, *, message: str = "", author: str = "") -> StoredImage:
    """Write `container`'s changes as a layer and record the new image, tagged `ref` if given."""
    from pybuildkit.execute.executor import iso_time
    from pybuildkit.oci.config import History, RootFS
    from pybuildkit.snapshot import write_diff_layer

    with store.lease():
        try:
            base = store.image(container.config.image_digest)
        except StoreError as exc:
            raise StoreError(f"cannot commit {container.name}: its image is gone ({exc.message})") from None
        ingest = store.open_ingest()
        try:
            info = write_diff_layer(container.upper, ingest, compression="gzip")
            layer = ingest.commit(info.digest, media_type=info.media_type)
        except BaseException:
            ingest.abort()
            raise
        now = iso_time(time.time())
        image = base.config
        cfg = attrs.evolve(
            image.config,
            env=container.config.env,
            entrypoint=container.config.entrypoint or None,
            cmd=container.config.cmd or None,
            working_dir=container.config.cwd if container.config.cwd != "/" else image.config.working_dir,
            user=container.config.user,
        )
        history = History(created=now, created_by=f"pybuild commit {container.name}", author=author, comment=message)
        new = attrs.evolve(
            image,
            config=cfg,
            rootfs=RootFS(diff_ids=(*image.rootfs.diff_ids, info.diff_id)),
            history=(*image.history, history),
            created=now,
            author=author or image.author,
        )
        return store.put_image(new, [*base.layers, layer], tags=[ref] if ref else [])
