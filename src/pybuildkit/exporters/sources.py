"""Read-only views of an image archive or layout: named members opened as streams.

Importers read docker-archive tars, oci-archive tars and OCI layout directories through one small
interface, and never extract anything to disk: a hostile member name (`../../etc/passwd`) is only a
lookup key that fails, never a path that is written.
"""

from __future__ import annotations

import os
import posixpath
import tarfile
from pathlib import Path
from typing import BinaryIO, Protocol

from pybuildkit.errors import ImageError

__all__ = ["ArchiveSource", "DirSource", "TarSource", "MAX_JSON_MEMBER"]

MAX_JSON_MEMBER = 16 << 20


class ArchiveSource(Protocol):
    def exists(self, name: str) -> bool: ...

    def open(self, name: str) -> BinaryIO: ...

    def size(self, name: str) -> int: ...

    def read_small(self, name: str, limit: int = MAX_JSON_MEMBER) -> bytes: ...


def _clean(name: str) -> str:
    name = posixpath.normpath(name.lstrip("/"))
    return name[2:] if name.startswith("./") else name


class TarSource:
    """Members of an (uncompressed, seekable) tar file by normalised name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._tar = tarfile.open(path, mode="r:*")
            self._members = {_clean(m.name): m for m in self._tar.getmembers()}
        except (OSError, tarfile.TarError, EOFError) as exc:
            reason = str(exc).splitlines()[0].rstrip(":") if str(exc) else type(exc).__name__
            raise ImageError(f"{path} is not a readable tar archive ({reason})") from None

    def close(self) -> None:
        self._tar.close()

    def __enter__(self) -> TarSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def names(self) -> list[str]:
        return list(self._members)

    def exists(self, name: str) -> bool:
        member = self._members.get(_clean(name))
        return member is not None and (member.isfile() or member.issym() or member.islnk())

    def _member(self, name: str) -> tarfile.TarInfo:
        member = self._members.get(_clean(name))
        if member is None:
            raise ImageError(f"{self.path}: archive has no member {name!r}")
        return member

    def open(self, name: str) -> BinaryIO:
        member = self._member(name)
        try:
            handle = self._tar.extractfile(member)
        except (KeyError, tarfile.TarError) as exc:
            raise ImageError(f"{self.path}: cannot read member {name!r}: {exc}") from None
        if handle is None:
            raise ImageError(f"{self.path}: member {name!r} is not a regular file")
        return handle  # type: ignore[return-value]

    def size(self, name: str) -> int:
        member = self._member(name)
        if member.isfile():
            return member.size
        with self.open(name) as handle:
            return len(handle.read())

    def read_small(self, name: str, limit: int = MAX_JSON_MEMBER) -> bytes:
        with self.open(name) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise ImageError(f"{self.path}: member {name!r} is larger than {limit} bytes")
        return data


class DirSource:
    """Files under a directory; names must stay inside it (no `..`, no absolute paths)."""

    def __init__(self, root: Path) -> None:
        self.path = root
        if not root.is_dir():
            raise ImageError(f"{root} is not a directory")

    def _resolve(self, name: str) -> Path:
        clean = _clean(name)
        if clean.startswith("../") or clean == ".." or os.path.isabs(clean):
            raise ImageError(f"{self.path}: refusing path {name!r} outside the layout")
        target = (self.path / clean).resolve()
        if not target.is_relative_to(self.path.resolve()):
            raise ImageError(f"{self.path}: {name!r} resolves outside the layout")
        return target

    def exists(self, name: str) -> bool:
        return self._resolve(name).is_file()

    def open(self, name: str) -> BinaryIO:
        try:
            return open(self._resolve(name), "rb")
        except OSError as exc:
            raise ImageError(f"{self.path}: cannot read {name!r}: {exc.strerror}") from None

    def size(self, name: str) -> int:
        try:
            return self._resolve(name).stat().st_size
        except OSError as exc:
            raise ImageError(f"{self.path}: cannot stat {name!r}: {exc.strerror}") from None

    def read_small(self, name: str, limit: int = MAX_JSON_MEMBER) -> bytes:
        with self.open(name) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise ImageError(f"{self.path}: {name!r} is larger than {limit} bytes")
        return data
