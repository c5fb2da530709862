"""One logical line to one AST node: keyword, flags, and arguments split per instruction.

The grammar (`grammar/dockerfile.lark`) does the reading; this module decides which of its entry
points applies to which keyword, because BuildKit's parser gives each instruction its own
argument shape (see the table in `node_from_line`). Those shapes are part of the dump format, and
the typed-instruction layer relies on them, so they follow BuildKit exactly, quirks included.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import attrs

from pybuildkit.errors import ParseError
from pybuildkit.syntax.ast import Node
from pybuildkit.syntax.gostr import (
    BYTE_SPACE,
    from_byte_view,
    go_lower,
    go_quote,
    go_trim_left_space,
    go_trim_space,
    to_byte_view,
)
from pybuildkit.syntax.grammar import parser

if TYPE_CHECKING:  # pragma: no cover
    from lark import Tree

__all__ = [
    "NOT_STRING_ARRAY",
    "CommandLine",
    "split_command",
    "parse_json_array",
    "split_words",
    "split_fields",
    "parse_name_value",
    "node_from_line",
]

NOT_STRING_ARRAY = "when using JSON array syntax, arrays must be comprised of strings only"

_OLD_FORM_SPLIT = re.compile(r"[\t\v\f\r ]+")
_MAYBE_HUGE_NUMBER = re.compile(r"[0-9][eE]|[0-9]{300}")
_SWAP_ESCAPES = str.maketrans({"\\": "`", "`": "\\"})


class _NotJSON(Exception):
    """The text is not a JSON array: BuildKit then reads it as shell form."""


@attrs.frozen
class CommandLine:
    """A logical line split into keyword (as written), flags and the argument text."""

    keyword: str
    flags: tuple[str, ...]
    arguments: str


def _lark_errors() -> tuple[type[Exception], ...]:
    from lark.exceptions import LarkError

    return (LarkError,)


def _parse(text: str, start: str) -> Tree:
    try:
        return parser().parse(text, start=start)
    except _lark_errors() as exc:
        raise ParseError(f"cannot read {go_quote(text[:80])}: {exc.__class__.__name__}") from None


def _flag_value(raw: str) -> str:
    """Quote removal and escapes in a builder flag, over the byte view (see the grammar)."""
    if "'" not in raw and '"' not in raw and "\\" not in raw:
        return raw
    out = []
    quote = ""
    i, end = 0, len(raw)
    while i < end:
        ch = raw[i]
        if not quote and ch in "'\"":
            quote = ch
        elif quote and ch == quote:
            quote = ""
        elif ch == "\\":
            if i + 1 == end:
                quote = ""
            else:
                i += 1
                out.append(raw[i])
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def split_command(line: str) -> CommandLine:
    """Keyword, builder flags (`--name=value`, quotes removed) and the trimmed argument text."""
    view = to_byte_view(go_trim_space(line))
    if not view:  # a lone continuation at the end of the file: BuildKit keeps an empty instruction
        return CommandLine("", (), "")
    tree = _parse(view, "line")
    keyword = from_byte_view(tree.children[0].children[0])
    flags: list[str] = []
    rest = ""
    for part in tree.children[1:]:
        if part.data == "flag":
            token = part.children[0]
            value = _flag_value(str(token))
            if value == "--":
                rest = view[token.end_pos :]
                break
            flags.append(value)
        elif part.data == "arguments":
            rest = str(part.children[0])
        else:
            rest = str(part.children[1]) if len(part.children) > 1 else ""
    return CommandLine(keyword, tuple(flags), go_trim_space(from_byte_view(rest)))


def _json_string(token: str) -> str:
    value = json.loads(token)
    # Go replaces invalid UTF-8 and unpaired surrogates with U+FFFD when it decodes JSON.
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        value = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value)
    return value


def _tokens(tree: Tree, kind: str) -> list[str]:
    """Tokens of one type anywhere in a tree, without recursion (arrays may nest deeply)."""
    return [
        child
        for subtree in tree.iter_subtrees()
        for child in subtree.children
        if getattr(child, "type", None) == kind
    ]


def _json_array(text: str) -> tuple[str, ...]:
    text = go_trim_left_space(text)
    if not text.startswith("["):
        raise _NotJSON
    try:
        tree = parser().parse(text, start="json_form")
    except _lark_errors():
        raise _NotJSON from None
    if _MAYBE_HUGE_NUMBER.search(text) and any(
        math.isinf(float(token)) for token in _tokens(tree, "JSON_NUMBER")
    ):
        raise _NotJSON  # Go fails to decode an out-of-range number: then it is shell form
    values = []
    for item in tree.children:
        if item.data != "json_string":
            raise ParseError(NOT_STRING_ARRAY)
        values.append(_json_string(item.children[0]))
    return tuple(values)


def parse_json_array(text: str) -> tuple[str, ...] | None:
    """Exec form: the strings of a JSON array, None if `text` is not one (then it is shell form).

    Raises ParseError for a valid JSON array with a non-string element.
    """
    try:
        return _json_array(text)
    except _NotJSON:
        return None


def _drop_dangling_escape(word: str) -> str:
    """An escape character at the very end of the argument text is dropped from its word."""
    quote = ""
    out = []
    i, end = 0, len(word)
    while i < end:
        ch = word[i]
        if ch == "\\" and quote != "'":
            if i + 1 == end:
                break
            out.append(word[i : i + 2])
            i += 2
            continue
        if not quote and ch in "'\"":
            quote = ch
        elif quote and ch == quote:
            quote = ""
        out.append(ch)
        i += 1
    return "".join(out)


def split_words(text: str, escape: str = "\\") -> tuple[str, ...]:
    """ARG/ENV/LABEL words: split at unquoted blanks, quotes and escapes kept in the text."""
    if not text:
        return ()
    swapped = escape == "`"
    if swapped:
        text = text.translate(_SWAP_ESCAPES)
    tokens = _parse(text, "words").children
    words = [str(t) for t in tokens]
    if words and tokens[-1].end_pos == len(text) and words[-1].endswith("\\"):
        words[-1] = _drop_dangling_escape(words[-1])
        if not words[-1]:
            words.pop()
    if swapped:
        words = [w.translate(_SWAP_ESCAPES) for w in words]
    return tuple(words)


def split_fields(text: str) -> tuple[str, ...]:
    """FROM/EXPOSE and shell-form ADD/COPY/VOLUME: blank-separated, quotes mean nothing."""
    if not text:
        return ()
    return tuple(str(t) for t in _parse(text, "fields").children)


def parse_name_value(keyword: str, text: str, escape: str = "\\") -> tuple[str, ...]:
    """ENV/LABEL as key, value, separator triples (`name value` or `name=value ...`)."""
    words = split_words(text, escape)
    if not words:
        return ()
    if "=" not in words[0]:
        parts = _OLD_FORM_SPLIT.split(text, maxsplit=1)
        if len(parts) < 2:
            raise ParseError(f"{keyword.upper()} must have two arguments")
        return (parts[0], parts[1], "")
    out: list[str] = []
    for word in words:
        if "=" not in word:
            raise ParseError(
                f"Syntax error - can't find = in {go_quote(word)}. Must be of the form: name=value"
            )
        key, value = word.split("=", 1)
        out += (key, value, "=")
    return tuple(out)


def _maybe_json(text: str, _escape: str) -> tuple[tuple[str, ...], bool]:
    if not text:
        return (), False
    values = parse_json_array(text)
    return ((text,), False) if values is None else (values, True)


def _maybe_json_list(text: str, _escape: str) -> tuple[tuple[str, ...], bool]:
    values = parse_json_array(text)
    return (split_fields(text), False) if values is None else (values, True)


def _healthcheck(text: str, escape: str) -> tuple[tuple[str, ...], bool]:
    # The type word ends at the first blank *byte*, as in BuildKit.
    view = to_byte_view(text)
    sep = 0
    while sep < len(view) and view[sep] not in BYTE_SPACE:
        sep += 1
    if sep == 0:
        return (), False
    after = sep
    while after < len(view) and view[after] in BYTE_SPACE:
        after += 1
    command, is_json = _maybe_json(from_byte_view(view[after:]), escape)
    return (from_byte_view(view[:sep]), *command), is_json


def _whole(text: str, _escape: str) -> tuple[tuple[str, ...], bool]:
    return ((text,) if text else ()), False


_ARGUMENTS: dict[str, Callable[[str, str], tuple[tuple[str, ...], bool]]] = {
    "run": _maybe_json,
    "cmd": _maybe_json,
    "entrypoint": _maybe_json,
    "shell": _maybe_json,
    "add": _maybe_json_list,
    "copy": _maybe_json_list,
    "volume": _maybe_json_list,
    "from": lambda text, _e: (split_fields(text), False),
    "expose": lambda text, _e: (split_fields(text), False),
    "arg": lambda text, e: (split_words(text, e), False),
    "env": lambda text, e: (parse_name_value("ENV", text, e), False),
    "label": lambda text, e: (parse_name_value("LABEL", text, e), False),
    "healthcheck": _healthcheck,
    "maintainer": _whole,
    "user": _whole,
    "workdir": _whole,
    "stopsignal": _whole,
}


def node_from_line(line: str, escape: str = "\\", comments: Sequence[str] = ()) -> Node:
    """The node for one logical line (span left for the caller to set).

    | keyword | arguments |
    |---|---|
    | RUN CMD ENTRYPOINT SHELL | JSON strings, else the whole text |
    | ADD COPY VOLUME | JSON strings, else blank-separated fields |
    | FROM EXPOSE | blank-separated fields |
    | ARG | words |
    | ENV LABEL | key, value, separator triples |
    | HEALTHCHECK | type word, then like CMD |
    | MAINTAINER USER WORKDIR STOPSIGNAL | the whole text |
    | ONBUILD | no arguments: the nested instruction is `child` |
    | anything else | one empty string (the typed layer rejects it) |
    """
    wrappers: list[tuple[CommandLine, str]] = []
    text = line
    while True:
        command = split_command(text)
        keyword = go_lower(command.keyword)
        if keyword != "onbuild" or not command.arguments:
            break
        wrappers.append((command, text))
        text = command.arguments
    handler = _ARGUMENTS.get(keyword)
    if handler is None:
        args, is_json = (("",), False) if keyword != "onbuild" else ((), False)
    else:
        args, is_json = handler(command.arguments, escape)
    node = Node(keyword=keyword, args=args, flags=command.flags, json=is_json, original=text)
    for outer, outer_text in reversed(wrappers):
        node = Node(keyword="onbuild", flags=outer.flags, child=node, original=outer_text)
    if comments:
        node = attrs.evolve(node, prev_comment=tuple(comments))
    return node
