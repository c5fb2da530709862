"""Writing into a destination root filesystem without ever leaving it.

The destination is an image's filesystem, so its symlinks are hostile: `/usr/lib` may point at
`/lib` (fine: the write lands in `<root>/lib`) or at `/../../etc` (must still land inside the
root). Every directory is resolved with `sandbox.paths.scoped_join` (chroot-like: an absolute
target restarts at the root, `..` stops there), and the final component of every write is never
followed: it is created under a temporary name in the same directory and renamed over whatever
was there, so a failed or interrupted copy leaves no half-written file behind.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import stat as stat_mod
from collections.abc import Callable, Sequence
from pathlib import Path

from pybuildkit.errors import BuildError, SandboxError
from pybuildkit.execute.manifest import WrittenEntry
from pybuildkit.sandbox.paths import scoped_join

__all__ = ["DestTree", "read_xattrs", "copy_content", "write_stream", "container_path"]

_CHUNK = 1 << 20
#: Attributes that are the host's business, not the file's: overlayfs control and SELinux labels.
_SKIP_XATTR_PREFIXES = ("trusted.overlay.", "user.overlay.", "security.selinux")


def _below(host: str, root: str) -> str:
    """`host` relative to `root` by string (one call per written entry: relpath is costly)."""
    if host == root:
        return ""
    if host.startswith(root + "/"):
        return host[len(root) + 1 :]
    rel = os.path.relpath(host, root)
    return "" if rel == "." else rel


def container_path(*parts: str) -> str:
    """Join container path pieces into one absolute, `/`-separated path (no cleaning of `..`)."""
    joined = "/".join(p.strip("/") for p in parts if p.strip("/"))
    return "/" + joined


def read_xattrs(fspath: str) -> list[tuple[str, bytes]]:
    """The extended attributes worth copying from `fspath` (not following a final symlink)."""
    try:
        names = os.listxattr(fspath, follow_symlinks=False)
    except OSError:
        return []
    out = []
    for name in sorted(names):
        if name.startswith(_SKIP_XATTR_PREFIXES):
            continue
        try:
            out.append((name, os.getxattr(fspath, name, follow_symlinks=False)))
        except OSError:
            continue
    return out


def copy_content(src_fspath: str, dst_path: str, *, src_error: type[Exception] = BuildError) -> tuple[str, int]:
    """Copy a regular file's bytes to a new file `dst_path` (mode 0600), hashing on the way.

    The source is opened with O_NOFOLLOW, so a link swapped in since the selection is refused.
    """
    try:
        sfd = os.open(src_fspath, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise src_error(f"cannot read {src_fspath}: {exc.strerror}") from None
    try:
        if not stat_mod.S_ISREG(os.fstat(sfd).st_mode):
            raise src_error(f"{src_fspath} is no longer a regular file")
        dfd = os.open(dst_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            return write_stream(lambda n: os.read(sfd, n), dfd)
        finally:
            os.close(dfd)
    finally:
        os.close(sfd)


def write_stream(read: Callable[[int], bytes], dfd: int) -> tuple[str, int]:
    """Drain `read` into fd `dfd`; returns (`sha256:<hex>`, size)."""
    digest = hashlib.sha256()
    size = 0
    while True:
        chunk = read(_CHUNK)
        if not chunk:
            break
        digest.update(chunk)
        size += len(chunk)
        view = memoryview(chunk)
        while view:
            written = os.write(dfd, view)
            view = view[written:]
    return "sha256:" + digest.hexdigest(), size


class DestTree:
    """One destination root: scoped directory resolution, atomic placement and metadata.

    `records` collects a `WrittenEntry` for everything created or replaced, in write order.
    """

    def __init__(
        self,
        root: Path | str,
        *,
        records: list[WrittenEntry] | None = None,
        report_root: str | None = None,
    ) -> None:
        self.root = os.path.realpath(os.fspath(root))
        if not os.path.isdir(self.root):
            raise BuildError(f"destination root {self.root} is not a directory")
        self.report_root = report_root or self.root
        self.is_root = os.geteuid() == 0
        self.records: list[WrittenEntry] = records if records is not None else []
        self.created_dirs: list[str] = []
        self._dir_cache: dict[str, str] = {}

    # -- paths ----------------------------------------------------------------------------
    def rel(self, host: str) -> str:
        """`host` as a path relative to the reported root (`""` for the root itself)."""
        return _below(host, self.report_root)

    def root_rel(self, host: str) -> str:
        """`host` relative to the resolution root (what `resolve` takes back with a `/` prefix)."""
        return _below(host, self.root)

    def resolve(self, container: str) -> str:
        """Host path of `container`, every symlink (the last one too) resolved inside the root."""
        try:
            return os.fspath(scoped_join(self.root, container))
        except SandboxError as exc:
            raise BuildError(f"cannot resolve {container} in the destination: {exc.message}") from None

    def ensure_dir(self, container: str, *, uid: int = 0, gid: int = 0) -> str:
        """Host path of directory `container`, creating what is missing (0755, uid:gid) as
        BuildKit's MkdirAll does; BuildError if a component exists and is not a directory."""
        cached = self._dir_cache.get(container)
        if cached is not None:
            return cached
        host = self.resolve(container)
        rel = self.root_rel(host)
        current = self.root
        for part in rel.split("/") if rel else ():
            current = os.path.join(current, part)
            try:
                st = os.lstat(current)
            except FileNotFoundError:
                try:
                    os.mkdir(current, 0o755)
                except OSError as exc:
                    raise BuildError(f"cannot create directory /{self.rel(current)}: {exc.strerror}") from None
                os.chmod(current, 0o755)
                self.set_owner(current, uid, gid)
                self.created_dirs.append(current)
                self.records.append(WrittenEntry(self.rel(current), "dir", 0o755, uid, gid))
                continue
            except NotADirectoryError:
                st = None
            if st is None or not stat_mod.S_ISDIR(st.st_mode):
                raise BuildError(
                    f"cannot create directory {container}: /{self.rel(current)} exists and is not a directory"
                )
        self._dir_cache[container] = host
        return host

    # -- placement ------------------------------------------------------------------------
    def place(self, parent: str, name: str, make: Callable[[str], None]) -> str:
        """Create `name` in host dir `parent` via `make(path)`, which must create exclusively.

        A new name is created in place and removed again if `make` fails; an existing
        non-directory is replaced atomically (made under a temporary name, then renamed over it);
        a directory is never replaced by a non-directory (BuildKit refuses that too).
        """
        final = os.path.join(parent, name)
        try:
            st = os.lstat(final)
        except FileNotFoundError:
            st = None
        if st is not None and stat_mod.S_ISDIR(st.st_mode):
            raise BuildError(f"cannot replace directory /{self.rel(final)} with a non-directory")
        # Nothing to replace (the usual case in a fresh layer): create in place, remove on failure.
        tmp = final if st is None else os.path.join(parent, f".pbk-{secrets.token_hex(8)}")
        try:
            make(tmp)
            if tmp != final:
                os.rename(tmp, final)
        except FileExistsError:
            raise BuildError(f"/{self.rel(final)} appeared while it was being written") from None
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return final

    def open_dir(self, parent: str, name: str) -> tuple[str, bool]:
        """The host dir `name` in `parent`, made (0700 until `finish_dir`) if missing.

        Returns (host path, created). An existing symlink is followed when it resolves, inside
        the root, to a directory (a usrmerged `/lib -> usr/lib` takes what is copied to `/lib`).
        """
        final = os.path.join(parent, name)
        try:
            st = os.lstat(final)
        except FileNotFoundError:
            os.mkdir(final, 0o700)
            return final, True
        if stat_mod.S_ISDIR(st.st_mode):
            return final, False
        if stat_mod.S_ISLNK(st.st_mode):
            target = self.resolve("/" + self.root_rel(final))
            if os.path.isdir(target) and not os.path.islink(target):
                return target, False
        raise BuildError(f"cannot copy to non-directory: /{self.rel(final)}")

    # -- metadata -------------------------------------------------------------------------
    def set_owner(self, path: str, uid: int, gid: int) -> None:
        try:
            os.chown(path, uid, gid, follow_symlinks=False)
        except PermissionError:
            if self.is_root:
                raise
        except OSError as exc:
            if exc.errno != errno.EINVAL or self.is_root:
                raise

    def set_meta(
        self,
        path: str,
        *,
        uid: int,
        gid: int,
        mode: int | None,
        mtime_ns: int | None,
        xattrs: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        """Owner, then mode (chown clears setuid), then xattrs (chown clears file
        capabilities), then times. `mode=None` for symlinks, which have no mode of their own."""
        self.set_owner(path, uid, gid)
        if mode is not None:
            os.chmod(path, mode)
        for key, value in xattrs:
            try:
                os.setxattr(path, key, value, follow_symlinks=False)
            except OSError:
                pass  # best effort, as BuildKit: a filesystem without xattrs still gets the file
        if mtime_ns is not None:
            os.utime(path, ns=(mtime_ns, mtime_ns), follow_symlinks=False)
