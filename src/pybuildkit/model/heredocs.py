"""Heredoc helpers of the instruction layer: telling a `<<EOF` word apart and `<<-` tab stripping.

The parser has already read the heredoc bodies; what the instruction layer still needs is to know
which COPY/ADD operand words are heredoc markers (they become inline files, and one in the
destination position is an error) and to strip leading tabs for `<<-` exactly as BuildKit does
when it builds COPY data.
"""

from __future__ import annotations

import re

import attrs

__all__ = ["HeredocMarker", "chomp_heredoc_content", "heredoc_marker"]

_MARKER = re.compile(r"(\d*)<<(-?)([^<]*)", re.DOTALL)
_LEADING_TABS = re.compile(r"^\t+", re.MULTILINE)


@attrs.frozen
class HeredocMarker:
    """The parts of one `[n]<<[-]NAME` word: delimiter name, `<<-` (chomp) and the fd number."""

    name: str
    chomp: bool = False
    file_descriptor: int = 0


def chomp_heredoc_content(text: str) -> str:
    """Remove the leading tabs of every line, as `<<-` asks (spaces are kept, like a shell)."""
    return _LEADING_TABS.sub("", text)


def _unquote_word(rest: str) -> str | None:
    """The delimiter word with quotes and escapes removed; None if `rest` is not exactly one word.

    Variables stay literal (`$EOF` names `$EOF`), matching BuildKit's lexing of the delimiter with
    unset variables kept.
    """
    out: list[str] = []
    i = 0
    seen_text = False
    while i < len(rest):
        ch = rest[i]
        if ch.isspace():
            if rest[i:].strip():
                return None
            break
        seen_text = True
        if ch == "'":
            end = rest.find("'", i + 1)
            if end < 0:
                return None
            out.append(rest[i + 1 : end])
            i = end + 1
        elif ch == '"':
            i += 1
            while i < len(rest) and rest[i] != '"':
                if rest[i] == "\\" and i + 1 < len(rest) and rest[i + 1] in '"$\\':
                    i += 1
                out.append(rest[i])
                i += 1
            if i >= len(rest):
                return None
            i += 1
        elif ch == "\\":
            if i + 1 < len(rest):
                out.append(rest[i + 1])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out) if seen_text else None


def heredoc_marker(word: str) -> HeredocMarker | None:
    """If `word` is a heredoc marker such as `<<EOF`, `<<-'EOF'` or `3<<IN`, its parts; else None."""
    match = _MARKER.fullmatch(word)
    if match is None or not match.group(3):
        return None
    name = _unquote_word(match.group(3).lstrip(" \t"))
    if name is None:
        return None
    return HeredocMarker(name, match.group(2) == "-", int(match.group(1) or 0))
