"""`RUN --mount` made real: bind, cache, tmpfs, secret and ssh mounts for one sandboxed RUN.

Everything here lives outside the step's root filesystem and is mounted over it for the run only,
so none of it can end up in the layer: bind sources are the context or another stage's snapshot
(read-write binds get a throwaway overlay, so their writes are discarded), cache mounts are
directories in the store that persist across builds, secrets are copied to a private temporary
directory and mounted read-only. Secret values never enter the op, its cache key or its history.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from pybuildkit.errors import BuildError
from pybuildkit.plan.ops import CONTEXT_ID, ExecMount, ExecOp
from pybuildkit.sandbox import Mount
from pybuildkit.snapshot import mount_overlay, unmount

if TYPE_CHECKING:  # pragma: no cover
    from pybuildkit.execute.executor import Executor, StepResult

__all__ = ["MountSet", "cache_mount_dir", "SSH_SOCKET_TARGET"]

SSH_SOCKET_TARGET = "/run/buildkit/ssh_agent.0"


def cache_mount_dir(store_root: Path, mount_id: str) -> Path:
    """Where the cache mount `mount_id` lives in the store (named by a digest: ids may hold `/`)."""
    return store_root / "cache-mounts" / hashlib.sha256(mount_id.encode("utf-8")).hexdigest()


class MountSet:
    """The sandbox mounts (and extra environment) for one ExecOp, torn down on exit."""

    def __init__(self, executor: Executor, op: ExecOp, rootfs: Path, results: Mapping[str, StepResult]) -> None:
        self.executor = executor
        self.op = op
        self.rootfs = rootfs
        self.results = results
        self.mounts: tuple[Mount, ...] = ()
        self.env: list[tuple[str, str]] = []
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> MountSet:
        try:
            mounts: list[Mount] = []
            for m in self.op.mounts:
                made = self._make(m)
                if made is not None:
                    mounts.append(made)
            for f in self.op.files:
                mounts.append(self._inline_file(f.path, f.data, f.mode))
            self.mounts = tuple(mounts)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stack.close()

    # -- helpers -----------------------------------------------------------------------------------

    def _tempdir(self, prefix: str) -> Path:
        snapshots = self.executor.snapshots
        path = Path(tempfile.mkdtemp(prefix=snapshots.scratch_prefix(prefix.rstrip("-")), dir=snapshots.root / "tmp"))
        self._stack.callback(shutil.rmtree, path, True)
        return path

    def _source_root(self, input_id: str | None) -> Path:
        """The directory a bind/cache `from` names: the context, or a stage's/image's snapshot view."""
        if input_id is None or input_id == CONTEXT_ID:
            return self.executor.options.context_dir
        result = self.results[input_id]
        lowers = self.executor.lowers(result)
        view = self._stack.enter_context(self.executor.snapshots.active(lowers))
        return view.merged

    def _make(self, m: ExecMount) -> Mount | None:
        if m.type == "bind":
            return self._bind(m)
        if m.type == "cache":
            return self._cache(m)
        if m.type == "tmpfs":
            options = (f"size={m.size}",) if m.size else ()
            return Mount(type="tmpfs", target=m.target, options=options)
        if m.type == "secret":
            return self._secret(m)
        if m.type == "ssh":
            return self._ssh(m)
        raise BuildError(f"unsupported mount type {m.type!r}", span=self.op.span)

    def _bind(self, m: ExecMount) -> Mount:
        from pybuildkit.context import resolve_in_root

        root = self._source_root(m.input)
        source = Path(resolve_in_root(root, m.source))
        if not source.exists():
            raise BuildError(f"bind mount source {m.source} does not exist", span=self.op.span)
        if (m.input is None or m.input == CONTEXT_ID) and source.is_dir():
            source = self._visible_context(m.source)
        if not m.readonly and source.is_dir():
            # A writable bind: writes land in a throwaway upper dir, never in the source.
            home = self._tempdir("bind-")
            for sub in ("upper", "work", "merged"):
                (home / sub).mkdir()
            mount = mount_overlay([source], home / "merged", upper=home / "upper", work=home / "work")
            self._stack.callback(unmount, mount)
            source = home / "merged"
        return Mount(type="bind", source=os.fspath(source), target=m.target, readonly=m.readonly)

    def _visible_context(self, source: str) -> Path:
        """The context below `source` as a build sees it: what .dockerignore excludes is not there
        (the same files the step's cache key was computed over). Files are hard links where the
        file system allows, so this costs a directory walk, not a copy."""
        from pybuildkit.context import resolve_in_root, walk

        context = self.executor.options.context_dir
        matcher = self.executor._ignore()
        if not matcher:
            return Path(resolve_in_root(context, source))
        view = self._tempdir("context-") / "view"
        view.mkdir()
        for entry in walk(context, source, ignore=matcher):
            dest = view / entry.path
            if entry.kind == "dir":
                dest.mkdir(exist_ok=True)
                os.chmod(dest, entry.stat.st_mode & 0o7777)
            elif entry.kind == "symlink" and entry.target is not None:
                os.symlink(entry.target, dest)
            elif entry.kind == "file":
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(entry.fspath, dest)
                except OSError:
                    shutil.copy2(entry.fspath, dest)
        return view

    def _cache(self, m: ExecMount) -> Mount:
        mount_id = m.id or m.target
        where = cache_mount_dir(self.executor.store.root, mount_id)
        fresh = not where.exists()
        if fresh:
            where.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".new-", dir=where.parent))
            if m.input is not None:
                src = self._source_root(m.input) / m.source.lstrip("/")
                if src.is_dir():
                    shutil.copytree(src, staging, symlinks=True, dirs_exist_ok=True)
            os.chmod(staging, m.mode if m.mode is not None else 0o755)
            os.chown(staging, m.uid or 0, m.gid or 0)
            try:
                os.rename(staging, where)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
        lock_file = where.parent / (where.name + ".lock")
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._stack.callback(os.close, fd)
        if m.sharing == "locked":
            fcntl.flock(fd, fcntl.LOCK_EX)
        elif m.sharing == "private":
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                private = self._tempdir("cache-private-")
                return Mount(type="bind", source=os.fspath(private), target=m.target)
        else:
            fcntl.flock(fd, fcntl.LOCK_SH)
        return Mount(type="bind", source=os.fspath(where), target=m.target, readonly=m.readonly)

    def _secret(self, m: ExecMount) -> Mount | None:
        secret_id = m.id or os.path.basename(m.target or "")
        given = self.executor.options.secrets.get(secret_id)
        value: bytes | None = None
        if given is not None:
            kind, where = given
            try:
                value = Path(where).read_bytes() if kind == "file" else os.environ.get(where, "").encode()
            except OSError as exc:
                raise BuildError(f"secret {secret_id}: cannot read {where}: {exc.strerror}", span=self.op.span) from None
        if value is None:
            if m.required:
                raise BuildError(f"secret {secret_id} is required but was not given", span=self.op.span, hint=f"pass --secret id={secret_id},src=FILE")
            return None
        if m.env:
            self.env.append((m.env, value.decode("utf-8", "replace")))
            if not m.target:
                return None
        target = m.target or f"/run/secrets/{secret_id}"
        home = self._tempdir("secret-")
        os.chmod(home, 0o700)
        path = home / "secret"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(value)
        os.chmod(path, m.mode if m.mode is not None else 0o400)
        os.chown(path, m.uid or 0, m.gid or 0)
        os.chmod(home, 0o755)
        return Mount(type="bind", source=os.fspath(path), target=target, readonly=True)

    def _ssh(self, m: ExecMount) -> Mount | None:
        ssh_id = m.id or "default"
        socket = self.executor.options.ssh.get(ssh_id)
        if not socket:
            if m.required:
                raise BuildError(f"ssh agent {ssh_id} is required but --ssh {ssh_id} was not given", span=self.op.span)
            return None
        target = m.target or SSH_SOCKET_TARGET
        self.env.append(("SSH_AUTH_SOCK", target))
        return Mount(type="bind", source=socket, target=target, readonly=False)

    def _inline_file(self, path: str, data: str, mode: int) -> Mount:
        home = self._tempdir("heredoc-")
        file = home / "script"
        file.write_text(data)
        os.chmod(file, mode)
        return Mount(type="bind", source=os.fspath(file), target=path, readonly=True)
