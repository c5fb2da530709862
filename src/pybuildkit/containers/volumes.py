"""Named and anonymous volumes: directories under `<store root>/volumes/<name>/_data`.

A volume outlives containers; its data is only removed by `volume rm` (named) or with the
container that made it (`rm -v`, `--rm`: anonymous). Like Docker, a volume that is still empty
when first mounted is filled with what the image has at the mount path, owners and modes kept.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from pathlib import Path

import attrs

from pybuildkit.containers.options import valid_name
from pybuildkit.atomicfile import atomic_write_json
from pybuildkit.containers.records import now_iso
from pybuildkit.errors import StoreError, UsageError

__all__ = ["Volume", "Volumes", "copy_tree"]


@attrs.frozen
class Volume:
    name: str
    mountpoint: Path
    created: str
    anonymous: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "Name": self.name,
            "Mountpoint": os.fspath(self.mountpoint),
            "CreatedAt": self.created,
            "Driver": "local",
            "Anonymous": self.anonymous,
        }


def copy_tree(src: Path, dest: Path) -> None:
    """Copy the contents of `src` into the existing dir `dest`: modes, owners, times, symlinks."""
    for entry in os.scandir(src):
        target = dest / entry.name
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            target.mkdir(exist_ok=True)
            copy_tree(Path(entry.path), target)
        elif stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(entry.path), target)
        elif stat.S_ISREG(st.st_mode):
            shutil.copyfile(entry.path, target, follow_symlinks=False)
        else:
            continue  # devices, fifos, sockets: not volume content
        os.lchown(target, st.st_uid, st.st_gid)
        if not stat.S_ISLNK(st.st_mode):
            os.chmod(target, stat.S_IMODE(st.st_mode))
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
    st = os.stat(src)
    os.chown(dest, st.st_uid, st.st_gid)
    os.chmod(dest, stat.S_IMODE(st.st_mode))


class Volumes:
    """The volumes of one store."""

    def __init__(self, store_root: Path) -> None:
        self.root = Path(store_root) / "volumes"
        self.root.mkdir(parents=True, exist_ok=True)

    def _dir(self, name: str) -> Path:
        if not valid_name(name):
            raise UsageError(f"invalid volume name {name!r}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        return self.root / name

    def get(self, name: str) -> Volume:
        where = self._dir(name)
        try:
            meta = json.loads((where / "meta.json").read_text())
        except FileNotFoundError:
            raise StoreError(f"no such volume: {name}") from None
        except (OSError, ValueError) as exc:
            raise StoreError(f"volume {name} has unreadable metadata: {exc}") from None
        return Volume(name, where / "_data", meta.get("created", ""), bool(meta.get("anonymous")))

    def exists(self, name: str) -> bool:
        return (self._dir(name) / "meta.json").exists()

    def create(self, name: str, *, anonymous: bool = False) -> tuple[Volume, bool]:
        """The volume `name`, created if missing; the flag says whether it was made just now."""
        where = self._dir(name)
        if (where / "meta.json").exists():
            return self.get(name), False
        staging = self.root / f".new-{name}-{time.monotonic_ns()}"
        staging.mkdir()
        try:
            (staging / "_data").mkdir(mode=0o755)
            atomic_write_json(staging / "meta.json", {"created": now_iso(), "anonymous": anonymous, "initialised": False}, mode=0o600)
            try:
                os.rename(staging, where)
            except OSError:
                if (where / "meta.json").exists():  # a concurrent create of the same name won
                    return self.get(name), False
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return self.get(name), True

    def populate(self, name: str, source: Path) -> None:
        """Fill a volume still empty and never filled from `source` (the image's content there)."""
        where = self._dir(name)
        meta_path = where / "meta.json"
        meta = json.loads(meta_path.read_text())
        if meta.get("initialised"):
            return
        data = where / "_data"
        if source.is_dir() and not source.is_symlink() and not any(data.iterdir()):
            copy_tree(source, data)
        meta["initialised"] = True
        atomic_write_json(meta_path, meta, mode=0o600)

    def list(self) -> list[Volume]:
        out = []
        for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
            if entry.is_dir() and not entry.name.startswith("."):
                try:
                    out.append(self.get(entry.name))
                except StoreError:
                    continue
        return out

    def remove(self, name: str) -> None:
        """Delete the volume and its data (callers check it is unused first)."""
        where = self._dir(name)
        if not (where / "meta.json").exists():
            raise StoreError(f"no such volume: {name}")
        grave = self.root / f".rm-{name}-{time.monotonic_ns()}"
        os.rename(where, grave)
        shutil.rmtree(grave, ignore_errors=True)
