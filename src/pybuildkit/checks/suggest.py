"""'Did you mean ...?' for misspelt variable names, as BuildKit suggests them.

BuildKit offers the closest known name at edit distance below 3 (exact matches suggest nothing,
since then the name was not the problem). Options are sorted first so the suggestion is the same
on every run.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["levenshtein", "suggest"]


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions all cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def suggest(name: str, options: Iterable[str]) -> str:
    """The closest option (distance < 3), or "" when there is none or `name` itself is known."""
    best = ""
    best_distance = 3
    for option in sorted(set(options)):
        if option == name:
            return ""
        distance = levenshtein(name, option)
        if distance < best_distance:
            best, best_distance = option, distance
    return best
