"""The AST in BuildKit's dump format, one `(keyword ["flags"] "args"...)` line per instruction.

It is the format of the conformance corpus's `result` files, so comparing dumps byte for byte is
how the parser is checked against BuildKit. Values are quoted the way Go's `strconv.Quote` does.
"""

from __future__ import annotations

from pybuildkit.syntax.ast import Document, Node
from pybuildkit.syntax.gostr import go_quote, go_trim_space

__all__ = ["dump", "dump_node"]


def dump_node(node: Node) -> str:
    """One instruction without the surrounding parentheses: `run ["--network=none"] "make"`."""
    parts = [node.keyword]
    if node.flags:
        parts.append("[" + " ".join(go_quote(flag) for flag in node.flags) + "]")
    if node.child is not None:
        parts.append("(" + dump_node(node.child) + ")")
    parts.extend(go_quote(arg) for arg in node.args)
    return go_trim_space(" ".join(parts))


def dump(document: Document) -> str:
    """The whole document, each instruction on its own line, ending with one newline.

    Keywords are printed as written (lower-cased), so bytes of the input that were not UTF-8 stay
    surrogate escapes: encode with ``surrogateescape`` to get BuildKit's exact bytes.
    """
    return "".join(f"({dump_node(node)})\n" for node in document.nodes)
