"""Dockerfile text to `Document`: the pre-lexer around the grammar.

A context-free grammar cannot see what this module handles, because each of these changes how
the following lines are read: parser directives at the top (`# escape=` changes the continuation
and escape character), a UTF-8 BOM, comments (only at line start, silently dropped inside
continuations), continuation lines joined with the escape character (blank ones accepted with a
warning), and heredoc bodies (raw lines up to the delimiter, opened by the instruction line
itself). What remains, one logical line at a time, goes to the grammar via `node_from_line`.

The line bookkeeping follows BuildKit's `parser.Parse` step by step, because line numbers, the
joined `original` text and the set of accepted files are all observable.
"""

from __future__ import annotations

import re

import attrs

from pybuildkit.errors import ParseError, Span
from pybuildkit.syntax.ast import Directives, Document, Heredoc, Node, Warning_
from pybuildkit.syntax.directives import ESCAPE_CHARACTERS, DirectiveScanner
from pybuildkit.syntax.gostr import go_quote, go_trim_left_space, go_trim_space, replace_surrogates
from pybuildkit.syntax.heredoc import HEREDOC_KEYWORDS, heredocs_from_line
from pybuildkit.syntax.instruction import node_from_line

__all__ = ["MAX_LINE_BYTES", "parse", "can_contain_heredoc"]

#: BuildKit reads lines with Go's bufio.Scanner: a longer physical line is an error.
MAX_LINE_BYTES = 65535

