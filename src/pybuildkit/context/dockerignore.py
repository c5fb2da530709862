""".dockerignore patterns with Docker's exact semantics (moby/patternmatcher), as pure functions.

Docker's rules are not gitignore's: every pattern is anchored at the context root, `*` never
crosses `/`, `**` spans any number of components, a pattern also matches everything *below* a
directory it matches, and the last matching line wins (`!` lines are exceptions). pathspec's
gitignore mode differs on anchoring and on `**`, so patterns are translated to regular expressions
here, following the reference implementation token by token, including its three fast paths
(exact, prefix, suffix) whose semantics are subtly different from the regexp path (`**file`
matches `myfile`). This module does no I/O: the walker (`walker.py`) and the ignore-file loader
(`ignorefile.py`) feed it strings.

Deliberate deviations from upstream, all in inputs nobody writes on purpose: a `\\x` escape is
always the literal `x` (upstream hands `\\d` to Go's regexp, where it means "a digit"), `*` or `?`
inside `[...]` are literal (upstream rewrites them inside the class), and a bad character range
such as `[z-a]` is rejected when the matcher is built rather than at its first use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import attrs

from pybuildkit.errors import ContextError

__all__ = [
    "MatchInfo",
    "Pattern",
    "PatternMatcher",
    "clean_path",
    "parent_dir",
    "parse_ignore_text",
    "validate_glob",
    "glob_regex",
    "has_wildcards",
]

#: Per-pattern "did this pattern match the directory" flags of a parent directory, in pattern
#: order; the empty tuple means "no information about the parent" (it is then recomputed).
MatchInfo = tuple[bool, ...]

_EXACT, _PREFIX, _SUFFIX, _REGEXP = "exact", "prefix", "suffix", "regexp"


def clean_path(path: str) -> str:
    """Go's `filepath.Clean` on a `/`-separated path (posixpath.normpath keeps `//`; Go does not)."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    text = "/".join(parts)
    if rooted:
        return "/" + text
    return text or "."


def parent_dir(path: str) -> str:
    """Go's `filepath.Dir`: everything before the last `/`, cleaned (`a/b/` gives `a/b`)."""
    index = path.rfind("/")
    return clean_path(path[: index + 1])


def has_wildcards(path: str) -> bool:
    """Whether a COPY/ADD source needs wildcard expansion (BuildKit: `*`, `?`, `[`; `\\` escapes)."""
    i = 0
    while i < len(path):
        ch = path[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "*?[":
            return True
        i += 1
    return False


class _BadPattern(Exception):
    """Internal: the pattern is malformed (Go's `filepath.ErrBadPattern`)."""


@attrs.frozen
class _Class:
    """A parsed `[...]` bracket expression: ranges of code points, possibly negated."""

    negated: bool
    ranges: tuple[tuple[str, str], ...]
    raw: str

    def regex(self) -> str:
        body = "".join(
            re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}" for lo, hi in self.ranges
        )
        return f"[{'^' if self.negated else ''}{body}]"


def _class_char(text: str, i: int) -> tuple[str, int]:
    """One class member per Go's `getEsc`: `-` and `]` must be escaped, `\\x` is `x`."""
    if i >= len(text) or text[i] in "-]":
        raise _BadPattern
    if text[i] == "\\":
        i += 1
        if i >= len(text):
            raise _BadPattern
    if i + 1 >= len(text):
        raise _BadPattern  # a class must still be closed after this character
    return text[i], i + 1


def _parse_class(text: str, start: int) -> tuple[_Class, int]:
    """Parse `[...]` beginning at `start` (the `[`); return it and the index after `]`."""
    i = start + 1
    negated = False
    if i < len(text) and text[i] == "^":
        negated = True
        i += 1
    ranges: list[tuple[str, str]] = []
    while True:
        if i < len(text) and text[i] == "]" and ranges:
            i += 1
            break
        lo, i = _class_char(text, i)
        hi = lo
        if text[i] == "-":
            hi, i = _class_char(text, i + 1)
        ranges.append((lo, hi))
    return _Class(negated, tuple(ranges), text[start:i]), i


