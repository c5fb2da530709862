"""`pybuildkit.syntax.shell_pattern`: the `#`/`%`/`/` patterns and Go's replace-all rules."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybuildkit.syntax.shell_errors import ShellExpansionError
from pybuildkit.syntax.shell_pattern import (
    _search,
    parse_pattern,
    pattern_to_regex_text,
    replace_all,
    replace_first,
    reverse_pattern,
    trim_prefix,
    trim_suffix,
)

__all__: list[str] = []

FUZZ = settings(max_examples=300, deadline=None, database=None)


@pytest.mark.parametrize(
    ("pattern", "greedy", "anchored", "expected"),
    [
        ("*", True, True, "^.*"),
        ("*", False, True, "^.*?"),
        ("a?b", True, False, "a.b"),
        ("\\}\\/", True, False, "\\}/"),
        ("[x]+{1}", True, False, "\\[x\\]\\+\\{1\\}"),
        ("한*", False, False, "한.*?"),
        ("", True, True, "^"),
    ],
)
def test_regex_text(pattern: str, greedy: bool, anchored: bool, expected: str) -> None:
    assert pattern_to_regex_text(pattern, greedy=greedy, anchored=anchored) == expected


@pytest.mark.parametrize("pattern", ["\\", "a\\", "\\a", "\\.", "\\$"])
def test_invalid_escapes(pattern: str) -> None:
    with pytest.raises(ShellExpansionError, match="invalid escape"):
        pattern_to_regex_text(pattern, greedy=True, anchored=True)


@pytest.mark.parametrize(
    ("function", "pattern", "value", "expected"),
    [
        (trim_prefix, "a*", "abab", "bab"),
        (trim_suffix, "*b", "abab", "aba"),
        (trim_suffix, "\\**", "a**b", "a*"),
        (replace_first, "b", "abab", "a<$0>ab"),
        (replace_all, "b", "abab", "a<b>a<b>"),
        (replace_all, "", "ab", "<>a<>b<>"),
        (replace_all, "x*", "abxd", "ab<xd>"),
        (replace_all, "*", "ab", "<ab>"),
        (replace_all, "?", "ab", "<a><b>"),
    ],
)
def test_operations(function, pattern: str, value: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    if function in (trim_prefix, trim_suffix):
        greedy = False
        assert function(pattern, value, greedy=greedy) == expected
    else:
        replacement = "<$0>" if function is replace_first else "<${0}>"
        assert function(pattern, value, replacement) == expected


def test_replace_all_differs_from_python_re_sub_like_go_does() -> None:
    """Go skips an empty match right after a match; Python 3.7+ `re.sub` does not."""
    assert re.sub(".*", "X", "abc") == "XX"
    assert replace_all("*", "abc", "X") == "X"


LITERAL = st.text(alphabet="ab.[]{}()+^$|/}한 \n", max_size=8)


@FUZZ
@given(pattern=LITERAL, value=LITERAL)
def test_literal_patterns_behave_like_str_methods(pattern: str, value: str) -> None:
    for greedy in (False, True):
        assert trim_prefix(pattern, value, greedy=greedy) == value.removeprefix(pattern)
        assert trim_suffix(pattern, value, greedy=greedy) == value.removesuffix(pattern)
    expected_all = value.replace(pattern, "-") if pattern else None
    if expected_all is not None:
        assert replace_all(pattern, value, "-") == expected_all
        assert replace_first(pattern, value, "-") == value.replace(pattern, "-", 1)


@FUZZ
@given(pattern=st.text(alphabet="ab*?\\}/\n", max_size=8), value=st.text(alphabet="ab*?\\\n", max_size=10))
def test_any_pattern_trims_to_a_prefix_or_suffix_or_fails_cleanly(pattern: str, value: str) -> None:
    try:
        for greedy in (False, True):
            assert value.endswith(trim_prefix(pattern, value, greedy=greedy))
            assert value.startswith(trim_suffix(pattern, value, greedy=greedy))
        replace_all(pattern, value, "$0$$${x}$")
    except ShellExpansionError:
        pass


@FUZZ
@given(pattern=st.text(alphabet="ab\\*", max_size=10))
def test_reverse_pattern_is_an_involution_on_well_formed_patterns(pattern: str) -> None:
    if pattern.endswith("\\") and (len(pattern) - len(pattern.rstrip("\\"))) % 2:
        return
    assert reverse_pattern(reverse_pattern(pattern)) == pattern


PATTERNS = st.text(alphabet="ab*?\n", max_size=7)
VALUES = st.text(alphabet="ab\n", max_size=12)


@settings(max_examples=1500, deadline=None, database=None)
@given(pattern=PATTERNS, value=VALUES, greedy=st.booleans(), anchored=st.booleans(), start=st.integers(0, 3))
def test_linear_matcher_agrees_with_a_backtracking_regexp(
    pattern: str, value: str, greedy: bool, anchored: bool, start: int
) -> None:
    """Differential check: the Pike VM picks the same match as `re` (leftmost-first, like Go)."""
    start = 0 if anchored else min(start, len(value))
    regex = re.compile(pattern_to_regex_text(pattern, greedy=greedy, anchored=anchored))
    expected = regex.search(value, start)
    got = _search(parse_pattern(pattern), value, greedy=greedy, anchored=anchored, start=start)
    assert got == (expected.span() if expected else None)


def test_matching_is_linear_not_backtracking() -> None:
    """`re` needs seconds for this on 200 characters; Go's engine and ours are linear."""
    import time

    value = "a" * 20000
    began = time.perf_counter()
    assert trim_prefix("*a*a*a*a*a*a*c", value, greedy=True) == value
    assert replace_all("*a*a*a*c", value[:2000], "x") == value[:2000]
    assert time.perf_counter() - began < 5
