"""Property tests: whatever the word and environment, expansion succeeds or raises a ParseError.

The alphabet is weighted towards the characters the lexer cares about so that hypothesis reaches
every branch (nested `${`, operators, quotes, both escape characters, Unicode spaces, a BOM).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pybuildkit.errors import ParseError
from pybuildkit.syntax.shell import ShellExpansionError, ShellLex, ShellResult, expand_raw

__all__: list[str] = []

FUZZ = settings(max_examples=1500, deadline=None, database=None)

SPECIAL = "${}:-+?#%/\\'\"`*@!0123 _\n\t\u00a0\ufeffaAbé한"
WORDS = st.one_of(
    st.text(alphabet=SPECIAL, max_size=40),
    st.lists(st.sampled_from(["${", "}", "$", ":-", ":+", ":?", "#", "##", "%", "%%", "/", "//", "\\", "'", '"', "A", "B", "x", " "]), max_size=20).map("".join),
    st.text(max_size=30),
)
NAMES = st.sampled_from(["A", "B", "a", "1", "@", "é", "_x"])
VALUES = st.text(alphabet=SPECIAL, max_size=10)
ENVS = st.one_of(
    st.dictionaries(NAMES, VALUES, max_size=4),
    st.lists(st.builds(lambda k, v: f"{k}={v}", NAMES, VALUES), max_size=4),
    st.lists(st.text(max_size=6), max_size=3),
)
LEXERS = st.builds(
    ShellLex,
    escape=st.sampled_from(["\\", "`"]),
    raw_quotes=st.booleans(),
    raw_escapes=st.booleans(),
    skip_process_quotes=st.booleans(),
    skip_unset_env=st.booleans(),
)


@FUZZ
@given(lex=LEXERS, word=WORDS, env=ENVS)
def test_expansion_never_raises_anything_but_a_parse_error(lex: ShellLex, word: str, env: object) -> None:
    try:
        result = lex.process(word, env)  # type: ignore[arg-type]
    except ShellExpansionError as err:
        assert isinstance(err, ParseError)
        assert err.word == word
        assert str(err).startswith("failed to process ")
        return
    assert isinstance(result, ShellResult)
    assert isinstance(result.value, str)
    assert all(isinstance(w, str) and w for w in result.words)
    assert not result.matched & result.unmatched


@FUZZ
@given(word=WORDS, env=ENVS)
def test_heredoc_expansion_never_raises_anything_but_a_parse_error(word: str, env: object) -> None:
    try:
        expand_raw(word, env)  # type: ignore[arg-type]
    except ShellExpansionError:
        pass


PLAIN = st.text(alphabet=st.characters(blacklist_characters="$'\"\\\ufeff"), max_size=40)


@settings(max_examples=300, deadline=None, database=None)
@given(word=PLAIN)
def test_words_without_special_characters_are_unchanged(word: str) -> None:
    result = ShellLex().process(word, {})
    assert result.value == word
    assert result.matched == result.unmatched == frozenset()


@settings(max_examples=300, deadline=None, database=None)
@given(parts=st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.text(alphabet="xy./-", max_size=3)), max_size=6))
def test_simple_references_concatenate(parts: list[tuple[str, str]]) -> None:
    env = {"A": "1", "B": "two", "C": ""}
    word = "".join(f"${{{name}}}{tail}" for name, tail in parts)
    expected = "".join(env[name] + tail for name, tail in parts)
    assert ShellLex().process_word(word, env) == expected
