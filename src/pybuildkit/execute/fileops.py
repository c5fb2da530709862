"""COPY and ADD as file operations on a destination root filesystem (BuildKit's semantics).

`apply_copy(spec, dest_root=...)` does one COPY/ADD: it selects the sources (context walk and
.dockerignore from `pybuildkit.context`, or another stage's / image's root), fetches remote ADD
sources into a scratch directory, checks everything it can *before* writing anything (missing
sources, FIFOs in the context, --chown names, --chmod text, checksums), then writes below
`dest_root` through `DestTree`, which keeps every write inside it. `source_digest(spec)` selects
the same files without copying and digests them with the context's `Checksummer` (and its stat
memo), so the executor can compute a cache key before deciding to run the step.

Rules, as BuildKit's dockerfile frontend and fsutil's copy apply them:
- a directory source copies its contents; a file goes to `dest` unless `dest` ends in `/` or is an
  existing directory, then to `dest/<name>`; several sources need a `/`-terminated `dest`;
- a source named explicitly (or matched by a wildcard) that is a symlink is followed, inside the
  source root; symlinks below it are copied as links;
- from the context, owners become 0:0; from a stage they are kept; `--chown` overrides both, and
  also owns the missing parents of `dest` it creates (0755);
- modes, mtimes, xattrs and hardlinks (within one step) are kept, then `--chmod` is applied to
  files and directories (not symlinks, not created parents);
- `--parents` keeps each match's path below the source root, or below a `/./` pivot in it;
- ADD unpacks a local tar (plain/gzip/bzip2/xz/zstd) into `dest` unless `unpack=False`, and
  downloads URLs (unpacked only with `unpack=True`) and checks out git sources.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat as stat_mod
import tempfile
from collections.abc import Iterator
from pathlib import Path

import attrs

from pybuildkit.context import (
    Checksummer,
    ChecksumMode,
    DigestMemo,
    Entry,
    PatternMatcher,
    Selected,
    context_path,
    resolve_in_root,
    resolve_sources,
    select,
    walk,
)
from pybuildkit.context.walker import EntryStat
from pybuildkit.errors import BuildError, ContextError
from pybuildkit.execute.archive import extract_archive, is_archive
from pybuildkit.execute.destfs import DestTree, container_path, copy_content, read_xattrs
from pybuildkit.execute.fetch import download, fetch_git, git_identity, is_git, is_url, url_identity
from pybuildkit.execute.manifest import WrittenEntry, manifest_digest
from pybuildkit.execute.modes import ModeChange, parse_mode_change
from pybuildkit.execute.owners import Owner, resolve_chown

__all__ = ["CopySpec", "CopyResult", "apply_copy", "source_digest", "remote_identities"]


@attrs.frozen(kw_only=True)
class CopySpec:
    """One COPY/ADD with every value already expanded by the planner.

    `source_root` is the build context directory (`from_context=True`, with its `.dockerignore`
    matcher in `ignore`) or another stage's / image's root filesystem. `sources` are patterns as
    written (Go `filepath.Match` wildcards; `/`-rooted at `source_root`); for ADD they may also be
    http(s) URLs and git sources. `inline` holds heredoc sources as (name, data). `dest` is the
    absolute container path with its trailing `/` kept. `user_root` is where --chown names are
    looked up (default: `dest_root`; for `--link` pass the stage's root while `dest_root` is the
    empty layer). `scratch_dir` is where remote and heredoc sources are staged (default: the
    system temp dir). `checksum_mode` and `memo_path` (a `DigestMemo` file) only matter to
    `source_digest`. A wildcard matching nothing is not an error (BuildKit's AllowEmptyWildcard:
    `COPY *.crt /certs/` with no certificates copies nothing); with `allow_empty_wildcard=False`
    a step that selects nothing at all fails with "no source files were specified".
    `timestamp` (SOURCE_DATE_EPOCH, seconds) replaces the mtime of everything copied and of the
    directories made for it, as BuildKit's created-time option does (unpacked archive entries
    keep their own).
    """

    dest: str
    sources: tuple[str, ...] = ()
    source_root: Path | None = None
    from_context: bool = True
    ignore: PatternMatcher | None = None
    chown: str | None = None
    chmod: str | None = None
    link: bool = False
    parents: bool = False
    excludes: tuple[str, ...] = ()
    inline: tuple[tuple[str, str | bytes], ...] = ()
    is_add: bool = False
    checksum: str | None = None
    keep_git_dir: bool = False
    unpack: bool | None = None
    user_root: Path | None = None
    scratch_dir: Path | None = None
    checksum_mode: ChecksumMode = "full"
    memo_path: Path | None = None
    allow_empty_wildcard: bool = True
    timestamp: int | None = None

    @property
    def instruction(self) -> str:
        return "ADD" if self.is_add else "COPY"


@attrs.frozen
class CopyResult:
    """What was written: paths relative to `dest_root` (in write order, each once), one
    `WrittenEntry` per write, and a digest over the final state of those paths (never mtimes)."""

    written: tuple[str, ...]
    entries: tuple[WrittenEntry, ...]
    digest: str


@attrs.frozen
class _Item:
    """One selected source. `entries[0]` (path `""`) is the source itself; with `contents` the
    entries below it are copied into the destination directory, else the source is one file
    placed by the dest rules under `name`."""

    name: str
    entries: tuple[Entry, ...]
    contents: bool
    keep_owner: bool
    archive: bool = False
    source: str = ""


# -- selection ------------------------------------------------------------------------------


def _check_kinds(entries: tuple[Entry, ...], spec: CopySpec, label: str) -> None:
    for entry in entries:
        if entry.kind != "other":
            continue
        where = posixpath.join(label, entry.path) if entry.path else label
        mode = entry.stat.st_mode
        if spec.from_context:
            what = "a FIFO" if stat_mod.S_ISFIFO(mode) else "a socket" if stat_mod.S_ISSOCK(mode) else "a device"
            raise ContextError(
                f"cannot copy /{where} from the build context: it is {what}, not a file, directory or symlink",
                hint="exclude it in .dockerignore",
            )
        if stat_mod.S_ISSOCK(mode):
            raise BuildError(f"cannot copy /{where}: sockets cannot be copied")


def _select_plain(spec: CopySpec, root: str, patterns: list[str]) -> list[_Item]:
    ignore = spec.ignore if spec.from_context else None
    selection = select(root, patterns, ignore=ignore, exclude=spec.excludes)
    items = []
    for selected in selection:
        _check_kinds(selected.entries, spec, selected.source)
        top = selected.entries[0]
        name = posixpath.basename(selected.source) or "/"
        archive = bool(spec.is_add and spec.unpack is not False and top.kind == "file" and is_archive(top.fspath))
        items.append(_Item(name, selected.entries, top.kind == "dir", not spec.from_context, archive, selected.source))
    return items


def _lstat_entry(path: str, fspath: str) -> Entry:
    st = os.lstat(fspath)
    kind = (
        "file"
        if stat_mod.S_ISREG(st.st_mode)
        else "dir"
        if stat_mod.S_ISDIR(st.st_mode)
        else "symlink"
        if stat_mod.S_ISLNK(st.st_mode)
        else "other"
    )
    return Entry(path, kind, fspath, st, os.readlink(fspath) if kind == "symlink" else None)


def _select_parents(spec: CopySpec, root: str, pattern: str) -> list[_Item]:
    """--parents: every match keeps its path relative to the root, or to the `/./` pivot."""
    ignore = spec.ignore if spec.from_context else None
    excluder = PatternMatcher.from_patterns(spec.excludes) if spec.excludes else None
    pivot, sep, rest = pattern.partition("/./")
    if not sep:
        pivot, rest = "/", pattern
    pivot_rel = context_path(pivot)
    rest_rel = context_path(rest)
    if not rest_rel:
        raise BuildError(f"--parents source {pattern!r} names no path below its pivot")
    pivot_host = resolve_in_root(root, pivot_rel)
    if not os.path.isdir(pivot_host):
        raise ContextError(f'"/{pivot_rel}": not found')
    full = f"{pivot_rel}/{rest_rel}" if pivot_rel else rest_rel
    by_path: dict[str, Entry] = {}
    for match in resolve_sources(root, full, ignore=ignore):
        rel = match[len(pivot_rel) + 1 :] if pivot_rel else match
        if excluder and excluder.matches_or_parent(rel):
            continue
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            ancestor = "/".join(parts[:depth])
            if ancestor not in by_path:
                host = resolve_in_root(root, f"{pivot_rel}/{ancestor}" if pivot_rel else ancestor)
                by_path[ancestor] = Entry(ancestor, "dir", host, os.stat(host))
        parent_host = resolve_in_root(root, posixpath.dirname(match))
        top = _lstat_entry(rel, os.path.join(parent_host, parts[-1]))
        by_path[rel] = top
        if top.kind == "dir":
            real = os.path.relpath(top.fspath, root)
            for entry in walk(root, real, ignore=ignore):
                sub = f"{rel}/{entry.path}"
                if not (excluder and excluder.matches_or_parent(sub)):
                    by_path[sub] = attrs.evolve(entry, path=sub)
    entries = tuple(sorted(by_path.values(), key=lambda e: e.path.split("/")))
    _check_kinds(entries, spec, pivot_rel)
    top = Entry("", "dir", pivot_host, os.stat(pivot_host))
    return [_Item(pivot_rel, (top, *entries), True, not spec.from_context, source=f"{pivot_rel or '.'}/.")]


def _select_local(spec: CopySpec) -> list[tuple[int, list[_Item]]]:
    """Local sources pattern by pattern, each with its position in `spec.sources`."""
    positions = [i for i, s in enumerate(spec.sources) if not (spec.is_add and (is_url(s) or is_git(s)))]
    if not positions:
        return []
    if spec.source_root is None:
        raise BuildError(f"{spec.instruction} has local sources but no source root")
    root = os.fspath(spec.source_root)
    if not os.path.isdir(root):
        raise ContextError(f"source root {root} is not a directory")
    out = []
    for index in positions:
        pattern = spec.sources[index]
        if spec.parents:
            out.append((index, _select_parents(spec, root, pattern)))
        else:
            out.append((index, _select_plain(spec, root, [pattern])))
    return out


def _scratch_item(path: Path, *, contents: bool, archive: bool = False) -> _Item:
    entries = [_lstat_entry("", os.fspath(path))]
    if contents:
        entries.extend(walk(path))
    return _Item(path.name, tuple(entries), contents, False, archive)


def _fetch_remote(spec: CopySpec, scratch: Path) -> list[tuple[int, _Item]]:
    """Remote ADD sources (with their position in `sources`), fetched and verified."""
    out = []
    for index, source in enumerate(spec.sources):
        if not spec.is_add or not (is_url(source) or is_git(source)):
            continue
        into = scratch / f"remote-{index}"
        into.mkdir()
        if is_git(source):
            checkout = fetch_git(source, into, keep_git_dir=spec.keep_git_dir, checksum=spec.checksum)
            out.append((index, _scratch_item(checkout, contents=True)))
        else:
            path = download(source, into, checksum=spec.checksum)
            archive = bool(spec.unpack) and is_archive(path)
            out.append((index, _scratch_item(path, contents=False, archive=archive)))
    return out


def _inline_items(spec: CopySpec, scratch: Path) -> list[_Item]:
    items = []
    for index, (name, data) in enumerate(spec.inline):
        base = posixpath.basename(name.strip("/")) or "heredoc"
        folder = scratch / f"inline-{index}"
        folder.mkdir()
        path = folder / base
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape"))
        os.chmod(path, 0o644)
        items.append(_scratch_item(path, contents=False))
    return items


# -- writing --------------------------------------------------------------------------------


class _Writer:
    def __init__(self, tree: DestTree, spec: CopySpec, owner: Owner | None, mode: ModeChange | None) -> None:
        self.tree = tree
        self.spec = spec
        self.owner = owner
        self.mode = mode
        self.links: dict[tuple[int, int], str] = {}
        self.dirs: list[tuple[str, int, int]] = []
        self.dest_is_dir = spec.dest.endswith(("/", "/.")) or spec.dest in (".", "")

    def ids(self, item: _Item, st: EntryStat) -> tuple[int, int]:
        if self.owner is not None:
            return self.owner.uid, self.owner.gid
        if item.keep_owner:
            return st.st_uid, st.st_gid
        return 0, 0

    def new_mode(self, st: EntryStat, is_dir: bool) -> int:
        if self.mode is None:
            return stat_mod.S_IMODE(st.st_mode)
        return self.mode.apply(st.st_mode, is_dir=is_dir)

    def parent_ids(self) -> tuple[int, int]:
        return (self.owner.uid, self.owner.gid) if self.owner else (0, 0)

    def write_item(self, item: _Item) -> None:
        uid, gid = self.parent_ids()
        if item.archive:
            extract_archive(item.entries[0].fspath, self.tree, self.spec.dest, uid=uid, gid=gid)
            return
        if item.contents:
            base = self.tree.ensure_dir(self.spec.dest, uid=uid, gid=gid)
            hosts = {"": base}
            for entry in item.entries[1:]:
                parent_rel = posixpath.dirname(entry.path)
                parent = hosts.get(parent_rel)
                if parent is None:
                    parent = self.tree.ensure_dir(container_path(self.spec.dest, parent_rel), uid=uid, gid=gid)
                host = self.write_entry(item, entry, parent, posixpath.basename(entry.path))
                if entry.kind == "dir":
                    hosts[entry.path] = host
            return
        top = item.entries[0]
        resolved = self.tree.resolve(self.spec.dest)
        if self.dest_is_dir or os.path.isdir(resolved):
            parent = self.tree.ensure_dir(self.spec.dest, uid=uid, gid=gid)
            name = item.name
        else:
            parent = self.tree.ensure_dir("/" + self.tree.root_rel(os.path.dirname(resolved)), uid=uid, gid=gid)
            name = os.path.basename(resolved)
        self.write_entry(item, top, parent, name)

    def write_entry(self, item: _Item, entry: Entry, parent: str, name: str) -> str:
        st = entry.stat
        uid, gid = self.ids(item, st)
        mtime = st.st_mtime_ns if self.spec.timestamp is None else self.spec.timestamp * 1_000_000_000
        if entry.kind == "dir":
            host, _ = self.tree.open_dir(parent, name)
            mode = self.new_mode(st, True)
            self.tree.set_meta(host, uid=uid, gid=gid, mode=mode | 0o700, mtime_ns=None, xattrs=read_xattrs(entry.fspath))
            self.dirs.append((host, mode, mtime))
            self.record(host, "dir", mode, uid, gid)
            return host
        xattrs = read_xattrs(entry.fspath)
        if entry.kind == "symlink":
            target = entry.target or ""

            def make_link(tmp: str) -> None:
                os.symlink(target, tmp)
                self.tree.set_meta(tmp, uid=uid, gid=gid, mode=None, mtime_ns=mtime, xattrs=xattrs)

            host = self.tree.place(parent, name, make_link)
            self.record(host, "symlink", 0o777, uid, gid, target=target)
            return host
        mode = self.new_mode(st, False)
        if entry.kind == "file":
            key = (st.st_dev, st.st_ino)
            first = self.links.get(key) if st.st_nlink > 1 else None
            if first is not None and os.path.lexists(first):
                host = self.tree.place(parent, name, lambda tmp: os.link(first, tmp, follow_symlinks=False))
                self.record(host, "hardlink", mode, uid, gid, target="/" + self.tree.rel(first))
                return host
            result: dict[str, object] = {}
            error = ContextError if self.spec.from_context else BuildError

            def make_file(tmp: str) -> None:
                result["content"], result["size"] = copy_content(entry.fspath, tmp, src_error=error)
                self.tree.set_meta(tmp, uid=uid, gid=gid, mode=mode, mtime_ns=mtime, xattrs=xattrs)

            host = self.tree.place(parent, name, make_file)
            if st.st_nlink > 1:
                self.links[key] = host
            self.record(host, "file", mode, uid, gid, size=result["size"], content=result["content"])
            return host
        kind = "fifo" if stat_mod.S_ISFIFO(st.st_mode) else "char" if stat_mod.S_ISCHR(st.st_mode) else "block"

        def make_node(tmp: str) -> None:
            if kind == "fifo":
                os.mkfifo(tmp, 0o600)
            else:
                os.mknod(tmp, stat_mod.S_IFMT(st.st_mode) | 0o600, st.st_rdev)
            self.tree.set_meta(tmp, uid=uid, gid=gid, mode=mode, mtime_ns=mtime, xattrs=xattrs)

        host = self.tree.place(parent, name, make_node)
        self.record(host, kind, mode, uid, gid)
        return host

    def record(self, host: str, kind: str, mode: int, uid: int, gid: int, **extra: object) -> None:
        self.tree.records.append(WrittenEntry(self.tree.rel(host), kind, mode, uid, gid, **extra))  # type: ignore[arg-type]

    def finish(self) -> None:
        """Directory modes and times last: writing children would bump the times, and a 0555
        directory must still accept them."""
        for host, mode, mtime in reversed(self.dirs):
            os.chmod(host, mode)
            os.utime(host, ns=(mtime, mtime))
        if self.spec.timestamp is not None:
            stamp = self.spec.timestamp * 1_000_000_000
            for host in reversed(self.tree.created_dirs):
                os.utime(host, ns=(stamp, stamp))


# -- public API -----------------------------------------------------------------------------


def _ordered_items(spec: CopySpec, scratch: Path) -> list[_Item]:
    """Every source as items, in the order they are written (sources as listed, then heredocs).

    Everything that can fail on the input (selection, fetching, checksums) happens here, before
    the first write into the destination.
    """
    by_position: dict[int, list[_Item]] = dict(_select_local(spec))
    for index, item in _fetch_remote(spec, scratch):
        by_position[index] = [item]
    ordered = [item for index in sorted(by_position) for item in by_position[index]]
    return ordered + _inline_items(spec, scratch)


def _validate(spec: CopySpec) -> None:
    if not spec.dest.startswith("/"):
        raise BuildError(f"{spec.instruction} destination {spec.dest!r} must be an absolute path")
    if not spec.sources and not spec.inline:
        raise BuildError("no source files were specified")


def apply_copy(spec: CopySpec, *, dest_root: Path) -> CopyResult:
    """Perform one COPY/ADD into `dest_root` (the stage's root filesystem directory)."""
    _validate(spec)
    mode = parse_mode_change(spec.chmod) if spec.chmod else None
    owner = resolve_chown(spec.chown, Path(spec.user_root or dest_root)) if spec.chown else None
    tree = DestTree(dest_root)
    with tempfile.TemporaryDirectory(prefix="pybuildkit-copy-", dir=spec.scratch_dir) as scratch_name:
        items = _ordered_items(spec, Path(scratch_name))
        writer = _Writer(tree, spec, owner, mode)
        if not items and not spec.allow_empty_wildcard:
            raise BuildError(
                f"no source files were specified: {', '.join(spec.sources) or 'nothing'} matched nothing",
            )
        if len(items) > 1 and not spec.parents and not writer.dest_is_dir and not os.path.isdir(tree.resolve(spec.dest)):
            raise BuildError(
                f"When using {spec.instruction} with more than one source file, the destination must be a "
                "directory and end with a /",
                hint=f"write the destination as {spec.dest.rstrip('/')}/",
            )
        for item in items:
            writer.write_item(item)
        writer.finish()
    seen: dict[str, None] = {}
    for record in tree.records:
        seen.setdefault(record.path, None)
    return CopyResult(tuple(seen), tuple(tree.records), manifest_digest(tree.records))


def _selection_for_digest(spec: CopySpec) -> Iterator[Selected]:
    for _, items in _select_local(spec):
        for item in items:
            yield Selected(item.source, item.entries)


def source_digest(spec: CopySpec, *, checksummer: Checksummer | None = None) -> tuple[str, dict[str, str]]:
    """Digest of what `spec`'s local sources select (plus its heredocs), without copying.

    Returns (digest, manifest): the manifest maps `source/relpath` (the source as selected,
    `/`-joined with the path below it) and `<<name` for heredocs to per-entry digests. Built on
    `pybuildkit.context.Checksummer`, so an unchanged file costs a `stat` when its memo is warm
    (without a `checksummer`, one is made from `spec.checksum_mode` and `spec.memo_path`, and
    its memo is flushed before returning).
    Remote ADD sources are not included: their content is only known by fetching them.
    """
    summer = checksummer
    if summer is None:
        memo = DigestMemo(spec.memo_path) if spec.memo_path is not None else DigestMemo()
        summer = Checksummer(spec.checksum_mode, memo)
    selection = list(_selection_for_digest(spec))
    selection_digest, digests = summer.selection_digests(selection)
    manifest: dict[str, str] = {}
    for selected, entry_digests in zip(selection, digests):
        for entry, digest in zip(selected.entries, entry_digests):
            key = posixpath.join(selected.source, entry.path) if entry.path else selected.source
            manifest[key] = digest
    if checksummer is None:
        summer.memo.flush()
    parts = [selection_digest]
    for name, data in spec.inline:
        raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape")
        key = f"<<{name}"
        manifest[key] = "sha256:" + hashlib.sha256(raw).hexdigest()
        parts.append(f"{key}\0{manifest[key]}")
    if len(parts) == 1:
        return parts[0], manifest
    return "sha256:" + hashlib.sha256("\n".join(parts).encode()).hexdigest(), manifest


def remote_identities(spec: CopySpec) -> dict[str, str | None]:
    """What each remote ADD source is known by right now, without fetching it (for cache keys).

    A URL with --checksum is its checksum; else the server's validators from a HEAD request
    (ETag, or Last-Modified and length), or None when it sends none: such a step cannot be
    trusted from the cache. A git source is the commit its ref points at (`git ls-remote`).
    """
    out: dict[str, str | None] = {}
    if not spec.is_add:
        return out
    for source in spec.sources:
        if is_git(source):
            out[source] = "git:" + git_identity(source)
        elif is_url(source):
            if spec.checksum:
                out[source] = "checksum:" + spec.checksum
            else:
                identity = url_identity(source)
                out[source] = None if identity is None else "http:" + identity
    return out
