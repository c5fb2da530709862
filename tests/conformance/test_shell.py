"""BuildKit's shell-lexer corpus (`shell/envVarTest`, `shell/wordsTest`, `shell/cases.json`).

Case ids are discovered at collection time so every case is its own test; the data itself is read
at run time through the `conformance` fixture (in place, never copied). Harness rules are those of
the corpus README, section 2.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from pybuildkit.syntax.shell import ShellExpansionError, ShellLex, env_from_list
from pybuildkit.syntax.shell_pattern import pattern_to_regex_text, reverse_pattern
from tests.conftest import conformance_root

__all__: list[str] = []

ENVVAR_ENV = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""}
# Platform column of envVarTest: A = all, U = Unix only, W = Windows only.
LINUX_PLATFORMS = frozenset("AU")
WINDOWS_SKIP_REASON = "W line: Windows only (variable names are case-insensitive there); we run on Linux"


@attrs.frozen
class EnvVarCase:
    line: int
    platform: str
    source: str
    expected: str


@attrs.frozen
class WordsCase:
    line: int
    source: str
    expected: tuple[str, ...]
    env: tuple[str, ...]


@functools.cache
def _envvar_cases(root: Path) -> dict[int, EnvVarCase]:
    cases: dict[int, EnvVarCase] = {}
    text = (root / "shell" / "envVarTest").read_text(encoding="utf-8")
    for number, raw in enumerate(text.split("\n"), start=1):
        if raw.startswith("#"):
            continue
        line = raw.strip()
        if not line:
            continue
        fields = line.split("|")
        assert len(fields) == 3, f"envVarTest:{number}: expected 3 fields: {raw!r}"
        platform, source, expected = (field.strip() for field in fields)
        cases[number] = EnvVarCase(number, platform, source, expected)
    return cases


@functools.cache
def _words_cases(root: Path) -> dict[int, WordsCase]:
    cases: dict[int, WordsCase] = {}
    env: list[str] = []
    text = (root / "shell" / "wordsTest").read_text(encoding="utf-8")
    for number, raw in enumerate(text.split("\n"), start=1):
        if raw.startswith("#") or raw == "":
            continue
        if raw.startswith("ENV "):
            env.append(raw[len("ENV ") :].lstrip(" "))
            continue
        fields = raw.split("|")
        assert len(fields) == 2, f"wordsTest:{number}: expected 2 fields: {raw!r}"
        source, expected = fields[0].strip(), fields[1].lstrip(" ")
        cases[number] = WordsCase(number, source, tuple(expected.split(",")), tuple(env))
    return cases


@functools.cache
def _json_cases(root: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((root / "shell" / "cases.json").read_text(encoding="utf-8"))
    return {case["id"]: case for case in data["cases"]}


def _params(loader: Any, skip_when: Any = None) -> list[Any]:
    """One pytest param per case id; a single skipping param when the corpus is absent."""
    root = conformance_root()
    if root is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason="conformance corpus not found"))]
    params = []
    for key, case in loader(root).items():
        reason = skip_when(case) if skip_when else None
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        params.append(pytest.param(key, id=str(key), marks=marks))
    return params


def _envvar_skip(case: EnvVarCase) -> str | None:
    return None if case.platform in LINUX_PLATFORMS else WINDOWS_SKIP_REASON


@pytest.mark.parametrize("key", _params(_envvar_cases, _envvar_skip))
def test_env_var_file(conformance: Path, key: int) -> None:
    case = _envvar_cases(conformance)[key]
    lex = ShellLex()
    if case.expected == "error":
        with pytest.raises(ShellExpansionError):
            lex.process_word(case.source, ENVVAR_ENV)
    else:
        assert lex.process_word(case.source, ENVVAR_ENV) == case.expected


@pytest.mark.parametrize("key", _params(_words_cases))
def test_words_file(conformance: Path, key: int) -> None:
    case = _words_cases(conformance)[key]
    try:
        words = ShellLex().process_words(case.source, list(case.env))
    except ShellExpansionError:
        words = ["error"]
    assert tuple(words) == case.expected


@pytest.mark.parametrize("key", _params(_json_cases))
def test_cases_json(conformance: Path, key: str) -> None:
    case = _json_cases(conformance)[key]
    kind = case["kind"]
    if kind == "process_word_with_matches":
        _check_with_matches(case)
    elif kind == "process_word":
        _check_process_word(case)
    elif kind == "env_from_list":
        assert env_from_list(case["env_list"]).get(case["name"], "") == case["expect"]
    elif kind == "internal_shell_pattern_to_regex":
        _check_pattern_to_regex(case)
    elif kind == "internal_reverse_pattern":
        assert reverse_pattern(case["pattern"]) == case["expect"]
    else:
        pytest.fail(f"unknown case kind {kind!r}")


def _check_with_matches(case: dict[str, Any]) -> None:
    lex = ShellLex()
    if case["expect_error"]:
        with pytest.raises(ShellExpansionError):
            lex.process_word_with_matches(case["input"], case["env"])
        return
    result = lex.process_word_with_matches(case["input"], case["env"])
    assert result.value == case["expect"]
    if case["expect_matched"] is not None:
        assert sorted(result.matched) == case["expect_matched"]
    if case["expect_unmatched"] is not None:
        assert sorted(result.unmatched) == case["expect_unmatched"]


def _check_process_word(case: dict[str, Any]) -> None:
    lex = ShellLex()
    if case["expect_error"]:
        with pytest.raises(ShellExpansionError) as caught:
            lex.process_word(case["input"], case["env_list"])
        if case["expect_error_contains"]:
            assert case["expect_error_contains"] in str(caught.value)
    else:
        assert lex.process_word(case["input"], case["env_list"]) == case["expect"]


def _check_pattern_to_regex(case: dict[str, Any]) -> None:
    # Our converter emits Go's regexp text exactly (and it means the same to Python's `re`).
    options = {"greedy": case["greedy"], "anchored": case["anchored"]}
    if case["expect_error"]:
        with pytest.raises(ShellExpansionError):
            pattern_to_regex_text(case["pattern"], **options)
    else:
        assert pattern_to_regex_text(case["pattern"], **options) == case["expect_go_regexp"]
