"""Fuzzing the .dockerignore matcher: any pattern text and any path give an answer or a
ContextError (bad pattern), never a regex error, an IndexError or a hang.

`check_dockerignore` is the property (also driven by atheris in benchmarks/fuzz.py).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybuildkit.errors import PybuildkitError

__all__ = ["check_dockerignore"]

PIECES = ("*", "**", "?", "[", "]", "[!a-z]", "[^", "\\", "!", "/", "..", ".", "a", "b/", "-", "{", "}", "\n", " ")


def check_dockerignore(data: bytes) -> None:
    """Patterns, then NUL, then paths to match (one per line)."""
    from pybuildkit.context.dockerignore import PatternMatcher, parse_ignore_text

    patterns, _, paths = data.partition(b"\0")
    try:
        matcher = PatternMatcher.from_patterns(parse_ignore_text(patterns))
    except PybuildkitError:
        return
    for path in paths.decode("utf-8", "replace").split("\n")[:20]:
        matcher.matches_or_parent(path)
        matcher.matches_in_walk(path)
        matcher.may_match_below(path)


text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=16).map("".join)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.lists(text, max_size=8), st.lists(text, max_size=8))
def test_patterns_and_paths(patterns: list[str], paths: list[str]) -> None:
    check_dockerignore("\n".join(patterns).encode("utf-8", "surrogatepass") + b"\0" + "\n".join(paths).encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    check_dockerignore(data)
