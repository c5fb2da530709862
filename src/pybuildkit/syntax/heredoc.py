"""Finding here-documents (`<<EOF`) in an instruction line, the way BuildKit finds them.

BuildKit shell-lexes the whole logical line (quotes and escapes kept, unset variables left as
written), then tests every word against `[digits]<<[-]NAME`. The delimiter NAME is lexed twice,
once keeping quotes and once removing them: if the quote counts differ some part was quoted, and
the body must not be expanded. So `<<EOF`, `<<'EOF'`, `<<EO"F"` all name `EOF`, only the first
expands, and `<<eo\\'f` (an escaped quote, not a quote) names `eo'f` and expands.

The lexer here is deliberately minimal: no variables are ever set, so it only needs to know where
words and `${...}` end, and when BuildKit's lexer would give up (then the line has no heredocs).
Full word expansion is `pybuildkit.syntax.shell`'s job.
"""

from __future__ import annotations

import re

from pybuildkit.errors import ParseError
from pybuildkit.syntax.ast import Heredoc
from pybuildkit.syntax.gostr import go_quote
from pybuildkit.syntax.words import WordSplitter

__all__ = [
    "HEREDOC_KEYWORDS",
    "parse_heredoc_word",
    "heredocs_from_line",
    "chomp_heredoc_content",
]

#: Instructions whose shell-form line may open heredocs (also behind ONBUILD).
HEREDOC_KEYWORDS = frozenset({"add", "copy", "run"})

_HEREDOC_WORD = re.compile(r"([0-9]*)<<(-?)([^<]*)\Z")
_LEADING_TABS = re.compile(r"^\t+", re.MULTILINE)
_SPECIAL_PARAMS = "@*#?-$!0"
_HEREDOC_BLANKS = " \t\r"
_MAX_FD = 2**64 - 1


class _LexError(Exception):
    pass