def validate_glob(pattern: str) -> None:
    """Raise `_BadPattern` where Go's `filepath.Match` would report `ErrBadPattern`, plus the
    reversed ranges Go's regexp rejects later (`[z-a]`)."""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= len(pattern):
                raise _BadPattern
            i += 2
        elif ch == "[":
            cls, i = _parse_class(pattern, i)
            if any(lo > hi for lo, hi in cls.ranges):
                raise _BadPattern
        else:
            i += 1


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Go's `filepath.Match` for one pattern, as a compiled regex (COPY source wildcards).

    `*` and `?` never match `/`; there is no `**`. Raises ContextError on a malformed pattern.
    """
    try:
        validate_glob(pattern)
        out: list[str] = []
        i = 0
        while i < len(pattern):
            ch = pattern[i]
            if ch == "*":
                out.append("[^/]*")
                i += 1
            elif ch == "?":
                out.append("[^/]")
                i += 1
            elif ch == "[":
                cls, i = _parse_class(pattern, i)
                out.append(cls.regex())
            elif ch == "\\":
                out.append(re.escape(pattern[i + 1]))
                i += 2
            else:
                out.append(re.escape(ch))
                i += 1
        return re.compile("".join(out))
    except (_BadPattern, re.error):
        raise ContextError(f"invalid wildcard {pattern!r}: syntax error in pattern") from None


@attrs.frozen
class Pattern:
    """One cleaned pattern line: its text (without `!`), whether it is an exception, and how it
    matches. `kind` is upstream's fast path: `exact`, `prefix` (`dir/**`), `suffix` (`**/x`,
    `**x`) or `regexp`; `go_regexp` is the expression upstream would build (for introspection)."""

    text: str
    exclusion: bool
    kind: str
    go_regexp: str | None = attrs.field(default=None, eq=False)
    _regex: re.Pattern[str] | None = attrs.field(default=None, eq=False, repr=False, alias="regex")

    @classmethod
    def compile(cls, text: str, exclusion: bool = False) -> Pattern:
        """Translate an already cleaned pattern; ContextError if it is malformed."""
        try:
            validate_glob(text)
            kind, python, go = _translate(text)
            regex = re.compile(python) if kind == _REGEXP else None
        except (_BadPattern, re.error):
            shown = ("!" if exclusion else "") + text
            raise ContextError(
                f"invalid ignore pattern {shown!r}: syntax error in pattern",
                hint="check the brackets and backslashes of this .dockerignore / --exclude line",
            ) from None
        return cls(text, exclusion, kind, go if kind == _REGEXP else None, regex)

    @property
    def depth(self) -> int:
        """Number of path components (the deprecated `Matches` compares parents at this depth)."""
        return self.text.count("/") + 1

    def prefix_text(self) -> str:
        """The pattern without a trailing `/**` or `/*`: what a directory must be a prefix of for
        the pattern to possibly match something inside it (fsutil's walk pruning)."""
        text = self.text
        if text.endswith("/**"):
            text = text[:-3]
        if text.endswith("/*"):
            text = text[:-2]
        return text

    def match(self, path: str) -> bool:
        """Does this pattern match exactly `path` (no parent-directory rule here)?"""
        kind = self.kind
        if kind == _EXACT:
            return path == self.text
        if kind == _PREFIX:
            return path.startswith(self.text[:-2])
        if kind == _SUFFIX:
            suffix = self.text[2:]
            if suffix.startswith("/") and path == suffix[1:]:
                return True
            return path.endswith(suffix)
        assert self._regex is not None
        return self._regex.fullmatch(path) is not None

    def __str__(self) -> str:
        return ("!" if self.exclusion else "") + self.text


def _translate(text: str) -> tuple[str, str, str]:
    """(kind, python regex, Go regex) for a cleaned pattern, following upstream's scanner.

    The kind bookkeeping mirrors upstream exactly because it changes meaning: a leading `**`
    makes a suffix match (plain string suffix, not component-aligned) unless a later wildcard
    turns the whole pattern into a regexp.
    """
    kind = _EXACT
    py: list[str] = []
    go: list[str] = []
    i = 0
    token = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "*":
            if i + 1 < n and text[i + 1] == "*":
                i += 2
                if i < n and text[i] == "/":
                    i += 1
                if i >= n:
                    if kind == _EXACT:
                        kind = _PREFIX
                    else:
                        py.append(".*")
                        go.append(".*")
                        kind = _REGEXP
                else:
                    py.append("(?:.*/)?")
                    go.append("(.*/)?")
                    kind = _REGEXP
                if token == 0:
                    kind = _SUFFIX
            else:
                py.append("[^/]*")
                go.append("[^/]*")
                kind = _REGEXP
                i += 1
        elif ch == "?":
            py.append("[^/]")
            go.append("[^/]")
            kind = _REGEXP
            i += 1
        elif ch == "\\":
            # validate_glob guarantees a following character.
            py.append(re.escape(text[i + 1]))
            go.append("\\" + text[i + 1])
            kind = _REGEXP
            i += 2
        elif ch == "[":
            cls, i = _parse_class(text, i)
            py.append(cls.regex())
            go.append(cls.raw)
            kind = _REGEXP
        elif ch == "]":
            py.append(re.escape(ch))
            go.append(ch)
            kind = _REGEXP
            i += 1
        else:
            py.append(re.escape(ch))
            go.append("\\" + ch if ch in ".+()|{}$" else ch)
            i += 1
        token += 1
    return kind, "".join(py), "^" + "".join(go) + "$"


@attrs.frozen
class PatternMatcher:
    """An ordered list of patterns where the last matching one decides (moby's PatternMatcher).

    Build it with `PatternMatcher.from_patterns` (= upstream `New`): lines are trimmed, empty ones
    dropped, cleaned like paths, and `!` marks an exception; a lone `!` is an error.
    """

    patterns: tuple[Pattern, ...] = ()

    @classmethod
    def from_patterns(cls, lines: Iterable[str]) -> PatternMatcher:
        compiled: list[Pattern] = []
        for line in lines:
            text = line.strip()
            if not text:
                continue
            text = clean_path(text)
            exclusion = False
            if text.startswith("!"):
                if len(text) == 1:
                    raise ContextError(
                        'illegal exclusion pattern: "!"',
                        hint="an exception line needs a path after the `!`",
                    )
                exclusion = True
                text = text[1:]
            compiled.append(Pattern.compile(text, exclusion))
        return cls(tuple(compiled))

    @property
    def exclusions(self) -> bool:
        """Whether any pattern is an exception (`!`): only then can an excluded dir hold kept files."""
        return any(p.exclusion for p in self.patterns)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def __len__(self) -> int:
        return len(self.patterns)

    def matches_or_parent(self, path: str) -> bool:
        """Current upstream semantics: does the last deciding pattern match `path` or any of its
        ancestor directories? `path` is relative to the context root, `/`-separated."""
        matched = False
        parent = parent_dir(path)
        parents = _ancestors(parent) if parent != "." else ()
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            hit = pattern.match(path)
            if not hit:
                hit = any(pattern.match(p) for p in parents)
            if hit:
                matched = not pattern.exclusion
        return matched

    def matches_with_parent(self, path: str, parent: MatchInfo = ()) -> tuple[bool, MatchInfo]:
        """Upstream `MatchesUsingParentResults`: like `matches_or_parent`, but reuses the parent
        directory's per-pattern results instead of re-matching every ancestor, so a walker pays
        one match per pattern per entry. Pass `()` when the parent's results are unknown."""
        patterns = self.patterns
        if parent and len(parent) != len(patterns):
            raise ValueError("parent match info does not belong to this matcher")
        matched = False
        info: list[bool] = []
        parents: tuple[str, ...] | None = None
        for index, pattern in enumerate(patterns):
            hit = bool(parent) and parent[index]
            if not hit:
                if pattern.exclusion != matched:
                    info.append(False)
                    continue
                hit = pattern.match(path)
                if not hit and not parent:
                    if parents is None:
                        up = parent_dir(path)
                        parents = _ancestors(up) if up != "." else ()
                    hit = any(pattern.match(p) for p in parents)
            info.append(hit)
            if hit:
                matched = not pattern.exclusion
        return matched, tuple(info)

    def matches_in_walk(self, path: str) -> bool:
        """The verdict a walker reaches for `path`: `matches_with_parent` fed every ancestor first.

        Upstream's two APIs disagree when exceptions interleave (`a/b/c`, `!**/b` on `a/b/c`:
        the ancestor rule re-includes it, the walk does not), and BuildKit's context transfer
        walks, so anything that must agree with `walk()` asks this.
        """
        info: MatchInfo = ()
        up = parent_dir(path)
        if up != ".":
            for ancestor in _ancestors(up):
                _, info = self.matches_with_parent(ancestor, info)
        return self.matches_with_parent(path, info)[0]

    def matches_with_parent_flag(self, path: str, parent_matched: bool) -> bool:
        """Upstream's older `MatchesUsingParentResult`: only the parent's final verdict is known."""
        matched = parent_matched
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            if pattern.match(path):
                matched = not pattern.exclusion
        return matched

    def matches_legacy(self, path: str) -> bool:
        """Upstream's deprecated package-level `Matches`: path cleaned, `.` never matches, and a
        parent is only tried at the depth equal to the pattern's number of components."""
        path = clean_path(path)
        if path == ".":
            return False
        matched = False
        parent = parent_dir(path)
        parent_parts = parent.split("/")
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            hit = pattern.match(path)
            if not hit and parent != "." and pattern.depth <= len(parent_parts):
                hit = pattern.match("/".join(parent_parts[: pattern.depth]))
            if hit:
                matched = not pattern.exclusion
        return matched

    def may_include_below(self, directory: str) -> bool:
        """Could an exception pattern re-include something under excluded `directory`?

        fsutil's pruning rule: only exceptions without wildcards (after dropping a trailing `/**`
        or `/*`) can be checked by prefix; any wildcard exception forces a descent.
        """
        if not self.exclusions:
            return False
        slash = directory + "/"
        for pattern in self.patterns:
            if not pattern.exclusion:
                continue
            prefix = pattern.prefix_text()
            if _has_pattern_chars(prefix) or (prefix + "/").startswith(slash):
                return True
        return False

    def may_match_below(self, directory: str) -> bool:
        """Could an inclusion pattern match something under `directory` (include-walk pruning)?"""
        slash = directory + "/"
        for pattern in self.patterns:
            if pattern.exclusion:
                continue
            prefix = pattern.prefix_text()
            if _has_pattern_chars(prefix) or (prefix + "/").startswith(slash):
                return True
        return False


def _has_pattern_chars(text: str) -> bool:
    return any(ch in "*[]?^\\" for ch in text)


def _ancestors(parent: str) -> tuple[str, ...]:
    """`a/b/c` -> (`a`, `a/b`, `a/b/c`), splitting as upstream does (no cleaning)."""
    parts = parent.split("/")
    return tuple("/".join(parts[: i + 1]) for i in range(len(parts)))


def parse_ignore_text(data: str | bytes) -> tuple[str, ...]:
    """Read a `.dockerignore` file's text into pattern lines (upstream `ignorefile.ReadAll`).

    A UTF-8 BOM is dropped, lines beginning with `#` (before trimming) are comments, lines are
    trimmed and empty ones dropped, `!` keeps its meaning with the rest trimmed, paths are
    cleaned and a leading `/` removed: patterns are always relative to the context root.
    """
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="surrogateescape")
    if data.startswith("\ufeff"):
        data = data[1:]
    lines: list[str] = []
    for raw in _split_lines(data):
        if raw.startswith("#"):
            continue
        text = raw.strip()
        if not text:
            continue
        invert = text.startswith("!")
        if invert:
            text = text[1:].strip()
        if text:
            text = clean_path(text)
            if len(text) > 1 and text.startswith("/"):
                text = text[1:]
        lines.append("!" + text if invert else text)
    return tuple(lines)


def _split_lines(data: str) -> Sequence[str]:
    """Go's bufio.ScanLines: split on `\\n`, drop one trailing `\\r` per line."""
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]
