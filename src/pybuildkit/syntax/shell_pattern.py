"""The wildcard patterns of `${v#p}`, `${v%p}` and `${v/p/r}`, read the way BuildKit reads them.

BuildKit does not implement POSIX pattern matching: it turns the pattern into a Go regular
expression (`*` any run, `?` one character, no bracket expressions) and lets the regexp engine find
the match. Python's `re` agrees with Go's RE2 on every construct produced here (leftmost-first
alternation, lazy `.*?`, `.` not matching a newline), so we build the same regexp text and get the
same matches. Suffix trimming reverses both the pattern and the value, because a leftmost engine
cannot look for the shortest rightmost match; the reversal keeps escape pairs in order.

Replace-all follows Go's `Regexp.ReplaceAllString` rather than `re.sub`: an empty match right after
a match is not replaced, and the replacement is a Go template (`$0`/`${0}` is the match, `$$` a
dollar, any other `$name` expands to nothing). A single replacement is inserted literally. Both
quirks are BuildKit's observable behaviour, so we keep them.
"""

from __future__ import annotations

import re

from pybuildkit.syntax.shell_errors import ShellExpansionError

__all__ = [
    "pattern_to_regex_text",
    "compile_pattern",
    "reverse_pattern",
    "trim_prefix",
    "trim_suffix",
    "replace_first",
    "replace_all",
]

# Characters Go's converter escapes; together with the handled `*`, `?` and `\` they cover every
# character Python's `re` treats specially outside verbose mode.
_REGEX_SPECIAL = frozenset("[]{}.+()|^$")
# After a backslash BuildKit drops the escape before `}` and `/` (they had to be escaped to sit
# inside `${...}`) and accepts only these as escaped pattern characters.
_DROPPED_ESCAPES = frozenset("}/")
_ESCAPABLE = frozenset("*?\\")


def pattern_to_regex_text(pattern: str, *, greedy: bool, anchored: bool) -> str:
    """The regexp text BuildKit builds for `pattern` (identical to Go's, and valid for `re`).

    Raises ShellExpansionError for a lone trailing `\\` or an escape of any other character.
    """
    out: list[str] = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append(star)
        elif ch == "?":
            out.append(".")
        elif ch == "\\":
            if i < n and pattern[i] in _DROPPED_ESCAPES:
                continue
            if i >= n:
                raise ShellExpansionError("invalid escape '\\' at end of pattern")
            escaped = pattern[i]
            i += 1
            if escaped not in _ESCAPABLE:
                raise ShellExpansionError(f"invalid escape '\\{escaped}'")
            out.append("\\" + escaped)
        elif ch in _REGEX_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def compile_pattern(pattern: str, *, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """`pattern_to_regex_text`, compiled."""
    return re.compile(pattern_to_regex_text(pattern, greedy=greedy, anchored=anchored))


def reverse_pattern(pattern: str) -> str:
    """Reverse a pattern character by character but keep each `\\x` escape pair in order.

    A trailing lone `\\` (impossible after lexing, which consumes it) is reversed like any character.
    """
    out = [""] * len(pattern)
    last = len(pattern) - 1
    i = 0
    while i <= last:
        ch = pattern[i]
        at = last - i
        if ch == "\\" and i != last:
            out[at - 1] = ch
            out[at] = pattern[i + 1]
            i += 2
        else:
            out[at] = ch
            i += 1
    return "".join(out)


def trim_prefix(pattern: str, value: str, *, greedy: bool) -> str:
    """`${v#p}` (greedy=False) and `${v##p}` (greedy=True): drop the matched prefix, if any."""
    match = compile_pattern(pattern, greedy=greedy, anchored=True).search(value)
    return value if match is None else value[match.end() :]


def trim_suffix(pattern: str, value: str, *, greedy: bool) -> str:
    """`${v%p}` and `${v%%p}`: trim a suffix by trimming the prefix of both reversed."""
    return trim_prefix(reverse_pattern(pattern), value[::-1], greedy=greedy)[::-1]


def replace_first(pattern: str, value: str, replacement: str) -> str:
    """`${v/p/r}`: replace the leftmost (longest-star) match with `replacement`, taken literally."""
    match = compile_pattern(pattern, greedy=True, anchored=False).search(value)
    if match is None:
        return value
    return value[: match.start()] + replacement + value[match.end() :]


def replace_all(pattern: str, value: str, replacement: str) -> str:
    """`${v//p/r}`: every match replaced, with Go's empty-match rule and template expansion."""
    regex = compile_pattern(pattern, greedy=True, anchored=False)
    out: list[str] = []
    last_end = 0
    search_at = 0
    end = len(value)
    while search_at <= end:
        match = regex.search(value, search_at)
        if match is None:
            break
        start, stop = match.span()
        out.append(value[last_end:start])
        if stop > last_end or start == 0:
            out.append(_expand_go_template(replacement, match.group(0)))
        last_end = stop
        width = 1 if search_at < end else 0
        if search_at + width > stop:
            search_at += width
        elif search_at + 1 > stop:
            search_at += 1
        else:
            search_at = stop
    out.append(value[last_end:])
    return "".join(out)


def _expand_go_template(template: str, matched: str) -> str:
    """Go's `Regexp.Expand` for a regexp without groups: only group 0 (`$0`, `${0}`) has a value."""
    out: list[str] = []
    i, n = 0, len(template)
    while True:
        dollar = template.find("$", i)
        if dollar < 0:
            out.append(template[i:])
            return "".join(out)
        out.append(template[i:dollar])
        i = dollar + 1
        if i < n and template[i] == "$":
            out.append("$")
            i += 1
            continue
        parsed = _template_name(template, i)
        if parsed is None:
            out.append("$")
            continue
        name, i = parsed
        if name == "0":
            out.append(matched)


def _template_name(template: str, at: int) -> tuple[str, int] | None:
    """A `$name` or `${name}` reference starting at `at` (just past the `$`), and where it ends."""
    brace = template.startswith("{", at)
    start = at + 1 if brace else at
    stop = start
    while stop < len(template) and (template[stop].isalpha() or template[stop].isdecimal() or template[stop] == "_"):
        stop += 1
    if stop == start:
        return None
    name = template[start:stop]
    if brace:
        if not template.startswith("}", stop):
            return None
        stop += 1
    return name, stop
