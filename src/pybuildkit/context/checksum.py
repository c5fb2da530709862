"""Content digests of context files and selections, for cache keys.

A file's digest covers what a COPY reproduces in the image: its content, kind, permission bits,
owner, size, link target and extended attributes, and never its mtime (a fresh checkout must hit
the cache). Mode `git` keys only on what a git checkout carries from machine to machine: content,
the executable bit and link targets, so a CI runner with another umask or uid still hits.

A selection's digest is a tree digest: sorted relative paths with each entry's digest, directories
included (so an added empty directory or a changed directory mode is seen). Everything is
versioned by a prefix in the hashed text so a change of scheme cannot collide with old keys.

Content is read in one pass with `hashlib.file_digest`; the `DigestMemo` makes an unchanged file
cost one `stat` (already done by the walker) and no read.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat as stat_mod
from collections.abc import Iterable, Sequence
from typing import Literal

from pybuildkit.context.memo import DigestMemo, MemoRecord
from pybuildkit.context.dockerignore import PatternMatcher
from pybuildkit.context.walker import Entry, Selected, entry_for, select
from pybuildkit.errors import ContextError, UsageError

__all__ = ["ChecksumMode", "Checksummer", "file_digest", "digest_sources", "CHECKSUM_VERSION"]

CHECKSUM_VERSION = 1

ChecksumMode = Literal["full", "git"]

#: Labels a host applies on its own; they would make every host's key different.
_HOST_XATTRS = frozenset({"security.selinux"})


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _enc(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class Checksummer:
    """Computes entry, tree and selection digests, counting how much content it really read.

    `reads` counts files whose content was hashed, `hits` files answered by the memo. Call
    `memo.flush()` (or use the memo as a context manager) to persist what was learnt. One per
    thread: the counters and the memo's pending writes are not locked.
    """

    def __init__(self, mode: ChecksumMode = "full", memo: DigestMemo | None = None) -> None:
        if mode not in ("full", "git"):
            raise UsageError(f"unknown checksum mode {mode!r}", hint='use "full" or "git"')
        self.mode: ChecksumMode = mode
        self.memo = memo if memo is not None else DigestMemo()
        self.reads = 0
        self.hits = 0

    def _record(self, entry: Entry) -> MemoRecord:
        """Content digest (files) and xattr digest (full mode) of one entry, memo first."""
        want_xattrs = self.mode == "full"
        if not want_xattrs and entry.kind != "file":
            return MemoRecord("")
        found = self.memo.get(entry.stat)
        if found is not None and (found.xattrs is not None or not want_xattrs):
            self.hits += 1
            return found
        started = self.memo.now_ns()
        content = found.content if found is not None else ""
        stable = True
        if found is None and entry.kind == "file":
            content, stable = self._hash_content(entry)
            self.reads += 1
        xattrs = _xattr_digest(entry.fspath) if want_xattrs else None
        record = MemoRecord(content, xattrs)
        if stable:
            self.memo.put(entry.stat, record, started)
        return record

    def _hash_content(self, entry: Entry) -> tuple[str, bool]:
        """sha256 of a regular file, refusing to follow a link swapped in since the walk."""
        try:
            # O_NONBLOCK: a FIFO swapped in since the walk must not hang the build.
            fd = os.open(entry.fspath, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError as exc:
            raise ContextError(f"cannot read {entry.fspath!r} from the build context: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as handle:
            before = os.fstat(fd)
            if not stat_mod.S_ISREG(before.st_mode):
                raise ContextError(f"{entry.fspath!r} changed while the build context was being read")
            try:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
            except OSError as exc:
                raise ContextError(f"cannot read {entry.fspath!r} from the build context: {exc.strerror}") from None
            after = os.fstat(fd)
        stable = (before.st_ino, before.st_size, before.st_mtime_ns, before.st_ctime_ns) == (
            entry.stat.st_ino,
            entry.stat.st_size,
            entry.stat.st_mtime_ns,
            entry.stat.st_ctime_ns,
        ) and (after.st_size, after.st_mtime_ns, after.st_ctime_ns) == (
            before.st_size,
            before.st_mtime_ns,
            before.st_ctime_ns,
        )
        return "sha256:" + digest, stable

    def entry_digest(self, entry: Entry) -> str:
        """The digest of one entry's content and metadata (its path is not part of it)."""
        st = entry.stat
        record = self._record(entry)
        target = entry.target or ""
        if self.mode == "git":
            executable = entry.kind == "file" and bool(st.st_mode & stat_mod.S_IXUSR)
            text = f"pybuildkit-git-v{CHECKSUM_VERSION}\0{entry.kind}\0{'x' if executable else '-'}\0{target}\0{record.content}"
        else:
            size = st.st_size if entry.kind == "file" else ""
            rdev = st.st_rdev if stat_mod.S_ISCHR(st.st_mode) or stat_mod.S_ISBLK(st.st_mode) else ""
            kind = entry.kind if entry.kind != "other" else f"other:{stat_mod.S_IFMT(st.st_mode):o}"
            text = (
                f"pybuildkit-full-v{CHECKSUM_VERSION}\0{kind}\0{stat_mod.S_IMODE(st.st_mode):o}\0{st.st_uid}\0"
                f"{st.st_gid}\0{size}\0{target}\0{rdev}\0{record.xattrs or ''}\0{record.content}"
            )
        return _sha256(_enc(text))

    def tree_digest(self, entries: Iterable[Entry]) -> str:
        """Digest of a set of entries: sorted by path components, each path with its digest."""
        listed = list(entries)
        return self._tree_of(listed, [self.entry_digest(entry) for entry in listed])

    def _tree_of(self, entries: Sequence[Entry], digests: Sequence[str]) -> str:
        """The tree digest of `entries` whose entry digests (same order) are already known."""
        # "\0" sorts below any character a path component can hold, so one string per entry
        # orders like its list of components would, at a fraction of the memory.
        order = sorted(range(len(entries)), key=lambda i: entries[i].path.replace("/", "\0"))
        lines = [f"pybuildkit-tree-v{CHECKSUM_VERSION}\0{self.mode}\0".encode()]
        for i in order:
            lines.append(_enc(entries[i].path) + b"\0" + digests[i].encode() + b"\0")
        return _sha256(b"".join(lines))

    def selection_digest(self, selection: Sequence[Selected]) -> str:
        """Digest of what COPY sources bring, in source order (later sources overwrite earlier)."""
        return self.selection_digests(selection)[0]

    def selection_digests(self, selection: Sequence[Selected]) -> tuple[str, tuple[tuple[str, ...], ...]]:
        """The selection digest and, per source, each entry's digest in entry order.

        A COPY's cache manifest needs the entry digests too; handing them out here means each
        entry is digested once per build instead of once for the manifest and once for the key.
        """
        parts = [f"pybuildkit-selection-v{CHECKSUM_VERSION}\0".encode()]
        per_source: list[tuple[str, ...]] = []
        for selected in selection:
            digests = tuple(self.entry_digest(entry) for entry in selected.entries)
            per_source.append(digests)
            tree = self._tree_of(selected.entries, digests)
            parts.append(_enc(selected.source) + b"\0" + tree.encode() + b"\0")
        return _sha256(b"".join(parts)), tuple(per_source)


