"""Pure matcher pieces beyond the corpus: Go path cleaning, ignore-file reading, pattern kinds,
pruning hints, COPY wildcards."""

from __future__ import annotations

import pytest

from pybuildkit.context.dockerignore import (
    Pattern,
    PatternMatcher,
    clean_path,
    glob_regex,
    has_wildcards,
    parent_dir,
    parse_ignore_text,
)
from pybuildkit.errors import ContextError


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("", "."),
        (".", "."),
        ("a/", "a"),
        ("//a//b/", "/a/b"),
        ("a/./b/../c", "a/c"),
        ("../../a", "../../a"),
        ("/../a", "/a"),
        ("a/../..", ".."),
        ("/", "/"),
        ("!x/../y", "y"),
    ],
)
def test_clean_path_is_go_filepath_clean(raw: str, clean: str) -> None:
    assert clean_path(raw) == clean


@pytest.mark.parametrize(("raw", "parent"), [("a", "."), ("a/b", "a"), ("a/b/", "a/b"), ("/a", "/"), ("/", "/")])
def test_parent_dir_is_go_filepath_dir(raw: str, parent: str) -> None:
    assert parent_dir(raw) == parent


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("\ufeffa\r\nb\r\n", ("a", "b")),
        (b"\xef\xbb\xbfa\n", ("a",)),
        ("  # not a comment\n# comment\n", ("# not a comment",)),
        ("/\n", ("/",)),
        ("!  /x/  \n", ("!x",)),
        ("a/**/\n./b\n", ("a/**", "b")),
        ("", ()),
    ],
)
def test_parse_ignore_text(text: str | bytes, lines: tuple[str, ...]) -> None:
    assert parse_ignore_text(text) == lines


@pytest.mark.parametrize(
    ("pattern", "kind"),
    [("a.txt", "exact"), ("a/**", "prefix"), ("**/a", "suffix"), ("**a", "suffix"), ("a*", "regexp"), ("a\\b", "regexp")],
)
def test_pattern_kind(pattern: str, kind: str) -> None:
    assert Pattern.compile(pattern).kind == kind


@pytest.mark.parametrize(
    ("patterns", "path", "expected"),
    [
        (["**file"], "myfile", True),  # upstream's suffix fast path is not component-aligned
        (["**/file"], "myfile", False),
        (["a[/]b"], "a/b", True),
        (["*.go", "!keep.go"], "src/x.go", False),  # * never crosses /
        (["src/*.go"], "src/x.go", True),
        (["src"], "src/deep/er/file", True),  # a matching directory excludes everything below
        (["src", "!src/keep"], "src/keep/x", False),
        (["src", "!src/keep", "src/keep/x"], "src/keep/x", True),  # the last matching line wins
        (["a\\*b"], "a*b", True),
        (["a\\*b"], "axb", False),
        (["[!]"], "!", True),
    ],
)
def test_matches_or_parent(patterns: list[str], path: str, expected: bool) -> None:
    assert PatternMatcher.from_patterns(patterns).matches_or_parent(path) is expected


@pytest.mark.parametrize("pattern", ["[", "a[", "[]", "[z-a]", "\\", "[a-]", "!"])
def test_bad_patterns_are_context_errors(pattern: str) -> None:
    with pytest.raises(ContextError) as info:
        PatternMatcher.from_patterns([pattern])
    assert "pattern" in info.value.render()


@pytest.mark.parametrize(
    ("patterns", "directory", "expected"),
    [
        (["foo"], "foo", False),
        (["foo", "!foo/bar"], "foo", True),
        (["foo", "!foo/bar"], "foo/baz", False),
        (["foo", "!foo/bar/**"], "foo", True),
        (["foo", "!**/keep"], "foo", True),  # a wildcard exception may match anywhere
        (["foo", "!other"], "foo", False),
    ],
)
def test_may_include_below(patterns: list[str], directory: str, expected: bool) -> None:
    assert PatternMatcher.from_patterns(patterns).may_include_below(directory) is expected


@pytest.mark.parametrize(
    ("patterns", "directory", "expected"),
    [(["a/b/c"], "a", True), (["a/b/c"], "x", False), (["a/*"], "a", True), (["*/c"], "x", True)],
)
def test_may_match_below(patterns: list[str], directory: str, expected: bool) -> None:
    assert PatternMatcher.from_patterns(patterns).may_match_below(directory) is expected


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [("*.txt", "a.txt", True), ("*.txt", "a/b.txt", False), ("[ab]?", "bz", True), ("a\\*", "a*", True), ("a\\*", "ab", False)],
)
def test_glob_regex(pattern: str, name: str, expected: bool) -> None:
    assert (glob_regex(pattern).fullmatch(name) is not None) is expected


def test_glob_regex_rejects_bad_pattern() -> None:
    with pytest.raises(ContextError, match="syntax error"):
        glob_regex("[")


@pytest.mark.parametrize(("path", "expected"), [("a", False), ("a*", True), ("a\\*", False), ("x/[ab]", True), ("?", True)])
def test_has_wildcards(path: str, expected: bool) -> None:
    assert has_wildcards(path) is expected


def test_matches_with_parent_rejects_foreign_info() -> None:
    matcher = PatternMatcher.from_patterns(["a", "b"])
    with pytest.raises(ValueError):
        matcher.matches_with_parent("x", (True,))


@pytest.mark.parametrize(
    ("patterns", "path", "walked", "or_parent"),
    [
        (["a/b/c", "!**/b"], "a/b/c", True, False),
        (["**", "!**/b", "a"], "a/b", False, True),
        (["src", "!src/keep"], "src/keep/x", False, False),
    ],
)
def test_walk_verdict_versus_ancestor_rule(patterns: list[str], path: str, walked: bool, or_parent: bool) -> None:
    """Upstream's two APIs disagree when exceptions interleave; both are kept, the walk's is used."""
    matcher = PatternMatcher.from_patterns(patterns)
    assert matcher.matches_in_walk(path) is walked
    assert matcher.matches_or_parent(path) is or_parent
