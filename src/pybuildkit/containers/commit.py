"""`pybuild commit`: a container's writable layer as a new image on top of its image.

The overlay upper dir already is the diff (whiteouts included), so it is written as one layer
straight into the store; the new config is the image's with that diff_id, a history entry, and
the container's own command and environment, as Docker's commit does. While a container runs,
its upper dir also holds the sandbox's empty mount-point stubs (/etc/hosts, /proc, ...): those
are the runtime's, not the container's changes, and stay out of the layer.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import attrs

from pybuildkit.containers.records import Container
from pybuildkit.errors import StoreError

if TYPE_CHECKING:  # imported lazily: `pybuild ps` should not load the layer writer
    from pybuildkit.snapshot import Entry
    from pybuildkit.store import Store, StoredImage

__all__ = ["commit", "RUNTIME_STUBS", "without_stubs"]

#: Mount points the sandbox creates when an image lacks them (removed again when it exits).
RUNTIME_STUBS = frozenset({"etc/hosts", "etc/hostname", "etc/resolv.conf", "proc", "dev", "sys"})


def without_stubs(entries: Iterable[Entry]) -> Iterator[Entry]:
    """`entries` minus empty runtime stubs (an empty file or a directory with nothing below)."""
    pending: Entry | None = None
    for entry in entries:
        if pending is not None and entry.path.startswith(pending.path + "/"):
            yield pending  # something below it: a real directory after all
        pending = None
        if entry.path in RUNTIME_STUBS and entry.size == 0 and entry.kind in ("file", "dir"):
            if entry.kind == "dir":
                pending = entry
            continue
        yield entry


def commit(store: Store, container: Container, ref: str | None, *, message: str = "", author: str = "") -> StoredImage:
    """Write `container`'s changes as a layer and record the new image, tagged `ref` if given."""
    from pybuildkit.execute.executor import iso_time
    from pybuildkit.oci.config import History, RootFS
    from pybuildkit.snapshot import walk_overlay_upper, write_entries

    with store.lease():
        try:
            base = store.image(container.config.image_digest)
        except StoreError as exc:
            raise StoreError(f"cannot commit {container.name}: its image is gone ({exc.message})") from None
        ingest = store.open_ingest()
        try:
            info = write_entries(without_stubs(walk_overlay_upper(container.upper)), ingest, compression="gzip")
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
