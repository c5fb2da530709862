"""Shell-word expansion with BuildKit's semantics (`frontend/dockerfile/shell/lex.go`).

Dockerfile instructions such as `COPY`, `ENV`, `WORKDIR`, `FROM` expand `$v`, `${v}` and the
`${v:-w}` family themselves, before any shell runs, and remove quotes and escapes. Users expect
exactly what BuildKit does, quirks included (an unset `$1` expands to nothing, `'` inside `"` is
literal, a `\\` before an ordinary character inside double quotes stays), so this module follows
BuildKit's lexer step by step rather than POSIX: the conformance corpus (`shell/envVarTest`,
`shell/wordsTest`, `shell/cases.json`) pins that behaviour down.

Supported: `$v ${v} ${v:-w} ${v-w} ${v:+w} ${v+w} ${v:?m} ${v?m} ${v#p} ${v##p} ${v%p} ${v%%p}
${v/p/r} ${v//p/r}`; positional (`$1`) and special (`$@ $* $# $? $- $$ $! $0`) parameters are
ordinary names that are normally unset. Anything else inside `${...}` is an error. Every failure is
a :class:`ShellExpansionError` (a :class:`pybuildkit.errors.ParseError`), whatever the input.

Pure code: no I/O. The environment is a mapping, a list of `K=V` strings (BuildKit's env list,
where the last duplicate wins), or a function returning the value or None when unset. Names are
case-sensitive (Linux).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeAlias

import attrs

from pybuildkit.errors import ParseError
from pybuildkit.syntax import shell_pattern
from pybuildkit.syntax.shell_errors import RequiredVariableError, ShellExpansionError
from pybuildkit.syntax.words import WordSplitter

__all__ = [
    "EnvGetter",
    "Env",
    "ShellLex",
    "ShellResult",
    "ShellExpansionError",
    "RequiredVariableError",
    "env_from_list",
    "process_word",
    "process_words",
    "expand_raw",
    "MAX_NESTING",
]

EnvGetter: TypeAlias = Callable[[str], "str | None"]
"""Looks a variable up: its value, or None when it is unset (an empty string is *set*)."""

Env: TypeAlias = "Mapping[str, str] | EnvGetter | Iterable[str]"
"""Everything the lexer accepts as an environment."""

MAX_NESTING = 100
"""Deepest `${a:-${b:-...}}` nesting accepted; deeper input is rejected instead of exhausting the stack."""

_SPECIAL_PARAMS = frozenset("@*#?-$!0")
_MODIFIERS = frozenset("+-?#%")
_BOM = "\ufeff"


def _check_escape(_instance: object, _attribute: object, value: str) -> None:
    if value not in ("\\", "`"):
        raise ParseError(f"invalid escape token {value!r}: must be '\\' or '`'")


@attrs.frozen
class ShellResult:
    """One expansion: the single-word result, the split words, and which variables were looked up.

    `matched` are the names looked up and found, `unmatched` those looked up and not set; the
    UndefinedVar lint reads `unmatched`. Names include positional and special parameters (`1`, `@`).
    """

    value: str
    words: tuple[str, ...]
    matched: frozenset[str]
    unmatched: frozenset[str]


@attrs.frozen
class ShellLex:
    """BuildKit's `shell.Lex`: the escape character and the four option switches.

    - `raw_quotes`: keep the quote characters in the result (values still expand inside them).
    - `raw_escapes`: keep escape characters in the result (they still protect the next character).
    - `skip_process_quotes`: quotes are ordinary characters (heredoc bodies: see `expand_raw`).
    - `skip_unset_env`: leave references to unset variables as written instead of expanding them
      to nothing (BuildKit writes `${v/p/r}` back for `${v//p/r}`; we keep the `//`).
    """

    escape: str = attrs.field(default="\\", validator=_check_escape)
    raw_quotes: bool = False
    raw_escapes: bool = False
    skip_process_quotes: bool = False
    skip_unset_env: bool = False

    def process(self, word: str, env: Env) -> ShellResult:
        """Expand `word` once and return everything: value, split words, matched/unmatched names."""
        expander = _Expander(self, word, _lookup_for(env))
        try:
            value, words = expander.stop_on(None, self.raw_escapes)
        except ShellExpansionError as err:
            raise err.in_word(word) from None
        except RecursionError:
            raise ShellExpansionError("substitutions nested too deeply", word=word) from None
        return ShellResult(
            value=value,
            words=tuple(words),
            matched=frozenset(expander.matched),
            unmatched=frozenset(expander.unmatched),
        )

    def process_word(self, word: str, env: Env) -> str:
        """BuildKit's ProcessWord: one word, quotes and escapes removed, variables expanded."""
        return self.process(word, env).value

    def process_words(self, word: str, env: Env) -> list[str]:
        """BuildKit's ProcessWords: expand, then split on unquoted (or expanded) whitespace.

        Quoted text and escaped characters never split; empty words (`""`) are dropped.
        """
        return list(self.process(word, env).words)

    def process_word_with_matches(self, word: str, env: Env) -> ShellResult:
        """BuildKit's ProcessWordWithMatches (same as `process`; named for readers of BuildKit)."""
        return self.process(word, env)


