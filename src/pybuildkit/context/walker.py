"""Walking the build context: what a COPY/ADD can see, in a stable order, without leaving the root.

The walk follows tonistiigi/fsutil (what BuildKit uses to send a context): entries in lexical
order per directory, parents before children; a directory that is excluded (or not included) is
not reported but is still descended into when a pattern could bring something below it back, and
it is then reported lazily, just before the first thing inside it that survives. Symlinks are
never followed during the walk, so a link pointing outside the context is reported as a link and
its target is never read. Only a COPY source itself is resolved through links, and that
resolution is scoped to the root like a chroot: absolute targets and `..` cannot climb out.

Each entry is stat'ed once (`os.scandir` gives the type for free; one `lstat` per reported
entry), and that stat travels with the entry so checksumming never stats again. It travels as an
`EntryStat` holding only the fields COPY and the checksums read: a full `os.stat_result` carries
the float times and a dozen more objects, about 750 bytes an entry, which is 75 MB at the peak of
a 100,000-file COPY.
"""

from __future__ import annotations

import errno
import os
import stat as stat_mod
from collections.abc import Iterator, Sequence

import attrs

from pybuildkit.context.dockerignore import (
    MatchInfo,
    PatternMatcher,
    clean_path,
    glob_regex,
    has_wildcards,
)
from pybuildkit.fspath import resolve_in_root as _resolve_in_root
from pybuildkit.errors import ContextError

__all__ = [
    "Entry",
    "EntryStat",
    "Selected",
    "entry_for",
    "walk",
    "resolve_in_root",
    "context_path",
    "resolve_sources",
    "select",
]

@attrs.frozen
class EntryStat:
    """The part of an lstat that copying and checksumming read, under `os.stat_result`'s names,
    so code written against a stat result reads it unchanged at a fraction of the memory."""

    st_mode: int
    st_ino: int
    st_dev: int
    st_nlink: int
    st_uid: int
    st_gid: int
    st_size: int
    st_rdev: int
    st_mtime_ns: int
    st_ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result | EntryStat) -> EntryStat:
        """The slim copy of `st` (itself when it already is one)."""
        if isinstance(st, EntryStat):
            return st
        return cls(
            st.st_mode,
            st.st_ino,
            st.st_dev,
            st.st_nlink,
            st.st_uid,
            st.st_gid,
            st.st_size,
            st.st_rdev,
            st.st_mtime_ns,
            st.st_ctime_ns,
        )


@attrs.frozen
class Entry:
    """One thing in the context. `path` is relative to the walk's start, `/`-separated (`""` for
    the start itself); `fspath` is where it is on disk; `stat` is its lstat (for a followed COPY
    source, the stat of the link's target), kept as an `EntryStat` whatever was passed in;
    `target` is a symlink's target text."""

    path: str
    kind: str  # "file" | "dir" | "symlink" | "other"
    fspath: str = attrs.field(repr=False)
    stat: EntryStat = attrs.field(eq=False, repr=False, converter=EntryStat.of)
    target: str | None = None

    def describe(self) -> str:
        """`file foo`, `dir foo`, `symlink:target foo`: the conformance corpus's notation."""
        kind = f"symlink:{self.target}" if self.kind == "symlink" else self.kind
        return f"{kind} {self.path}"


def _kind(mode: int) -> str:
    if stat_mod.S_ISREG(mode):
        return "file"
    if stat_mod.S_ISDIR(mode):
        return "dir"
    if stat_mod.S_ISLNK(mode):
        return "symlink"
    return "other"


def entry_for(path: str, fspath: str, st: os.stat_result | EntryStat) -> Entry:
    """An Entry from a stat already taken (reads the link target of a symlink, nothing else)."""
    kind = _kind(st.st_mode)
    target = os.readlink(fspath) if kind == "symlink" else None
    return Entry(path, kind, fspath, st, target)


def _require_root(root: str) -> None:
    if not os.path.isdir(root):
        raise ContextError(f"build context {root!r} does not exist or is not a directory")


def context_path(path: str) -> str:
    """A COPY source or walk start as a clean context-relative path: `/a/../b/` -> `b`, `..` -> ``.

    Sources are anchored at the context root, so `..` and absolute paths are clamped to it
    rather than escaping (what BuildKit does with them).
    """
    cleaned = clean_path("/" + path)
    return cleaned.lstrip("/")


def resolve_in_root(root: str | os.PathLike[str], rel: str) -> str:
    """The on-disk path of context-relative `rel`, following symlinks as if `root` were `/`
    (:func:`pybuildkit.fspath.resolve_in_root`); a link loop is the context's error.

    Missing trailing components are allowed (the caller decides whether absence is an error).
    """
    try:
        return _resolve_in_root(root, rel)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ContextError(f"too many levels of symbolic links resolving {rel!r} in the context") from None
        raise


