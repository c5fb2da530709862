"""Finding and reading the ignore file of a build: the I/O half of `.dockerignore` handling.

BuildKit lets each Dockerfile carry its own ignore file, `<Dockerfile name>.dockerignore` beside
it, so one context can serve builds that need different exclusions; when it exists it replaces
the context root's `.dockerignore` (the two are not merged).
"""

from __future__ import annotations

import os
from pathlib import Path

from pybuildkit.context.dockerignore import PatternMatcher, parse_ignore_text
from pybuildkit.errors import ContextError

__all__ = ["find_ignore_file", "read_ignore_patterns", "load_ignore"]

_MAX_BYTES = 16 * 1024 * 1024


def find_ignore_file(context: str | os.PathLike[str], dockerfile: str | os.PathLike[str] | None = None) -> Path | None:
    """The ignore file that applies: `<dockerfile>.dockerignore` if present, else the context's
    `.dockerignore`, else None. `dockerfile` is the Dockerfile's path as given to the build."""
    if dockerfile is not None:
        own = Path(os.fspath(dockerfile) + ".dockerignore")
        if own.is_file():
            return own
    shared = Path(context) / ".dockerignore"
    if shared.is_file():
        return shared
    return None


def read_ignore_patterns(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """The pattern lines of one ignore file (comments, blanks and leading `/` handled)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_BYTES + 1)
    except OSError as exc:
        raise ContextError(f"cannot read {os.fspath(path)}: {exc.strerror}") from None
    if len(data) > _MAX_BYTES:
        raise ContextError(f"{os.fspath(path)} is larger than {_MAX_BYTES // (1024 * 1024)} MiB")
    return parse_ignore_text(data)


def load_ignore(context: str | os.PathLike[str], dockerfile: str | os.PathLike[str] | None = None) -> PatternMatcher:
    """The matcher for a build's context (empty when there is no ignore file).

    A malformed line (a lone `!`, an unclosed `[`) is a ContextError naming the file, so the
    build stops before anything is copied.
    """
    path = find_ignore_file(context, dockerfile)
    if path is None:
        return PatternMatcher()
    lines = read_ignore_patterns(path)
    try:
        return PatternMatcher.from_patterns(lines)
    except ContextError as exc:
        raise ContextError(f"{path}: {exc.message}", hint=exc.hint) from None
