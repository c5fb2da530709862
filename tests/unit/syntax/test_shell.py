"""`pybuildkit.syntax.shell`: behaviour the conformance corpus does not pin down.

Options (backtick escape, raw quotes/escapes, skipped quotes, unset variables kept), the env forms,
every operator on realistic values, BuildKit's Go-regexp quirks, and the error contract.
"""

from __future__ import annotations

import pytest

from pybuildkit.errors import ParseError
from pybuildkit.syntax.shell import (
    MAX_NESTING,
    RequiredVariableError,
    ShellExpansionError,
    ShellLex,
    env_from_list,
    expand_raw,
    process_word,
    process_words,
)

__all__: list[str] = []

ENV = {
    "PWD": "/home",
    "V": "abcabc",
    "E": "",
    "P": "/a/b/c.tar.gz",
    "N": "a\nb",
    "SP": " x  y ",
    "R0": "<$0>",
    "R$": "$$",
    "R0B": "${0}x",
    "R1": "$1",
    "RD": "$",
    "RBAD": "${0",
}


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("${V#*b}", "cabc"),
        ("${V##*b}", "c"),
        ("${V%b*}", "abca"),
        ("${V%%b*}", "a"),
        ("${V#x}", "abcabc"),
        ("${V/b/X}", "aXcabc"),
        ("${V//b/X}", "aXcaXc"),
        ("${V/?/}", "bcabc"),
        ("${V//?/.}", "......"),
        ("${P##*/}", "c.tar.gz"),
        ("${P%.*}", "/a/b/c.tar"),
        ("${P%%.*}", "/a/b/c"),
        ("${P#/}", "a/b/c.tar.gz"),
        ("${P//\\//:}", ":a:b:c.tar.gz"),
        ("${P%.gz}", "/a/b/c.tar"),
        ("${V:?}x", "abcabcx"),
        ('${P#"/a"}', "/b/c.tar.gz"),
        ("${P#'*'}", "/a/b/c.tar.gz"),
        ("${E-d}", ""),
        ("${E:-d}", "d"),
        ("${E+a}", "a"),
        ("${E:+a}", ""),
        ("${U-d}", "d"),
        ("${U:-d}", "d"),
        ("${U+a}", ""),
        ("${U:+a}", ""),
        ("${V?}", "abcabc"),
        ("${V:?}", "abcabc"),
        ("${E?}", ""),
        ("${U:-${E:-${PWD}}}", "/home"),
        ("${U:-'}'}", "}"),
        ("${U:-a b}", "a b"),
        # BuildKit has no `/#` or `/%` anchors: the `#` is part of the pattern.
        ("${V/#a/X}", "abcabc"),
        # `.` does not match a newline in Go's (or Python's) regexp, so `*` stops at one.
        ("${N##*}", "\nb"),
        ("${N%%*}", "a\n"),
        # Replace-all is Go's ReplaceAllString: template expansion and the empty-match rule.
        ("${V//b/$R0}", "a<b>ca<b>c"),
        ("${V/b/$R0}", "a<$0>cabc"),
        ("${V//b/$R$}", "a$ca$c"),
        ("${V//b/$R0B}", "abxcabxc"),
        ("${V//b/$R1}", "acac"),
        ("${V//b/$RD}", "a$ca$c"),
        ("${V//b/$RBAD}", "a${0ca${0c"),
        ("${V//*/X}", "X"),
        ("${E//*/X}", "X"),
        ("${V//$E/-}", "-a-b-c-a-b-c-"),
        ("${U//a/b}", ""),
        # A pattern that starts with the operator after expansion turns greedy, as in BuildKit.
        ('${V#"#"}', "abcabc"),
        # Positional and special parameters are never set.
        ("$1$@$#$?$$$!$0$*$-", ""),
        ("$", "$"),
        ("a$", "a$"),
        ("$.", "$."),
        ("\\", ""),
        ("a\\", "a"),
        ("\ufeffabc", "abc"),
        ("a\ufeffb", "a\ufeffb"),
    ],
)
def test_process_word(word: str, expected: str) -> None:
    assert ShellLex().process_word(word, ENV) == expected


