"""The `pybuild` command: argument parsing, error rendering and exit codes, nothing else.

Each subcommand lives in its own module `pybuildkit.cli.cmd_<name>` exposing
`register(subparsers) -> None`; the parser it adds sets `func(args) -> int`. Command modules import
their heavy dependencies inside `func`, so `pybuild --help` and `pybuild parse` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from pybuildkit.errors import PybuildkitError

__all__ = ["main", "COMMANDS"]

COMMANDS = (
    "build",
    "parse",
    "check",
    "images",
    "inspect",
    "tag",
    "rmi",
    "load",
    "save",
    "pull",
    "push",
    "login",
    "logout",
    "run",
    "ps",
    "start",
    "stop",
    "kill",
    "rm",
    "logs",
    "exec",
    "commit",
    "volume",
    "cache",
    "explain",
    "graph",
    "store",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pybuild",
        description="Build container images from Dockerfiles, without a daemon.",
    )
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    parser.add_argument("--root", metavar="DIR", help="image store root (default: $PYBUILDKIT_ROOT or ~/.local/share/pybuildkit)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"pybuildkit.cli.cmd_{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"pybuildkit.cli.cmd_{name}":
                continue
            raise
        module.register(sub)
    return parser


def _normalise(argv: list[str]) -> list[str]:
    """`pybuild [build options] CONTEXT` is short for `pybuild build [build options] CONTEXT`."""
    i = 0
    while i < len(argv) and argv[i] in ("--debug",):
        i += 1
    if i < len(argv) and argv[i] == "--root":
        i += 2
    elif i < len(argv) and argv[i].startswith("--root="):
        i += 1
    rest = argv[i:]
    if not rest or rest[0] in COMMANDS or rest[0] in ("-h", "--help", "--version"):
        return argv
    return argv[:i] + ["build"] + rest


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--version" in argv[:1]:
        from pybuildkit import __version__

        print(f"pybuild {__version__}")
        return 0
    parser = build_parser()
    args = parser.parse_args(_normalise(argv))
    if args.root:
        os.environ["PYBUILDKIT_ROOT"] = os.path.abspath(args.root)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except PybuildkitError as exc:
        if args.debug:
            raise
        print(exc.render(), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