_BOM = "\ufeff"
_EMPTY_CONTINUATION_RULE = "no-empty-continuation"
_EMPTY_CONTINUATION_URL = "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/"
# Characters str.splitlines() breaks at besides \n: flattened in error excerpts so that the
# excerpt's line numbering matches ours.
_EXCERPT_FLATTEN = str.maketrans({c: " " for c in "\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})


def _continuation(escape: str) -> re.Pattern[str]:
    e = re.escape(escape)
    return re.compile(rf"([^{e}]){e}[ \t]*\Z|\A{e}[ \t]*\Z")


_CONTINUATIONS = {escape: _continuation(escape) for escape in ESCAPE_CHARACTERS}


def _is_comment(line: str) -> bool:
    return go_trim_left_space(line).startswith("#")


def _trim_newline(line: str) -> str:
    return line.rstrip("\r\n")


def can_contain_heredoc(node: Node) -> bool:
    """RUN, COPY and ADD in shell form (also behind ONBUILD) may open heredocs."""
    if node.keyword == "onbuild" and node.child is not None:
        node = node.child
    return node.keyword in HEREDOC_KEYWORDS and not node.json


def _decode(data: str | bytes) -> str:
    """Text with every undecodable byte as a surrogate escape (so it round-trips to bytes)."""
    if isinstance(data, bytes):
        return data.decode("utf-8", "surrogateescape")
    if data.isascii():
        return data
    try:
        data.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        # Surrogates that stand for no byte (only a Python caller can pass them): U+FFFD.
        data = "".join(
            "\ufffd" if "\ud800" <= ch <= "\udfff" and not "\udc80" <= ch <= "\udcff" else ch
            for ch in data
        )
    return data


class _Reader:
    """Physical lines (each with its line ending) and the bookkeeping BuildKit does over them."""

    def __init__(self, text: str, path: str) -> None:
        self.lines = text.split("\n")
        for i in range(len(self.lines) - 1):
            self.lines[i] += "\n"
        if self.lines[-1] == "":
            self.lines.pop()
        self.index = 0
        self.path = path

    def at_end(self) -> bool:
        return self.index >= len(self.lines)

    def take(self) -> str:
        line = self.lines[self.index]
        self.index += 1
        if len(line) > MAX_LINE_BYTES // 4:
            body = line[:-1] if line.endswith("\n") else line
            if len(body.encode("utf-8", "surrogateescape")) > MAX_LINE_BYTES:
                raise self.error(
                    f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES}", self.index
                )
        return line

    def physical(self, line_number: int) -> str:
        """Physical line `line_number` (1-based) as the parser saw it: BOM dropped, ending kept."""
        line = self.lines[line_number - 1]
        return line.removeprefix(_BOM) if line_number == 1 else line

    def source(self) -> str:
        """The text for error excerpts: our line numbering, printable on any terminal."""
        flat = (
            _trim_newline(self.physical(n)).translate(_EXCERPT_FLATTEN)
            for n in range(1, len(self.lines) + 1)
        )
        return replace_surrogates("\n".join(flat))

    def column(self, line_number: int) -> int:
        """1-based column of the first non-blank character of a line (1 past the end if none)."""
        if not 1 <= line_number <= len(self.lines):
            return 1
        raw = _trim_newline(self.physical(line_number))
        return len(raw) - len(go_trim_left_space(raw)) + 1

    def error(self, message: str, line: int, end_line: int | None = None) -> ParseError:
        line = max(line, 1)
        span = Span(line=line, column=self.column(line), end_line=end_line, file=self.path)
        return ParseError(_printable(message), span, source=self.source())


def _printable(message: str) -> str:
    """Messages quote user text; undecodable bytes in it must not break printing the error."""
    return replace_surrogates(message)


def _locate(exc: ParseError, reader: _Reader, line: int, end_line: int | None) -> ParseError:
    if exc.span is None:
        line = max(line, 1)
        exc.with_location(
            Span(line=line, column=reader.column(line), end_line=end_line, file=reader.path),
            reader.source(),
        )
    exc.message = _printable(exc.message)
    exc.args = (exc.message,)
    return exc


def _with_span(node: Node, span: Span) -> Node:
    """Give the node and its nested ONBUILD chain the span (iteratively: chains can be long)."""
    chain = [node]
    while chain[-1].child is not None:
        chain.append(chain[-1].child)
    rebuilt = attrs.evolve(chain[-1], span=span)
    for outer in reversed(chain[:-1]):
        rebuilt = attrs.evolve(outer, span=span, child=rebuilt)
    return rebuilt


def parse(text: str | bytes, path: str = "Dockerfile") -> Document:
    """Parse a whole Dockerfile; raises ParseError (with span and excerpt) for invalid syntax."""
    source = _decode(text)
    reader = _Reader(source, path)
    scanner = DirectiveScanner()
    escape = "\\"
    continuation = _CONTINUATIONS[escape]
    found: dict[str, tuple[str, Span]] = {}
    nodes: list[Node] = []
    warnings: list[Warning_] = []
    comments: list[str] = []
    current = 0

    def directive(token: str, number: int) -> bool:
        nonlocal escape, continuation
        try:
            found_directive = scanner.feed(token, number)
        except ParseError as exc:
            raise _locate(exc, reader, number, None) from None
        if found_directive is None:
            return False
        span = Span(line=number, column=1, file=path)
        if found_directive.name == "escape":
            if found_directive.value not in ESCAPE_CHARACTERS:
                raise reader.error(
                    f"invalid escape token '{found_directive.value}' does not match ` or \\", number
                )
            escape = found_directive.value
            continuation = _CONTINUATIONS[escape]
        found[found_directive.name] = (found_directive.value, span)
        return True

    while not reader.at_end():
        raw = reader.take()
        if current == 0:
            raw = raw.removeprefix(_BOM)
        if _is_comment(raw):
            comment = go_trim_space(raw[1:])
            if comment:
                comments.append(comment)
            else:
                comments = []
        token = go_trim_left_space(_trim_newline(raw))
        if not scanner.done and directive(token, current + 1):
            comments = comments[:-1]
        if _is_comment(token):
            token = ""
        current += 1
        start = current
        line, joined = continuation.subn(r"\1", token, count=1)
        end_of_line = joined == 0
        if end_of_line and not line:
            continue

        pieces = [line]
        empty_continuation = False
        while not end_of_line and not reader.at_end():
            raw = reader.take()
            token = _trim_newline(raw)
            current += 1
            if _is_comment(raw):
                continue
            if not go_trim_left_space(token):
                empty_continuation = True
                continue
            token, joined = continuation.subn(r"\1", token, count=1)
            end_of_line = joined == 0
            pieces.append(token)
        line = "".join(pieces)

        if empty_continuation:
            warnings.append(
                Warning_(
                    message=f"Empty continuation line found in: {line}",
                    span=Span(line=current, file=path),
                    rule=_EMPTY_CONTINUATION_RULE,
                    detail="Empty continuation lines will become errors in a future release",
                    url=_EMPTY_CONTINUATION_URL,
                )
            )

        try:
            node = node_from_line(line, escape, comments)
            heredocs = heredocs_from_line(line) if can_contain_heredoc(node) and "<<" in line else ()
        except ParseError as exc:
            raise _locate(exc, reader, start, current) from None

        if heredocs:
            bodies: list[Heredoc] = []
            for heredoc in heredocs:
                content: list[str] = []
                terminated = False
                while not reader.at_end():
                    body_line = reader.take()
                    current += 1
                    candidate = _trim_newline(body_line)
                    if heredoc.chomp:
                        candidate = candidate.lstrip("\t")
                    if candidate == heredoc.name:
                        terminated = True
                        break
                    content.append(body_line)
                if not terminated:
                    raise reader.error(
                        f"unterminated heredoc: no line reads {go_quote(heredoc.name)}",
                        start,
                        current,
                    )
                bodies.append(attrs.evolve(heredoc, content="".join(content)))
            node = attrs.evolve(node, heredocs=tuple(bodies))

        node = _with_span(node, Span(line=start, column=reader.column(start), end_line=current, file=path))
        nodes.append(node)
        comments = []

    if not nodes:
        raise reader.error("file with no instructions", max(current, 1))

    syntax = found.get("syntax")
    check = found.get("check")
    escape_found = found.get("escape")
    directives = Directives(
        escape=escape,
        syntax=syntax[0] if syntax else None,
        check=check[0] if check else None,
        escape_span=escape_found[1] if escape_found else None,
        check_span=check[1] if check else None,
        syntax_span=syntax[1] if syntax else None,
    )
    return Document(
        nodes=tuple(nodes),
        directives=directives,
        warnings=tuple(warnings),
        path=path,
        source=source,
    )