def _xattr_digest(path: str) -> str:
    """sha256 over sorted `name=value` pairs of a path's xattrs (not following links); `""` if none."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOENT, errno.EPERM):
            return ""
        raise ContextError(f"cannot list extended attributes of {path!r}: {exc.strerror}") from None
    pairs = []
    for name in sorted(names):
        if name in _HOST_XATTRS:
            continue
        try:
            value = os.getxattr(path, name, follow_symlinks=False)
        except OSError:
            continue
        pairs.append(_enc(name) + b"=" + value.hex().encode())
    if not pairs:
        return ""
    return _sha256(b"\0".join(pairs))


def file_digest(path: str | os.PathLike[str], mode: ChecksumMode = "full") -> str:
    """One-off digest of a single path (not following a final symlink), without a memo."""
    fspath = os.fspath(path)
    try:
        st = os.lstat(fspath)
    except OSError as exc:
        raise ContextError(f"cannot stat {fspath!r}: {exc.strerror}") from None
    return Checksummer(mode).entry_digest(entry_for(os.path.basename(fspath), fspath, st))


def digest_sources(
    root: str | os.PathLike[str],
    sources: Sequence[str],
    *,
    ignore: PatternMatcher | None = None,
    exclude: Sequence[str] = (),
    mode: ChecksumMode = "full",
    memo_path: str | os.PathLike[str] | None = None,
) -> tuple[str, tuple[Selected, ...]]:
    """The content digest of a COPY/ADD from the context, and the selection it was computed over
    (so the copy itself can reuse the walk). The memo at `memo_path` is read and updated."""
    selection = select(root, sources, ignore=ignore, exclude=exclude)
    with DigestMemo(memo_path) as memo:
        digest = Checksummer(mode, memo).selection_digest(selection)
    return digest, selection
