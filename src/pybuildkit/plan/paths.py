"""Container path arithmetic for WORKDIR, COPY/ADD destinations and mount targets (POSIX only).

A trailing slash on a COPY destination means "into this directory" and must survive
normalisation, so these helpers follow BuildKit's `system.NormalizePath` with `keepSlash`.
"""

from __future__ import annotations

import posixpath

from pybuildkit.errors import PlanError

__all__ = ["normalize_workdir", "resolve_dest", "resolve_target"]


def _clean(path: str) -> str:
    cleaned = posixpath.normpath(path)
    # POSIX keeps a leading `//`; Go's path.Clean does not.
    return "/" + cleaned.lstrip("/") if cleaned.startswith("/") else cleaned


def normalize_workdir(current: str, requested: str) -> str:
    """WORKDIR: relative paths are relative to the current one (`/` when unset); result is clean."""
    if requested == "":
        raise PlanError("WORKDIR cannot be empty")
    base = current or "/"
    return _clean(posixpath.join(base, requested)) if not requested.startswith("/") else _clean(requested)


def resolve_dest(workdir: str, dest: str) -> str:
    """A COPY/ADD destination made absolute against WORKDIR, trailing `/` (or `/.`) kept."""
    original = dest
    if dest in ("", "."):
        original = dest = "./"
    joined = dest if dest.startswith("/") else posixpath.join(workdir or "/", dest)
    out = _clean(joined)
    if original.endswith("/."):
        out = (out if out == "/" else out + "/") + "."
    elif original.endswith("/") and out != "/":
        out += "/"
    return out


def resolve_target(workdir: str, target: str) -> str:
    """A RUN mount target made absolute against WORKDIR; `/` itself is refused, as in BuildKit."""
    out = _clean(target if target.startswith("/") else posixpath.join("/", workdir or "/", target))
    if out == "/":
        raise PlanError(f'invalid mount target "{target}"')
    return out
