"""BuildKit's word splitter, shared by the shell-word expander and the heredoc finder.

Both lexers feed it text piece by piece: `add_char` for text that splits at unquoted blanks (Go's
`unicode.IsSpace`, not Python's `str.isspace`), `add_raw` for quoted or escaped text that never
splits. Keeping it one class keeps the two lexers' idea of a word the same.
"""

from __future__ import annotations

from pybuildkit.syntax.gostr import GO_SPACE

__all__ = ["WordSplitter"]


class WordSplitter:
    """Collects words, splitting at unquoted blanks; empty words are dropped."""

    __slots__ = ("word", "words", "in_word")

    def __init__(self) -> None:
        self.word = ""
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if ch in GO_SPACE:
            if self.in_word and self.word:
                self.words.append(self.word)
                self.word = ""
                self.in_word = False
        else:
            self.add_raw(ch)

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def add_raw(self, text: str) -> None:
        self.word += text
        self.in_word = True

    def finish(self) -> list[str]:
        if self.word:
            self.words.append(self.word)
            self.word = ""
            self.in_word = False
        return self.words
