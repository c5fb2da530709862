"""How ADD tells a remote source from a path: the one classification the planner and fetcher share."""

from __future__ import annotations

__all__ = ["is_git", "is_url"]


def is_git(src: str) -> bool:
    """A git source as BuildKit's ADD sees one: git://, git@host:, ssh://, or http(s) ending in .git."""
    lowered = src.lower()
    if lowered.startswith(("git://", "git@", "ssh://")):
        return True
    if lowered.startswith(("http://", "https://")):
        path = lowered.split("#", 1)[0].split("?", 1)[0]
        return path.endswith(".git")
    return False


def is_url(src: str) -> bool:
    """An http(s) URL that is not a git repository."""
    return src.lower().startswith(("http://", "https://")) and not is_git(src)
