"""Property: the pruned walk keeps exactly the files the pattern rules keep.

The walker skips excluded directories without opening them whenever no exception can reach
inside; this checks that pruning never loses a file the rules would keep, and never keeps one
they drop, for random pattern lists (exceptions included) over a fixed tree.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybuildkit.context.dockerignore import PatternMatcher
from pybuildkit.context.walker import walk

_FILES = ("a/b/c/d", "a/b/x", "a/c", "a/bb", "b/a", "b/b/b", "c", ".hidden/c")
_ATOMS = ("a", "b", "a/b", "*", "**", "a/*", "**/b", "b*", "a/b/c", "c", "a/b/c/d", "**/c", ".*", "?/b", "a/**")



@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("walk-property")
    for name in _FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    return root

_patterns = st.lists(st.tuples(st.booleans(), st.sampled_from(_ATOMS)), min_size=1, max_size=5).map(
    lambda items: ["!" + atom if negate else atom for negate, atom in items]
)


@settings(max_examples=300, deadline=None)
@given(_patterns)
def test_pruned_walk_equals_the_rules(tree: Path, patterns: list[str]) -> None:
    matcher = PatternMatcher.from_patterns(patterns)
    walked = {e.path for e in walk(tree, ignore=matcher) if e.kind == "file"}
    assert walked == {name for name in _FILES if not matcher.matches_in_walk(name)}


@settings(max_examples=200, deadline=None)
@given(_patterns)
def test_every_walked_entry_has_its_parents_first(tree: Path, patterns: list[str]) -> None:
    seen: set[str] = set()
    for entry in walk(tree, ignore=PatternMatcher.from_patterns(patterns)):
        parent = entry.path.rpartition("/")[0]
        assert not parent or parent in seen
        seen.add(entry.path)