class _Layer:
    """One pattern filter applied during a walk: `prefix` turns walk paths into the matcher's
    frame of reference (the .dockerignore is relative to the context root, --exclude to the
    source), `include` says whether a match keeps (include) or drops (exclude) the entry."""

    __slots__ = ("matcher", "include", "prefix")

    def __init__(self, matcher: PatternMatcher, include: bool, prefix: str) -> None:
        self.matcher = matcher
        self.include = include
        self.prefix = prefix

    def start_info(self) -> tuple[bool, MatchInfo]:
        """Verdict and match info of the walk's start directory, chained through its ancestors."""
        if not self.prefix:
            return False, ()
        verdict, info = False, ()
        parts = self.prefix.rstrip("/").split("/")
        for i in range(len(parts)):
            verdict, info = self.matcher.matches_with_parent("/".join(parts[: i + 1]), info)
        return verdict, info


class _Frame:
    """A directory being listed: its entries, how far we are, and its per-layer match info."""

    __slots__ = ("rel", "fspath", "entries", "index", "infos", "emitted", "dirent")

    def __init__(
        self,
        rel: str,
        fspath: str,
        entries: list[os.DirEntry[str]],
        infos: list[MatchInfo],
        emitted: bool,
        dirent: os.DirEntry[str] | None,
    ) -> None:
        self.rel = rel
        self.fspath = fspath
        self.entries = entries
        self.index = 0
        self.infos = infos
        self.emitted = emitted
        self.dirent = dirent


def _list_dir(fspath: str, rel: str, quiet: bool) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(fspath) as it:
            entries = list(it)
    except PermissionError:
        if quiet:
            return []
        raise ContextError(f"cannot read {rel or '.'!r} in the build context: permission denied") from None
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return []  # vanished while walking: nothing left to report
        raise ContextError(f"cannot read {rel or '.'!r} in the build context: {exc.strerror}") from None
    entries.sort(key=lambda e: e.name)
    return entries


def walk(
    root: str | os.PathLike[str],
    start: str = "",
    *,
    include: PatternMatcher | None = None,
    exclude: PatternMatcher | None = None,
    ignore: PatternMatcher | None = None,
) -> Iterator[Entry]:
    """Yield what is under directory `start` of context `root`, filtered, parents first.

    `ignore` (the .dockerignore) is matched against context-relative paths; `include` and
    `exclude` (COPY wildcards, `--exclude`) against paths relative to `start`, which are also the
    `path` of the yielded entries. The start directory itself is not yielded. Excluded
    directories are skipped without being opened unless an exception pattern could re-include
    something inside them.
    """
    root_fs = os.fspath(root)
    _require_root(root_fs)
    start_rel = context_path(start)
    top = resolve_in_root(root_fs, start_rel)
    if not os.path.isdir(top):
        raise ContextError(f"{('/' + start_rel)!r} is not a directory in the build context")
    real_rel = os.path.relpath(top, root_fs)
    start_rel = "" if real_rel == "." else real_rel  # the .dockerignore judges where files really are

    layers: list[_Layer] = []
    if ignore:
        layers.append(_Layer(ignore, False, start_rel + "/" if start_rel else ""))
    if exclude:
        layers.append(_Layer(exclude, False, ""))
    if include:
        layers.append(_Layer(include, True, ""))

    infos: list[MatchInfo] = []
    for layer in layers:
        verdict, info = layer.start_info()
        if not layer.include and verdict and not layer.matcher.may_include_below(layer.prefix.rstrip("/")):
            return  # the whole start directory is excluded and nothing can come back
        infos.append(info)

    stack = [_Frame("", top, _list_dir(top, start_rel, quiet=False), infos, True, None)]
    while stack:
        frame = stack[-1]
        if frame.index >= len(frame.entries):
            stack.pop()
            continue
        dirent = frame.entries[frame.index]
        frame.index += 1
        rel = frame.rel + dirent.name
        try:
            is_dir = dirent.is_dir(follow_symlinks=False)
        except OSError:
            continue

        skip = False
        prune = False
        child_infos: list[MatchInfo] = []
        for layer, parent_info in zip(layers, frame.infos):
            full = layer.prefix + rel
            matched, info = layer.matcher.matches_with_parent(full, parent_info)
            child_infos.append(info)
            if layer.include:
                if not matched:
                    skip = True
                    if is_dir and not layer.matcher.may_match_below(full):
                        prune = True
            elif matched:
                skip = True
                if is_dir and not layer.matcher.may_include_below(full):
                    prune = True
        if prune:
            continue

        if not skip:
            pending = [f for f in stack if not f.emitted]
            for parent in pending:
                assert parent.dirent is not None
                yield entry_for(parent.rel[:-1], parent.fspath, parent.dirent.stat(follow_symlinks=False))
                parent.emitted = True
            try:
                st = dirent.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            yield entry_for(rel, dirent.path, st)
        if is_dir:
            entries = _list_dir(dirent.path, rel, quiet=skip)
            if entries:
                stack.append(_Frame(rel + "/", dirent.path, entries, child_infos, not skip, dirent))


@attrs.frozen
class Selected:
    """One resolved COPY/ADD source: `source` is its context-relative path; `entries` starts with
    the source itself (path `""`) followed, for a directory, by everything kept below it."""

    source: str
    entries: tuple[Entry, ...]