@pytest.mark.parametrize(
    ("lex", "word", "expected"),
    [
        (ShellLex(escape="`"), "he`$PWD", "he$PWD"),
        (ShellLex(escape="`"), "C:\\dir\\$PWD", "C:\\dir\\/home"),
        (ShellLex(escape="`"), '"a`"b"', 'a"b'),
        (ShellLex(escape="`"), '"a\\"', "a\\"),
        (ShellLex(escape="`"), "a``b", "a`b"),
        (ShellLex(escape="`"), "x`", "x"),
        # Patterns keep using `\` whatever the escape character.
        (ShellLex(escape="`"), "${V#\\*}", "abcabc"),
        (ShellLex(raw_quotes=True), "a'b'\"c\"", "a'b'\"c\""),
        (ShellLex(raw_quotes=True), '"$PWD"', '"/home"'),
        (ShellLex(raw_escapes=True), "a\\ b", "a\\ b"),
        (ShellLex(raw_escapes=True), '"a\\"b"', 'a\\"b'),
        (ShellLex(raw_escapes=True), "a\\", "a\\"),
        # Operands of `-`/`+`/`?` never keep escapes, even with raw_escapes.
        (ShellLex(raw_escapes=True), "${U:-\\$x}", "$x"),
        (ShellLex(skip_process_quotes=True), "'$PWD'", "'/home'"),
        (ShellLex(skip_process_quotes=True), "'unterminated", "'unterminated"),
        (ShellLex(skip_unset_env=True), "$X", "$X"),
        (ShellLex(skip_unset_env=True), "${X}", "${X}"),
        (ShellLex(skip_unset_env=True), "${X:-a}", "${X:-a}"),
        (ShellLex(skip_unset_env=True), "${X#a}", "${X#a}"),
        (ShellLex(skip_unset_env=True), "${X##a}", "${X##a}"),
        (ShellLex(skip_unset_env=True), "${X/a/b}", "${X/a/b}"),
        (ShellLex(skip_unset_env=True), "${X//a/b}", "${X//a/b}"),
        (ShellLex(skip_unset_env=True), "${X:-$PWD}", "${X:-/home}"),
        (ShellLex(skip_unset_env=True), "$PWD$E", "/home"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_options(lex: ShellLex, word: str, expected: str) -> None:
    assert lex.process_word(word, ENV) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('"quotes in file"\n', '"quotes in file"\n'),
        ("\\\n", "\n"),
        ("\\\\\n", "\\\n"),
        ("\\$\n", "$\n"),
        ("Hello ${name}!\n", "Hello world!\n"),
        ("Hello '${name}'!\n", "Hello 'world'!\n"),
        ('Hello "${name}"!\n', 'Hello "world"!\n'),
        ("it's\n", "it's\n"),
    ],
)
def test_expand_raw_is_heredoc_expansion(body: str, expected: str) -> None:
    """The COPY heredoc cases of BuildKit's integration tests (heredoc/build_cases.json)."""
    assert expand_raw(body, {"name": "world"}).value == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("a b", ["a", "b"]),
        ("  a   b  ", ["a", "b"]),
        ("$SP", ["x", "y"]),
        ('"$SP"', [" x  y "]),
        ("a\\ b", ["a b"]),
        ('a"" b', ["a", "b"]),
        ('"" b', ["b"]),
        ("a\u00a0b\u3000c", ["a", "b", "c"]),
        ("a\x1cb", ["a\x1cb"]),
        ("${U:-a b}", ["a", "b"]),
        ("", []),
    ],
)
def test_process_words(word: str, expected: list[str]) -> None:
    assert ShellLex().process_words(word, ENV) == expected


@pytest.mark.parametrize(
    ("word", "error", "reason"),
    [
        ("${", ShellExpansionError, "syntax error: missing '}'"),
        ("${V", ShellExpansionError, "syntax error: missing '}'"),
        ("${V:", ShellExpansionError, "syntax error: missing '}'"),
        ("${V:-x", ShellExpansionError, "syntax error: missing '}'"),
        ("${}", ShellExpansionError, "syntax error: bad substitution"),
        ("${:-a}", ShellExpansionError, "syntax error: bad substitution"),
        ("'abc", ShellExpansionError, "unexpected end of statement while looking for matching single-quote"),
        ('"abc', ShellExpansionError, "unexpected end of statement while looking for matching double-quote"),
        ("${V:=x}", ShellExpansionError, "unsupported modifier (:=) in substitution"),
        ("${V=x}", ShellExpansionError, "unsupported modifier (=) in substitution"),
        ("${V:#x}", ShellExpansionError, "unsupported modifier (:#) in substitution"),
        ("${#V}", ShellExpansionError, "unsupported modifier (V) in substitution"),
        ("${V#\\x}", ShellExpansionError, "invalid pattern (\\x) in substitution: invalid escape '\\x'"),
        ("${V/\\x/}", ShellExpansionError, "invalid pattern (\\x) in substitution: invalid escape '\\x'"),
        # Only `*`, `?` and `\\` may be escaped in a pattern (plus `}` and `/`, whose escape is dropped).
        ("${P%\\.gz}", ShellExpansionError, "invalid pattern (\\.gz) in substitution: invalid escape '\\.'"),
        ("${V/a}", ShellExpansionError, "syntax error: missing '/' in ${}"),
        ("${U?}", RequiredVariableError, "U: is not allowed to be unset"),
        ("${U:?}", RequiredVariableError, "U: is not allowed to be unset"),
        ("${E:?}", RequiredVariableError, "E: is not allowed to be empty"),
        ("${U?set U to $PWD}", RequiredVariableError, "U: set U to /home"),
        # An error inside an operand wins over the modifier that would have failed afterwards.
        ("${V:=${U:?inner}}", RequiredVariableError, "U: inner"),
    ],
)
def test_errors(word: str, error: type[ShellExpansionError], reason: str) -> None:
    with pytest.raises(error) as caught:
        ShellLex().process_word(word, ENV)
    err = caught.value
    assert type(err) is error
    assert isinstance(err, ParseError)
    assert err.reason == reason
    assert err.word == word
    assert str(err).startswith("failed to process ")
    assert str(err).endswith(f": {reason}")


