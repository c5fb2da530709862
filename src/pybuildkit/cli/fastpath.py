"""The no-change fast path of `pybuild build`: when nothing a build reads has changed, say so by
`stat` alone, before importing the build engine.

A CI job that rebuilds an unchanged tree pays mostly for Python importing the parser, planner and
executor. This module uses the standard library only. Its fingerprint covers everything the build
reads: the Dockerfile and its ignore files, every entry of the context by (path, type, mode, size,
mtime, ctime, inode, link target), the command line's options and the environment variables a
build reads. Next to it the store's state: every tag and the image it names. When both equal what
the last successful build recorded, its result stands: every step would come from the cache and
produce the same image. Anything it cannot vouch for — remote ADD sources, --no-cache, extra
outputs, cache import/export, JSON progress, a file modified in the last moments — takes the
ordinary path, which stays the single source of truth.

When an ignore file applies, the walk leaves out what it excludes exactly as the context walker
does (same matcher, same per-directory match results, same descent into an excluded directory
only when an exception could bring something back), so editing a log or a dependency cache the
build never sees keeps the fast path. The matcher is imported only then: it costs start-up.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

__all__ = ["FASTPATH_VERSION", "fingerprint", "lookup", "remember", "store_state"]

FASTPATH_VERSION = 2

#: Options that only shape what is printed or written about the result, never the result itself.
_OUTPUT_ONLY = {"progress", "explain", "report", "metadata_file", "iidfile", "func", "debug", "command"}
#: Options whose presence means the build does more than produce the stored image.
_NEEDS_FULL_BUILD = ("no_cache", "no_cache_filter", "output", "cache_to", "cache_from", "verify_cache", "debug_on_fail", "pull")
#: Environment variables a build reads.
_ENVIRONMENT = ("SOURCE_DATE_EPOCH", "BUILDKIT_DOCKERFILE_CHECK", "PYBUILDKIT_ROOT", "XDG_DATA_HOME", "HOME", "SSH_AUTH_SOCK")
_REMOTE_ADD = re.compile(r"(?im)^\s*(?:onbuild\s+)?add\b[^\n]*(?:://|git@)")
#: A file changed this recently might change again within the same timestamp tick.
_RACY_NS = 100_000_000


class _Racy(Exception):
    """A file was modified too recently for its stat to vouch for its content."""


def _digest_tree(root: Path, h: Any, now_ns: int, ignore: Any = None) -> int:
    """Feed every entry below `root` that the build can see to `h` in a stable order; returns
    the entry count. `ignore` is the build's PatternMatcher, or None without an ignore file."""
    count = 0
    stack: list[tuple[str, str, tuple[bool, ...]]] = [("", os.fspath(root), ())]
    while stack:
        rel, path, parent_info = stack.pop()
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name, reverse=True)
        except OSError as exc:
            h.update(f"!{rel}:{exc.errno}\n".encode())
            continue
        for entry in entries:
            name = f"{rel}/{entry.name}" if rel else entry.name
            info: tuple[bool, ...] = ()
            if ignore is not None:
                excluded, info = ignore.matches_with_parent(name, parent_info)
                if excluded:
                    # The walker opens an excluded directory only when an exception could
                    # re-include something below it; everything else here the build never reads.
                    if not (entry.is_dir(follow_symlinks=False) and ignore.may_include_below(name)):
                        continue
            st = entry.stat(follow_symlinks=False)
            if now_ns - max(st.st_mtime_ns, st.st_ctime_ns) < _RACY_NS:
                raise _Racy(entry.path)
            link = os.readlink(entry.path) if stat.S_ISLNK(st.st_mode) else ""
            h.update(
                f"{name}\0{st.st_mode}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\0{st.st_dev}\0{link}\n".encode(
                    "utf-8", "surrogateescape"
                )
            )
            count += 1
            if stat.S_ISDIR(st.st_mode):
                stack.append((name, entry.path, info))
    return count


def _ignore_matcher(data: bytes) -> Any:
    """The build's PatternMatcher for ignore file content `data` (a malformed file raises the
    ContextError the ordinary build reports)."""
    from pybuildkit.context.dockerignore import PatternMatcher, parse_ignore_text

    return PatternMatcher.from_patterns(parse_ignore_text(data))


def fingerprint(args: argparse.Namespace, root: Path) -> str | None:
    """The digest of everything this build reads, or None when the fast path must not be used."""
    if os.environ.get("PYBUILDKIT_NO_FASTPATH", "") not in ("", "0"):
        return None
    if any(getattr(args, name, None) for name in _NEEDS_FULL_BUILD) or args.progress == "json":
        return None
    if getattr(args, "call", "build") != "build" or getattr(args, "check", False) or args.file == "-":
        return None
    context = Path(args.context)
    dockerfile = Path(args.file) if args.file else context / "Dockerfile"
    try:
        text = dockerfile.read_bytes()
    except OSError:
        return None
    if _REMOTE_ADD.search(text.decode("utf-8", "replace")):
        return None
    h = hashlib.sha256(f"pybuild fastpath v{FASTPATH_VERSION}\n".encode())
    options = {k: v for k, v in sorted(vars(args).items()) if k not in _OUTPUT_ONLY}
    h.update(json.dumps(options, sort_keys=True, default=str).encode())
    h.update(json.dumps({k: os.environ.get(k) for k in _ENVIRONMENT}, sort_keys=True).encode())
    for item in args.build_arg or ():
        key = item.partition("=")[0]
        h.update(f"env:{key}={os.environ.get(key)}\n".encode())
    h.update(os.path.abspath(context).encode() + b"\0" + os.path.abspath(dockerfile).encode() + b"\0" + text)
    now_ns = time.time_ns()
    ignore = None
    try:
        # Both are fingerprinted; the first that exists is the one the build applies.
        applies: bytes | None = None
        for extra in (Path(f"{dockerfile}.dockerignore"), context / ".dockerignore"):
            if extra.is_file():
                data = extra.read_bytes()
                h.update(extra.name.encode() + b"\0" + data + b"\0")
                applies = data if applies is None else applies
        if applies is not None:
            from pybuildkit.errors import ContextError

            try:
                ignore = _ignore_matcher(applies) or None
            except ContextError:
                return None  # the ordinary build reports the bad line
        h.update(f"entries:{_digest_tree(context, h, now_ns, ignore)}".encode())
    except (_Racy, OSError):
        return None
    return h.hexdigest()


def store_state(root: Path) -> str | None:
    """A digest of every tag and the image it names (read-only; None without a store)."""
    db = root / "store.db"
    if not db.is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5.0)
        try:
            rows = conn.execute("SELECT name, digest FROM tags ORDER BY name").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def _record_path(root: Path, key: str) -> Path:
    return root / "builds" / "fastpath" / f"{key[:32]}.json"


def lookup(root: Path, key: str | None) -> dict[str, Any] | None:
    """The recorded result of the last build with this fingerprint, if the store still matches."""
    if key is None:
        return None
    try:
        record = json.loads(_record_path(root, key).read_text())
    except (OSError, ValueError):
        return None
    if record.get("fingerprint") != key or record.get("store") != store_state(root):
        return None
    return record


def remember(root: Path, key: str | None, result: dict[str, Any]) -> None:
    """Record a successful build's result under its fingerprint (after the build, with the store
    state it left). Failure to record only costs the next build its fast path."""
    if key is None:
        return
    from pybuildkit.atomicfile import atomic_write_json

    record = dict(result, fingerprint=key, store=store_state(root))
    try:
        atomic_write_json(_record_path(root, key), record, parents=True)
    except OSError:
        pass