def env_from_list(entries: Iterable[str]) -> dict[str, str]:
    """BuildKit's BuildEnvs: `K=V` split at the first `=`; `K` alone is empty; the last `K` wins."""
    env: dict[str, str] = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        env[key] = value if sep else ""
    return env


_DEFAULT = ShellLex()
_RAW = ShellLex(skip_process_quotes=True)


def process_word(word: str, env: Env, *, escape: str = "\\") -> str:
    """`ShellLex(escape).process_word(word, env)`."""
    lex = _DEFAULT if escape == "\\" else ShellLex(escape=escape)
    return lex.process_word(word, env)


def process_words(word: str, env: Env, *, escape: str = "\\") -> list[str]:
    """`ShellLex(escape).process_words(word, env)`."""
    lex = _DEFAULT if escape == "\\" else ShellLex(escape=escape)
    return lex.process_words(word, env)


def expand_raw(word: str, env: Env) -> ShellResult:
    """BuildKit's ExpandRaw: expansion for heredoc bodies (unquoted `COPY <<EOF`).

    Quotes are text there, so only `$` references and `\\` escapes are processed; the escape is
    always `\\`, whatever the Dockerfile's `# escape=` says, exactly as BuildKit does.
    """
    return _RAW.process(word, env)


def _lookup_for(env: Env) -> EnvGetter:
    if isinstance(env, Mapping):
        mapping = env
        return lambda name: mapping[name] if name in mapping else None
    if callable(env):
        return env
    if isinstance(env, (str, bytes)):
        raise TypeError("env must be a mapping, a list of 'K=V' strings or a lookup function, not a string")
    listed = env_from_list(env)
    return listed.get


