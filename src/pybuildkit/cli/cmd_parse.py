"""`pybuild parse [--dump] PATH`: show how a Dockerfile is read, without building anything.

The readable view groups instructions into stages (a stage runs from one FROM to the next) with
their line numbers, so a user can see what a continuation or heredoc really joined. `--dump`
prints BuildKit's AST dump format instead, which is what the conformance corpus compares.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from pybuildkit.syntax.ast import Document

__all__ = ["register", "run", "render_document"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "parse",
        help="parse a Dockerfile and show its stages and instructions",
        description="Parse a Dockerfile and show its stages and instructions (nothing is built).",
    )
    parser.add_argument(
        "path", metavar="PATH", help="the Dockerfile to read (a directory means DIR/Dockerfile), or - for stdin"
    )
    parser.add_argument(
        "--dump", action="store_true", help="print BuildKit's AST dump format instead"
    )
    parser.set_defaults(func=run)


def _printable(text: str) -> str:
    """Text safe for any terminal: bytes that were not UTF-8 show as \\udcXX escapes."""
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _read(path: str) -> tuple[bytes, str]:
    from pybuildkit.errors import UsageError

    if path == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    if os.path.isdir(path):
        path = os.path.join(path, "Dockerfile")
    try:
        with open(path, "rb") as handle:
            return handle.read(), path
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def render_document(document: Document) -> str:
    """The readable view: directives, global instructions, then each stage with line numbers."""
    from pybuildkit.syntax.gostr import go_trim_space

    lines: list[str] = []
    directives = document.directives
    for name in ("syntax", "escape", "check"):
        value = getattr(directives, name)
        if value is not None and (name != "escape" or directives.escape_span is not None):
            lines.append(f"# {name}={_printable(value)}")
    width = len(str(document.nodes[-1].end_line)) if document.nodes else 1
    stage = -1
    for node in document.nodes:
        if node.keyword == "from":
            stage += 1
            args = node.args
            named = len(args) >= 3 and args[1].lower() == "as"
            title = f"stage {stage}" + (f" {_printable(args[2])!r}" if named else "")
            base = f" from {_printable(args[0])}" if args else ""
            lines.append(("" if not lines else "\n") + title + base)
        elif stage < 0 and not any(line == "global:" for line in lines):
            lines.append("global:")
        where = f"{node.start_line}" if node.end_line == node.start_line else f"{node.start_line}-{node.end_line}"
        lines.append(f"  {where:>{width * 2 + 1}}  {_printable(go_trim_space(node.original))}")
        for heredoc in node.heredocs:
            count = heredoc.content.count("\n")
            lines.append(f"  {'':>{width * 2 + 1}}    <<{_printable(heredoc.name)} ({count} line{'s' if count != 1 else ''})")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from pybuildkit.syntax import dump, parse

    data, label = _read(args.path)
    document = parse(data, path=label)
    for warning in document.warnings:
        print(f"{label}:{warning.span.line}: warning: {_printable(warning.message)}", file=sys.stderr)
    if args.dump:
        sys.stdout.flush()
        sys.stdout.buffer.write(dump(document).encode("utf-8", "surrogateescape"))
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(render_document(document))
    return 0
