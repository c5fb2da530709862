"""Bytes to AST: parser directives, line joining, heredocs, the Lark grammar, shell-word expansion.

No I/O happens here: callers hand in the text. Importing this package is cheap; Lark is imported
and the grammar compiled on the first `parse`.
"""

from __future__ import annotations

from pybuildkit.syntax.ast import Directives, Document, Heredoc, Node, Warning_
from pybuildkit.syntax.dump import dump, dump_node
from pybuildkit.syntax.parser import parse

__all__ = [
    "parse",
    "dump",
    "dump_node",
    "Document",
    "Node",
    "Heredoc",
    "Directives",
    "Warning_",
]