class _Expander:
    """One run of the lexer over one word: a cursor plus the lookups made so far."""

    def __init__(self, lex: ShellLex, text: str, lookup: EnvGetter) -> None:
        self.lex = lex
        self.text = text
        # Go's text/scanner silently skips a byte-order mark at the very start of its input.
        self.pos = 1 if text.startswith(_BOM) else 0
        self.lookup = lookup
        self.raw_escapes = lex.raw_escapes
        self.depth = 0
        self.matched: set[str] = set()
        self.unmatched: set[str] = set()

    def peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def next(self) -> str | None:
        if self.pos >= len(self.text):
            return None
        ch = self.text[self.pos]
        self.pos += 1
        return ch

    def get(self, name: str) -> str | None:
        value = self.lookup(name)
        if value is None:
            self.unmatched.add(name)
        else:
            self.matched.add(name)
        return value

    def stop_on(self, stop: str | None, raw_escapes: bool) -> tuple[str, list[str]]:
        """Process up to `stop` (consumed) or the end of input when `stop` is None."""
        saved, self.raw_escapes = self.raw_escapes, raw_escapes
        try:
            return self._stop_on(stop)
        finally:
            self.raw_escapes = saved

    def _stop_on(self, stop: str | None) -> tuple[str, list[str]]:
        result: list[str] = []
        words = WordSplitter()
        quotes = not self.lex.skip_process_quotes
        escape = self.lex.escape
        while (ch := self.peek()) is not None:
            if ch == stop:
                self.pos += 1
                return "".join(result), words.finish()
            if ch == "$":
                piece = self.dollar()
                result.append(piece)
                words.add_string(piece)
            elif quotes and ch == "'":
                piece = self.single_quote()
                result.append(piece)
                words.add_raw(piece)
            elif quotes and ch == '"':
                piece = self.double_quote()
                result.append(piece)
                words.add_raw(piece)
            else:
                self.pos += 1
                if ch == escape:
                    if self.raw_escapes:
                        words.add_raw(ch)
                        result.append(ch)
                    escaped = self.next()
                    if escaped is None:
                        break
                    words.add_raw(escaped)
                    result.append(escaped)
                else:
                    words.add_char(ch)
                    result.append(ch)
        if stop is not None:
            raise ShellExpansionError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.finish()

    def single_quote(self) -> str:
        """Everything up to the next `'` is literal; nothing escapes a single quote."""
        raw = self.lex.raw_quotes
        self.pos += 1
        end = self.text.find("'", self.pos)
        if end < 0:
            raise ShellExpansionError("unexpected end of statement while looking for matching single-quote")
        body = self.text[self.pos : end]
        self.pos = end + 1
        return f"'{body}'" if raw else body

    def double_quote(self) -> str:
        """`$` expands; the escape protects only `"`, `$` and itself, and is kept before others."""
        raw = self.lex.raw_quotes
        escape = self.lex.escape
        result: list[str] = ['"'] if raw else []
        self.pos += 1
        while True:
            ch = self.peek()
            if ch is None:
                raise ShellExpansionError("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.pos += 1
                if raw:
                    result.append(ch)
                return "".join(result)
            if ch == "$":
                result.append(self.dollar())
                continue
            self.pos += 1
            if ch == escape:
                if self.raw_escapes:
                    result.append(ch)
                following = self.peek()
                if following is None:
                    continue
                if following in ('"', "$", escape):
                    self.pos += 1
                    ch = following
            result.append(ch)

    def name(self) -> str:
        """A variable name: a run of digits, one special character, or letters/digits/underscores."""
        start = self.pos
        ch = self.peek()
        if ch is None:
            return ""
        if ch.isdecimal():
            while (ch := self.peek()) is not None and ch.isdecimal():
                self.pos += 1
            return self.text[start : self.pos]
        if ch in _SPECIAL_PARAMS:
            self.pos += 1
            return ch
        while (ch := self.peek()) is not None and (ch.isalpha() or ch.isdecimal() or ch == "_"):
            self.pos += 1
        return self.text[start : self.pos]

    def dollar(self) -> str:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ShellExpansionError(f"substitutions nested deeper than {MAX_NESTING} levels")
        try:
            return self._dollar()
        finally:
            self.depth -= 1

    def _dollar(self) -> str:
        self.pos += 1
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            value = self.get(name)
            if value is None:
                return "$" + name if self.lex.skip_unset_env else ""
            return value

        self.pos += 1
        first = self.peek()
        if first is None:
            raise ShellExpansionError("syntax error: missing '}'")
        if first in "{}:":
            raise ShellExpansionError("syntax error: bad substitution")
        name = self.name()
        ch = self.next()
        if ch is None:
            raise ShellExpansionError("syntax error: missing '}'")
        if ch == "}":
            value = self.get(name)
            if value is None:
                return f"${{{name}}}" if self.lex.skip_unset_env else ""
            return value
        if ch == "/":
            return self._replace(name)
        if ch == ":":
            modifier_char = self.next()
            if modifier_char is None:
                raise ShellExpansionError("syntax error: missing '}'")
            return self._modifier(name, modifier_char, null_is_unset=True)
        if ch in _MODIFIERS:
            return self._modifier(name, ch, null_is_unset=False)
        raise ShellExpansionError(f"unsupported modifier ({ch}) in substitution")

    def _modifier(self, name: str, op: str, *, null_is_unset: bool) -> str:
        spelled = (":" if null_is_unset else "") + op
        pattern_op = op in "#%"
        if null_is_unset and pattern_op:
            raise ShellExpansionError(f"unsupported modifier ({spelled}) in substitution")
        # BuildKit reads the operand first, so an error inside it wins over a bad modifier.
        word = self._operand("}", raw_escapes=pattern_op, missing="syntax error: missing '}'")
        value = self.get(name)
        if value is None and self.lex.skip_unset_env:
            return f"${{{name}{spelled}{word}}}"
        unset = value is None or (null_is_unset and value == "")
        if op == "-":
            return word if unset else value or ""
        if op == "+":
            return "" if unset else word
        if op == "?":
            if value is None:
                raise RequiredVariableError(name, word or "is not allowed to be unset")
            if null_is_unset and value == "":
                raise RequiredVariableError(name, word or "is not allowed to be empty")
            return value
        if op in "#%":
            greedy = word.startswith(op)
            pattern = word[1:] if greedy else word
            trim = shell_pattern.trim_suffix if op == "%" else shell_pattern.trim_prefix
            try:
                return trim(pattern, value or "", greedy=greedy)
            except ShellExpansionError as err:
                raise ShellExpansionError(f"invalid pattern ({pattern}) in substitution: {err.reason}") from None
        raise ShellExpansionError(f"unsupported modifier ({spelled}) in substitution")

    def _replace(self, name: str) -> str:
        replace_all = self.peek() == "/"
        if replace_all:
            self.pos += 1
        pattern = self._operand("/", raw_escapes=True, missing="syntax error: missing '/' in ${}")
        replacement = self._operand("}", raw_escapes=True, missing="syntax error: missing '}'")
        value = self.get(name)
        if value is None and self.lex.skip_unset_env:
            op = "//" if replace_all else "/"
            return f"${{{name}{op}{pattern}/{replacement}}}"
        replace = shell_pattern.replace_all if replace_all else shell_pattern.replace_first
        try:
            return replace(pattern, value or "", replacement)
        except ShellExpansionError as err:
            raise ShellExpansionError(f"invalid pattern ({pattern}) in substitution: {err.reason}") from None

    def _operand(self, stop: str, *, raw_escapes: bool, missing: str) -> str:
        """The text of `${v<op>TEXT}` up to `stop`; running off the end is reported as `missing`."""
        try:
            text, _ = self.stop_on(stop, raw_escapes)
        except ShellExpansionError:
            if self.peek() is None:
                raise ShellExpansionError(missing) from None
            raise
        return text
