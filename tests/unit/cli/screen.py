"""A tiny terminal for tests: replays what a progress renderer wrote and gives the screen text.

Stripping escapes from the raw stream would keep every redrawn frame; a user sees only the last
one. This understands exactly what the tty renderer may emit (CR, LF, cursor up, clear line,
clear to end of screen, colours) and fails on anything else, so a new escape cannot slip past.
"""

from __future__ import annotations

import re

__all__ = ["Screen", "render_screen"]

_ESCAPE = re.compile(r"\x1b\[([0-9;]*)([A-Za-z])")


class Screen:
    """Lines of text with a cursor; the scrollback is kept (it is all the "screen" a test needs)."""

    def __init__(self) -> None:
        self.lines: list[str] = [""]
        self.row = 0
        self.col = 0

    def _put(self, text: str) -> None:
        line = self.lines[self.row]
        if len(line) < self.col:
            line += " " * (self.col - len(line))
        self.lines[self.row] = line[: self.col] + text + line[self.col + len(text) :]
        self.col += len(text)

    def feed(self, data: str) -> None:
        pos = 0
        while pos < len(data):
            char = data[pos]
            if char == "\x1b":
                match = _ESCAPE.match(data, pos)
                if match is None:
                    raise AssertionError(f"unexpected escape sequence {data[pos:pos + 8]!r}")
                self._control(match.group(1), match.group(2))
                pos = match.end()
                continue
            if char == "\r":
                self.col = 0
            elif char == "\n":
                self.row += 1
                self.col = 0
                if self.row == len(self.lines):
                    self.lines.append("")
            else:
                self._put(char)
            pos += 1

    def _control(self, params: str, command: str) -> None:
        count = int(params) if params.isdigit() else 0
        if command == "m":
            return
        if command == "A":
            self.row = max(self.row - max(count, 1), 0)
        elif command == "K" and count == 2:
            self.lines[self.row] = ""
        elif command == "J" and count == 0:
            self.lines[self.row] = self.lines[self.row][: self.col]
            del self.lines[self.row + 1 :]
        else:
            raise AssertionError(f"unexpected control sequence ESC[{params}{command}")

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.lines).rstrip("\n")


def render_screen(data: str) -> str:
    """The text a terminal shows after `data` was written to it (CRLF as a pty gives it is fine)."""
    screen = Screen()
    screen.feed(data)
    return screen.text()
