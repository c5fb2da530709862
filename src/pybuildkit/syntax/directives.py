"""Parser directives (`# syntax=`, `# escape=`, `# check=`) and the front-end syntax detector.

Directives are comments that mean something, so only the uninterrupted run of `#key=value` lines
at the very top counts: the first line that is anything else (a blank line, an instruction, a
comment that is not `key=value`, an unknown key) ends the scan for good. That is BuildKit's rule,
and a Dockerfile that relies on `# escape=` further down silently means something else, so the
rule is kept exactly.
"""

from __future__ import annotations

import json
import re

import attrs

from pybuildkit.errors import ParseError
from pybuildkit.syntax.gostr import go_trim_left_space

__all__ = [
    "KNOWN_DIRECTIVES",
    "ESCAPE_CHARACTERS",
    "Directive",
    "DirectiveScanner",
    "scan_directives",
    "detect_syntax",
    "parse_directive",
]

KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
ESCAPE_CHARACTERS = ("\\", "`")

# Go's `\s` is ASCII [\t\n\f\r ] (no \v); `.` stops at \n.
_DIRECTIVE = re.compile(r"([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z")
_BOM = "\ufeff"


@attrs.frozen
class Directive:
    """One recognised directive: lower-cased name, value as written, 1-based line."""

    name: str
    value: str
    line: int


@attrs.define
class DirectiveScanner:
    """Feeds on the file's lines in order and recognises directives until the first non-directive."""

    comment: str = "#"
    done: bool = False
    _seen: set[str] = attrs.field(factory=set)

    def feed(self, line: str, line_number: int) -> Directive | None:
        """The directive `line` holds, None if it holds none; raises ParseError on a repeat."""
        if self.done:
            return None
        if not line.startswith(self.comment):
            self.done = True
            return None
        match = _DIRECTIVE.match(go_trim_left_space(line[len(self.comment) :]))
        if match is None or match.group(1).lower() not in KNOWN_DIRECTIVES:
            self.done = True
            return None
        name = match.group(1).lower()
        if name in self._seen:
            raise ParseError(f"only one {name} parser directive can be used")
        self._seen.add(name)
        return Directive(name=name, value=match.group(2), line=line_number)


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def scan_directives(text: str, *, comment: str = "#", first_line: int = 1) -> list[Directive]:
    """Every directive at the top of `text` (no escape validation; see `parse`)."""
    scanner = DirectiveScanner(comment=comment)
    found = []
    for number, line in enumerate(_lines(text), start=first_line):
        if scanner.done:
            break
        directive = scanner.feed(line.rstrip("\r\n"), number)
        if directive is not None:
            found.append(directive)
    return found


def _split_shebang(text: str) -> tuple[str, int]:
    first, newline, rest = text.partition("\n")
    if first.startswith("#!"):
        return rest, 1
    return text, 0


def parse_directive(key: str, text: str, *, any_format: bool = False) -> Directive | None:
    """Find directive `key` as BuildKit's front-end selector does (a `#!` first line is skipped).

    With `any_format`, `// key=value` lines and a whole-file JSON object `{"key": "..."}` count
    too: that is how `syntax` is detected before any Dockerfile parsing happens.
    """
    text = text.removeprefix(_BOM)
    body, skipped = _split_shebang(text)
    for directive in scan_directives(body, first_line=skipped + 1):
        if directive.name == key:
            return directive
    if not any_format:
        return None
    for directive in scan_directives(body, comment="//", first_line=skipped + 1):
        if directive.name == key:
            return directive
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if isinstance(document, dict) and isinstance(document.get(key), str):
        return Directive(name=key, value=document[key], line=skipped)
    return None


def detect_syntax(text: str) -> Directive | None:
    """The `syntax` directive (front-end image reference and options), in any supported format."""
    return parse_directive("syntax", text, any_format=True)
