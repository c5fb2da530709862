"""WORKDIR's directory: created with its parents, 0755, owned by the USER of that point (BuildKit)."""

from __future__ import annotations

import os
from pathlib import Path

from pybuildkit.errors import BuildError
from pybuildkit.sandbox.paths import scoped_join
from pybuildkit.sandbox.users import resolve_user

__all__ = ["make_directory"]


def make_directory(rootfs: Path, path: str, owner: str | None) -> None:
    """Create `path` inside `rootfs` (symlinks resolved within it); new directories get `owner`."""
    uid, gid = 0, 0
    if owner:
        uid, gid, _ = resolve_user(rootfs, owner)
    parts = [p for p in path.split("/") if p]
    for i in range(1, len(parts) + 1):
        target = scoped_join(rootfs, "/" + "/".join(parts[:i]))
        if target.is_dir():
            continue
        if not target.parent.is_dir():
            # A symlink in the image led elsewhere inside the rootfs: create that path's parents.
            make_directory(rootfs, "/" + os.path.relpath(target.parent, rootfs), owner)
        try:
            os.mkdir(target, 0o755)
        except OSError as exc:
            raise BuildError(f"cannot create WORKDIR {path}: /{'/'.join(parts[:i])}: {exc.strerror}") from None
        os.chmod(target, 0o755)
        os.chown(target, uid, gid, follow_symlinks=False)