def test_required_variable_error_names_the_variable() -> None:
    with pytest.raises(RequiredVariableError) as caught:
        ShellLex().process_word("x${TOKEN:?pass --build-arg TOKEN}", ENV)
    assert (caught.value.name, caught.value.detail) == ("TOKEN", "pass --build-arg TOKEN")
    assert caught.value.span is None


def test_error_takes_a_location_later() -> None:
    from pybuildkit.errors import Span

    with pytest.raises(ShellExpansionError) as caught:
        process_word("${", {})
    located = caught.value.with_location(Span(line=3, column=5), "FROM a\nRUN b\nCOPY ${ /x\n")
    assert "Dockerfile:3:5" in located.render()


def test_nesting_is_bounded() -> None:
    depth = MAX_NESTING - 1
    assert process_word("${A:-" * depth + "ok" + "}" * depth, {}) == "ok"
    too_deep = MAX_NESTING + 50
    with pytest.raises(ShellExpansionError, match="nested"):
        process_word("${A:-" * too_deep + "ok" + "}" * too_deep, {})


@pytest.mark.parametrize(
    ("word", "env", "matched", "unmatched"),
    [
        ("${A:-$B}", {}, set(), {"A", "B"}),
        ("${A:+$B}", {"A": "1", "B": ""}, {"A", "B"}, set()),
        ("$1 $@", {}, set(), {"1", "@"}),
        ("'$A' \\$B", {}, set(), set()),
        ('"$A"', {"A": "x"}, {"A"}, set()),
        ("${A/$B/$C}", {"A": "x"}, {"A"}, {"B", "C"}),
    ],
)
def test_matches(word: str, env: dict[str, str], matched: set[str], unmatched: set[str]) -> None:
    result = ShellLex().process_word_with_matches(word, env)
    assert (set(result.matched), set(result.unmatched)) == (matched, unmatched)


@pytest.mark.parametrize(
    "env",
    [
        {"A": "1", "a": "2"},
        ["a=2", "A=0", "A=1"],
        ("A=1", "a=2", "B"),
        lambda name: {"A": "1", "a": "2"}.get(name),
    ],
    ids=["mapping", "list-last-wins", "tuple", "function"],
)
def test_env_forms_and_case_sensitivity(env: object) -> None:
    assert process_words("$A ${a} x${B}x", env) == ["1", "2", "xx"]  # type: ignore[arg-type]


def test_env_from_list() -> None:
    assert env_from_list(["A=1=2", "B", "C=", "A=3"]) == {"A": "3", "B": "", "C": ""}


def test_env_must_not_be_a_bare_string() -> None:
    with pytest.raises(TypeError):
        process_word("$A", "A=1")  # type: ignore[arg-type]


@pytest.mark.parametrize("escape", ["", "x", "\\\\", "$"])
def test_escape_must_be_backslash_or_backtick(escape: str) -> None:
    with pytest.raises(ParseError):
        ShellLex(escape=escape)


def test_result_is_frozen_and_complete() -> None:
    result = ShellLex().process('"a b" $PWD ${NOPE}', ENV)
    assert result.value == "a b /home "
    assert result.words == ("a b", "/home")
    assert result.matched == frozenset({"PWD"})
    assert result.unmatched == frozenset({"NOPE"})
    with pytest.raises(AttributeError):
        result.value = "x"  # type: ignore[misc]
