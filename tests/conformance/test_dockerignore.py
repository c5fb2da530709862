"""dockerignore/cases.json: moby/patternmatcher's tables (matching, matcher building, reading).

Every case is applicable on Linux; `non-windows` cases are Linux cases. Where upstream's `New()`
accepts a pattern that only fails at its first match (`[Local-Only]/`, a reversed range), we
reject it while building the matcher: both surface as a bad-pattern error before any file is
judged, which is what a user sees.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pybuildkit.context.dockerignore import Pattern, PatternMatcher, clean_path, parent_dir, parse_ignore_text
from pybuildkit.errors import ContextError
from tests.support.conformance import load_cases

_FILE = "dockerignore/cases.json"


_CASES = load_cases(_FILE)


def _ids(kind: str) -> list[Any]:
    return [pytest.param(case, id=case["id"]) for case in _CASES if case["kind"] == kind]


def _error_text(kind: str) -> str:
    return {"bad_pattern": "syntax error in pattern", "illegal_exclusion": "illegal exclusion"}[kind]


@pytest.mark.parametrize("case", _ids("match"))
def test_legacy_matches(case: dict[str, Any]) -> None:
    if case["expect_error"]:
        with pytest.raises(ContextError, match=_error_text(case["expect_error"])):
            PatternMatcher.from_patterns(case["patterns"]).matches_legacy(case["path"])
        return
    matcher = PatternMatcher.from_patterns(case["patterns"])
    assert matcher.matches_legacy(case["path"]) is case["expect_match"]


def _chained(matcher: PatternMatcher, path: str, use_info: bool) -> bool:
    """Feed every ancestor first, as a walker does, then the path itself."""
    parent = parent_dir(path)
    flag, info = False, ()
    if parent != ".":
        parts = parent.split("/")
        for i in range(len(parts)):
            prefix = "/".join(parts[: i + 1])
            if use_info:
                flag, info = matcher.matches_with_parent(prefix, info)
            else:
                flag = matcher.matches_with_parent_flag(prefix, flag)
    if use_info:
        return matcher.matches_with_parent(path, info)[0]
    return matcher.matches_with_parent_flag(path, flag)


_APIS = {
    "MatchesOrParentMatches": lambda m, p: m.matches_or_parent(p),
    "MatchesUsingParentResult": lambda m, p: _chained(m, p, use_info=False),
    "MatchesUsingParentResults": lambda m, p: _chained(m, p, use_info=True),
    "MatchesUsingParentResults(no parent info)": lambda m, p: m.matches_with_parent(p, ())[0],
}


@pytest.mark.parametrize("case", _ids("matches_or_parent"))
def test_matches_or_parent(case: dict[str, Any]) -> None:
    if case["expect_error"]:
        for _ in range(case.get("repeat", 1)):
            with pytest.raises(ContextError, match=_error_text(case["expect_error"])):
                PatternMatcher.from_patterns(case["patterns"]).matches_or_parent(case["path"])
        return
    matcher = PatternMatcher.from_patterns(case["patterns"])
    for api in case["apis"]:
        assert _APIS[api](matcher, case["path"]) is case["expect_match"], api


@pytest.mark.parametrize("case", _ids("new_matcher"))
def test_new_matcher(case: dict[str, Any]) -> None:
    expect = case["expect"]
    if expect.get("error"):
        with pytest.raises(ContextError):
            PatternMatcher.from_patterns(case["patterns"])
        return
    matcher = PatternMatcher.from_patterns(case["patterns"])
    if "pattern_count" in expect:
        assert len(matcher) == expect["pattern_count"]
    if "exclusions" in expect:
        assert matcher.exclusions is expect["exclusions"]


@pytest.mark.parametrize("case", _ids("internal_compile"))
def test_internal_compile(case: dict[str, Any]) -> None:
    pattern = Pattern.compile(clean_path(case["pattern"]))
    assert pattern.kind == case["match_type"]
    assert pattern.go_regexp == case["go_regexp_slash"]


@pytest.mark.parametrize("case", _ids("read_ignorefile"))
def test_read_ignorefile(case: dict[str, Any]) -> None:
    assert list(parse_ignore_text(case["content"])) == case["expect"]


def test_corpus_is_complete(conformance: Path) -> None:
    """Guard against a silently empty parametrization: every kind is present and counted."""
    kinds = {case["kind"] for case in json.loads((conformance / _FILE).read_text())["cases"]}
    assert kinds == {"match", "matches_or_parent", "new_matcher", "internal_compile", "read_ignorefile"}
    assert len(_CASES) == 166
