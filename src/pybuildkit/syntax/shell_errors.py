"""Errors of shell-word expansion (`${v:?msg}`, bad substitutions, bad patterns).

They live in their own module so that both the lexer (`shell`) and the pattern helpers
(`shell_pattern`) can raise them without importing each other. Both derive from
:class:`pybuildkit.errors.ParseError`: a word that cannot be expanded is a Dockerfile error, and the
instruction layer attaches the span on the way out (`with_location`).
"""

from __future__ import annotations

import json

from pybuildkit.errors import ParseError

__all__ = ["ShellExpansionError", "RequiredVariableError"]


class ShellExpansionError(ParseError):
    """A word cannot be expanded: bad `${...}` syntax, an unterminated quote, an invalid pattern.

    `reason` is the bare cause (BuildKit's wording where it has one); `word` is the whole input
    word once known, and the message then reads like BuildKit's: `failed to process "WORD": reason`.
    """

    def __init__(self, reason: str, *, word: str | None = None) -> None:
        message = reason if word is None else f"failed to process {json.dumps(word, ensure_ascii=False)}: {reason}"
        super().__init__(message)
        self.reason = reason
        self.word = word

    def in_word(self, word: str) -> ShellExpansionError:
        """The same error, re-raised for the whole input word (keeps the subclass and its fields)."""
        clone = self.__class__.__new__(self.__class__)
        clone.__dict__.update(self.__dict__)
        ShellExpansionError.__init__(clone, self.reason, word=word)
        return clone


class RequiredVariableError(ShellExpansionError):
    """`${name?msg}` met an unset variable, or `${name:?msg}` an unset or empty one.

    Not a syntax error: the Dockerfile author asked for the build to stop, so `name` and the
    author's `detail` (already expanded) are kept for whoever renders or lints it.
    """

    def __init__(self, name: str, detail: str, *, word: str | None = None) -> None:
        self.name = name
        self.detail = detail
        super().__init__(f"{name}: {detail}", word=word)
