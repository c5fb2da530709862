"""The parsed shape of a Dockerfile, close to BuildKit's parser AST.

It is deliberately close to BuildKit's ``parser.Node`` so that the conformance corpus (which dumps
that AST) can be checked byte for byte and so the typed-instruction layer (``pybuildkit.model``)
can follow BuildKit's instruction rules on the same inputs.
"""

from __future__ import annotations

import attrs

from pybuildkit.errors import Span

__all__ = ["Heredoc", "Node", "Directives", "Warning_", "Document"]


@attrs.frozen
class Heredoc:
    """One here-document attached to an instruction (`<<EOF` ... `EOF`)."""

    name: str
    content: str
    expand: bool = True
    chomp: bool = False
    file_descriptor: int = 0


@attrs.frozen
class Node:
    """One instruction.

    `keyword` is lower-cased as BuildKit does; `args` are the values of BuildKit's ``Next`` chain
    (for ENV and LABEL: key, value, key, value...; for exec form: the JSON array's strings);
    `child` is the nested instruction of ONBUILD. `original` is the instruction's logical line
    after continuation joining, as BuildKit keeps it.
    """

    keyword: str
    args: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    json: bool = False
    heredocs: tuple[Heredoc, ...] = ()
    child: Node | None = None
    original: str = ""
    span: Span = Span(line=1)
    prev_comment: tuple[str, ...] = ()

    @property
    def start_line(self) -> int:
        return self.span.line

    @property
    def end_line(self) -> int:
        return self.span.end_line or self.span.line


@attrs.frozen
class Directives:
    """Parser directives found at the top of the file (`# syntax=`, `# escape=`, `# check=`)."""

    escape: str = "\\"
    syntax: str | None = None
    check: str | None = None
    escape_span: Span | None = None
    check_span: Span | None = None
    syntax_span: Span | None = None


@attrs.frozen
class Warning_:
    """A non-fatal finding of the parser (empty continuation line, ...)."""

    message: str
    span: Span
    rule: str = ""
    detail: str = ""
    url: str = ""


@attrs.frozen
class Document:
    """A whole parsed Dockerfile: its instructions, directives, warnings and its text (for excerpts)."""

    nodes: tuple[Node, ...]
    directives: Directives = Directives()
    warnings: tuple[Warning_, ...] = ()
    path: str = "Dockerfile"
    source: str = ""