def _visible(root: str, rel: str, ignore: PatternMatcher | None) -> bool:
    """Is context-relative `rel` part of the context once the .dockerignore has been applied?
    An ignored directory still is when an exception keeps something inside it."""
    if not ignore or not rel or not ignore.matches_in_walk(rel):
        return True
    fspath = os.path.join(root, rel)
    if not os.path.isdir(fspath) or os.path.islink(fspath):
        return False
    if not ignore.may_include_below(rel):
        return False
    return next(iter(walk(root, rel, ignore=ignore)), None) is not None


def _expand(root: str, base: str, parts: list[str], ignore: PatternMatcher | None) -> Iterator[str]:
    """Depth-first, lexical expansion of wildcard components below context-relative `base`."""
    if not parts:
        yield base
        return
    head, rest = parts[0], parts[1:]
    directory = resolve_in_root(root, base) if base else root
    if has_wildcards(head):
        regex = glob_regex(head)
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            return
        for name in names:
            if not regex.fullmatch(name):
                continue
            rel = f"{base}/{name}" if base else name
            if not _visible(root, rel, ignore):
                continue
            if rest and not os.path.isdir(os.path.join(directory, name)):
                continue
            if rest and os.path.islink(os.path.join(directory, name)):
                continue  # like BuildKit's walk: links below the fixed prefix are not followed
            yield from _expand(root, rel, rest, ignore)
    else:
        rel = f"{base}/{head}" if base else head
        if os.path.lexists(os.path.join(directory, head)) and _visible(root, rel, ignore):
            yield from _expand(root, rel, rest, ignore)


def resolve_sources(
    root: str | os.PathLike[str],
    source: str,
    *,
    ignore: PatternMatcher | None = None,
    allow_empty_wildcard: bool = True,
) -> list[str]:
    """Context-relative paths a COPY/ADD `source` names, wildcards expanded in walk order.

    A plain source must exist and not be ignored (ContextError `"/x": not found` otherwise, as
    BuildKit says); a wildcard source may match nothing unless `allow_empty_wildcard` is false.
    """
    root_fs = os.fspath(root)
    _require_root(root_fs)
    rel = context_path(source)
    if not has_wildcards(rel):
        if rel and not (os.path.lexists(resolve_in_root(root_fs, rel)) and _visible(root_fs, rel, ignore)):
            raise ContextError(f'"/{rel}": not found', hint=_not_found_hint(rel, ignore))
        resolved = os.path.relpath(resolve_in_root(root_fs, rel), root_fs)
        if resolved != "." and resolved != rel and not _visible(root_fs, resolved, ignore):
            raise ContextError(f'"/{rel}": not found', hint=f"it is a link to /{resolved}, which is ignored")
        return [rel]
    matches = list(_expand(root_fs, "", rel.split("/"), ignore))
    if not matches and not allow_empty_wildcard:
        raise ContextError(f'no source files were specified: "/{rel}" matches nothing in the build context')
    return matches


def _not_found_hint(rel: str, ignore: PatternMatcher | None) -> str | None:
    if ignore and ignore.matches_in_walk(rel):
        return "it is excluded by the .dockerignore file"
    return None


def _wildcard_base(source: str) -> str:
    """The fixed directory part of a wildcard source (`src/*.txt` -> `src`)."""
    fixed: list[str] = []
    for part in source.split("/"):
        if has_wildcards(part):
            break
        fixed.append(part)
    return "/".join(fixed)


def select(
    root: str | os.PathLike[str],
    sources: Sequence[str],
    *,
    ignore: PatternMatcher | None = None,
    exclude: Sequence[str] = (),
    allow_empty_wildcard: bool = True,
) -> tuple[Selected, ...]:
    """Everything COPY/ADD `sources` bring from the context, source by source.

    A source that is a link is followed (inside the root); a directory brings its filtered
    tree. `exclude` (`COPY --exclude`) is matched relative to each directory source for what is
    inside it, and, for a wildcard source, against each match's path relative to the wildcard's
    fixed directory, so `--exclude=*.txt *` drops `a.txt` as well as `dir/b.txt`.
    """
    root_fs = os.fspath(root)
    excluder = PatternMatcher.from_patterns(exclude) if exclude else None
    out: list[Selected] = []
    for source in sources:
        rel_source = context_path(source)
        wildcard = has_wildcards(rel_source)
        base = _wildcard_base(rel_source) if wildcard else ""
        for rel in resolve_sources(root_fs, source, ignore=ignore, allow_empty_wildcard=allow_empty_wildcard):
            if wildcard and excluder:
                relative = rel[len(base) + 1 :] if base else rel
                if excluder.matches_in_walk(relative):
                    continue
            fspath = resolve_in_root(root_fs, rel)
            try:
                st = os.stat(fspath, follow_symlinks=False)
            except FileNotFoundError:
                raise ContextError(f'"/{rel}": not found') from None
            top = entry_for("", fspath, st)
            entries = [top]
            if top.kind == "dir":
                entries.extend(walk(root_fs, rel, exclude=excluder, ignore=ignore))
            out.append(Selected(rel, tuple(entries)))
    return tuple(out)
