"""The wildcard patterns of `${v#p}`, `${v%p}` and `${v/p/r}`, read the way BuildKit reads them.

BuildKit does not implement POSIX pattern matching: it turns the pattern into a Go regular
expression (`*` any run, `?` one character, no bracket expressions) and lets Go's regexp engine
pick the match: leftmost-first (Perl) preference, `*` greedy for `##`, `%%` and `/`, lazy for `#`
and `%`, and wildcards never matching a newline. Suffix trimming reverses both the pattern and the
value, because a leftmost engine cannot look for the shortest rightmost match; the reversal keeps
escape pairs in order.

We do not hand the regexp to Python's `re`: it backtracks, so `${V##*a*a*a*a*c}` on a long value
takes seconds to hours, where Go's engine is linear. Instead a tiny Pike VM (Thompson simulation
with thread priorities) runs the pattern in O(len(value) * len(pattern)) and picks exactly the match
a leftmost-first engine picks. `pattern_to_regex_text` still renders Go's regexp text, which is
what BuildKit's own tests compare and what our differential tests feed to `re`.

Replace-all follows Go's `Regexp.ReplaceAllString` rather than `re.sub`: an empty match right after
a match is not replaced, and the replacement is a Go template (`$0`/`${0}` is the match, `$$` a
dollar, any other `$name` expands to nothing). A single replacement is inserted literally. Both
quirks are BuildKit's observable behaviour, so we keep them.
"""

from __future__ import annotations

import attrs

from pybuildkit.syntax.shell_errors import ShellExpansionError

__all__ = [
    "STAR",
    "ANY",
    "Pattern",
    "parse_pattern",
    "pattern_to_regex_text",
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

# Pattern items: a literal character is itself (a 1-character string); these two are not strings.
STAR = 0
ANY = 1
_Item = str | int


@attrs.frozen
class Pattern:
    """A parsed shell pattern: literal characters, `ANY` (`?`) and `STAR` (`*`) items."""

    items: tuple[_Item, ...]


def parse_pattern(pattern: str) -> Pattern:
    """Read BuildKit's pattern syntax; raise ShellExpansionError for a bad `\\` escape."""
    items: list[_Item] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            items.append(STAR)
        elif ch == "?":
            items.append(ANY)
        elif ch == "\\":
            if i < n and pattern[i] in _DROPPED_ESCAPES:
                continue
            if i >= n:
                raise ShellExpansionError("invalid escape '\\' at end of pattern")
            escaped = pattern[i]
            i += 1
            if escaped not in _ESCAPABLE:
                raise ShellExpansionError(f"invalid escape '\\{escaped}'")
            items.append(escaped)
        else:
            items.append(ch)
    return Pattern(tuple(items))


def pattern_to_regex_text(pattern: str, *, greedy: bool, anchored: bool) -> str:
    """The Go regexp text BuildKit builds for `pattern` (also valid, with the same meaning, for `re`)."""
    out: list[str] = ["^"] if anchored else []
    for item in parse_pattern(pattern).items:
        if item == STAR:
            out.append(".*" if greedy else ".*?")
        elif item == ANY:
            out.append(".")
        elif item in _REGEX_SPECIAL or item in _ESCAPABLE:
            out.append("\\" + str(item))
        else:
            out.append(str(item))
    return "".join(out)


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
    span = _search(parse_pattern(pattern), value, greedy=greedy, anchored=True)
    return value if span is None else value[span[1] :]


def trim_suffix(pattern: str, value: str, *, greedy: bool) -> str:
    """`${v%p}` and `${v%%p}`: trim a suffix by trimming the prefix of both reversed."""
    return trim_prefix(reverse_pattern(pattern), value[::-1], greedy=greedy)[::-1]


def replace_first(pattern: str, value: str, replacement: str) -> str:
    """`${v/p/r}`: replace the leftmost (longest-star) match with `replacement`, taken literally."""
    span = _search(parse_pattern(pattern), value, greedy=True, anchored=False)
    if span is None:
        return value
    return value[: span[0]] + replacement + value[span[1] :]


def replace_all(pattern: str, value: str, replacement: str) -> str:
    """`${v//p/r}`: every match replaced, with Go's empty-match rule and template expansion."""
    parsed = parse_pattern(pattern)
    out: list[str] = []
    last_end = 0
    search_at = 0
    end = len(value)
    while search_at <= end:
        span = _search(parsed, value, greedy=True, anchored=False, start=search_at)
        if span is None:
            break
        first, stop = span
        out.append(value[last_end:first])
        if stop > last_end or first == 0:
            out.append(_expand_go_template(replacement, value[first:stop]))
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


_ACCEPT = -1


def _search(
    pattern: Pattern, text: str, *, greedy: bool, anchored: bool, start: int = 0
) -> tuple[int, int] | None:
    """The (start, end) a leftmost-first regexp engine reports for `pattern`, in linear time.

    Threads are pattern positions (`pc`); a `STAR` at `pc` is a split between looping (consume one
    non-newline character, stay at `pc`) and moving on, preferred in that order when greedy. The
    thread list is kept in priority order, a position reached twice in one step keeps only its
    first (higher-priority) thread, and a match cuts off every lower-priority thread: that is
    exactly the match a backtracking engine would return first.
    """
    items = pattern.items
    size = len(items)
    threads: list[tuple[int, int, bool]] = []  # (pc, start, looping in the star at pc)
    seen: set[tuple[int, bool]] = set()
    found: tuple[int, int] | None = None

    def add(into: list[tuple[int, int, bool]], marks: set[tuple[int, bool]], pc: int, origin: int) -> None:
        # Follow the splits iteratively (a pattern of many stars must not exhaust the stack).
        stack = [(pc, False)]
        while stack:
            at, looping = stack.pop()
            if (at, looping) in marks:
                continue
            marks.add((at, looping))
            if at == size:
                into.append((_ACCEPT, origin, False))
            elif items[at] == STAR and not looping:
                # Pushed in reverse: the preferred branch is popped (added) first.
                if greedy:
                    stack.append((at + 1, False))
                    stack.append((at, True))
                else:
                    stack.append((at, True))
                    stack.append((at + 1, False))
            else:
                into.append((at, origin, looping))

    position = start
    end = len(text)
    while position <= end:
        if found is None and (not anchored or position == start):
            add(threads, seen, 0, position)
        if not threads:
            if found is not None or anchored:
                break
            position += 1
            continue
        ch = text[position] if position < end else None
        following: list[tuple[int, int, bool]] = []
        following_seen: set[tuple[int, bool]] = set()
        for pc, origin, looping in threads:
            if pc == _ACCEPT:
                found = (origin, position)
                break
            if ch is None:
                continue
            item = STAR if looping else items[pc]
            if item == STAR or item == ANY:
                if ch != "\n":
                    add(following, following_seen, pc if looping else pc + 1, origin)
            elif item == ch:
                add(following, following_seen, pc + 1, origin)
        threads, seen = following, following_seen
        position += 1
    return found


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