class _Lexer:
    """BuildKit's shell lexer in "leave unset variables as written" mode, with no variables set."""

    def __init__(self, source: str, *, raw_quotes: bool, raw_escapes: bool) -> None:
        self.src = source
        self.pos = 0
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes

    def peek(self) -> str | None:
        return self.src[self.pos] if self.pos < len(self.src) else None

    def next(self) -> str | None:
        if self.pos < len(self.src):
            self.pos += 1
            return self.src[self.pos - 1]
        return None

    def words(self) -> list[str]:
        return self.stop_on(None, self.raw_escapes)[1]

    def stop_on(self, stop: str | None, raw_escapes: bool) -> tuple[str, list[str]]:
        saved, self.raw_escapes = self.raw_escapes, raw_escapes
        try:
            result: list[str] = []
            words = WordSplitter()
            while (ch := self.peek()) is not None:
                if stop is not None and ch == stop:
                    self.next()
                    return "".join(result), words.finish()
                if ch == "$":
                    tmp = self.dollar()
                    result.append(tmp)
                    words.add_string(tmp)
                    continue
                if ch in "<'\"":
                    tmp = self.angle() if ch == "<" else self.single() if ch == "'" else self.double()
                    result.append(tmp)
                    words.add_raw(tmp)
                    continue
                self.next()
                if ch == "\\":
                    if self.raw_escapes:
                        words.add_raw(ch)
                        result.append(ch)
                    ch = self.next()
                    if ch is None:
                        break
                    words.add_raw(ch)
                else:
                    words.add_char(ch)
                result.append(ch)
            if stop is not None:
                raise _LexError(f"unexpected end of statement while looking for matching {stop}")
            return "".join(result), words.finish()
        finally:
            self.raw_escapes = saved

    def single(self) -> str:
        opening = self.next() or ""
        out = [opening] if self.raw_quotes else []
        while True:
            ch = self.next()
            if ch is None:
                raise _LexError("unexpected end of statement while looking for matching single-quote")
            if ch == "'":
                if self.raw_quotes:
                    out.append(ch)
                return "".join(out)
            out.append(ch)

    def double(self) -> str:
        opening = self.next() or ""
        out = [opening] if self.raw_quotes else []
        while True:
            ch = self.peek()
            if ch is None:
                raise _LexError("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.next()
                if self.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            self.next()
            if ch == "\\":
                if self.raw_escapes:
                    out.append(ch)
                following = self.peek()
                if following is None:
                    continue
                if following in '"$\\':
                    ch = self.next() or ""
            out.append(ch)

    def angle(self) -> str:
        self.next()
        if self.peek() != "<":
            return "<"
        self.next()
        start = self.pos
        while (ch := self.peek()) is not None and ch in _HEREDOC_BLANKS:
            self.next()
        return "<<" + self.src[start : self.pos]

    def name(self) -> str:
        start = self.pos
        while (ch := self.peek()) is not None:
            if self.pos == start and ch.isdecimal():
                while (d := self.peek()) is not None and d.isdecimal():
                    self.next()
                break
            if self.pos == start and ch in _SPECIAL_PARAMS:
                self.next()
                break
            if not (ch.isalpha() or ch.isdecimal() or ch == "_"):
                break
            self.next()
        return self.src[start : self.pos]

    def dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self.name()
            return "$" + name
        self.next()
        lead = self.peek()
        if lead is None:
            raise _LexError("syntax error: missing '}'")
        if lead in "{}:":
            raise _LexError("syntax error: bad substitution")
        name = self.name()
        ch = self.next()
        if ch == "}":
            return "${" + name + "}"
        modifier = ch or "\ufffd"
        if ch == ":":
            ch = self.next()
            modifier += ch or "\ufffd"
            return self._modified(name, modifier, ch, null_is_unset=True)
        if ch is not None and ch in "+-?#%":
            return self._modified(name, modifier, ch, null_is_unset=False)
        if ch == "/":
            if self.peek() == "/":
                self.next()
            pattern = self._until("/", "syntax error: missing '/' in ${}")
            replacement = self._until("}", "syntax error: missing '}'")
            return "${" + name + "/" + pattern + "/" + replacement + "}"
        raise _LexError(f"unsupported modifier ({modifier}) in substitution")

    def _modified(self, name: str, modifier: str, ch: str | None, *, null_is_unset: bool) -> str:
        raw = ch in ("#", "%")
        if null_is_unset and raw:
            raise _LexError(f"unsupported modifier ({modifier}) in substitution")
        word = self._until("}", "syntax error: missing '}'", raw_escapes=raw)
        return "${" + name + modifier + word + "}"

    def _until(self, stop: str, at_end: str, *, raw_escapes: bool = True) -> str:
        try:
            return self.stop_on(stop, raw_escapes)[0]
        except _LexError:
            if self.peek() is None:
                raise _LexError(at_end) from None
            raise


def _lex_words(text: str, *, raw_quotes: bool, raw_escapes: bool) -> list[str]:
    return _Lexer(text, raw_quotes=raw_quotes, raw_escapes=raw_escapes).words()


def parse_heredoc_word(word: str) -> Heredoc | None:
    """The heredoc a single (already split) word opens, or None if it opens none.

    Raises ParseError when the delimiter's quotes do not balance (`<<'EOF`).
    """
    match = _HEREDOC_WORD.match(word)
    if match is None or not match.group(3):
        return None
    digits, dash, rest = match.groups()
    try:
        names = _lex_words(rest, raw_quotes=False, raw_escapes=False)
        if len(names) != 1:
            return None
        raw_names = _lex_words(rest, raw_quotes=True, raw_escapes=False)
    except _LexError as exc:
        raise ParseError(f"failed to process {go_quote(rest)}: {exc}") from None
    if len(raw_names) != 1:  # pragma: no cover - the two lexings split alike
        raise ParseError(f"internal lexing of heredoc produced inconsistent results: {go_quote(rest)}")
    name, raw_name = names[0], raw_names[0]
    quoted = name.count("'") + name.count('"') != raw_name.count("'") + raw_name.count('"')
    return Heredoc(
        name=name,
        content="",
        expand=not quoted,
        chomp=dash == "-",
        file_descriptor=min(int(digits), _MAX_FD) if digits else 0,
    )


def heredocs_from_line(line: str) -> tuple[Heredoc, ...]:
    """Every heredoc an instruction line opens, in order (bodies not yet read)."""
    try:
        words = _lex_words(line, raw_quotes=True, raw_escapes=True)
    except _LexError:
        return ()
    found = []
    for word in words:
        heredoc = parse_heredoc_word(word)
        if heredoc is not None:
            found.append(heredoc)
    return tuple(found)


def chomp_heredoc_content(content: str) -> str:
    """`<<-`: remove the leading tabs of every line of a body."""
    return _LEADING_TABS.sub("", content)
