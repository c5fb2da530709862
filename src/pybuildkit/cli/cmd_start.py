"""`pybuild start`: start a created or exited container again (its writable layer is kept)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("start", help="start a stopped container")
    parser.add_argument("-a", "--attach", action="store_true", help="attach to its output and return its exit status")
    parser.add_argument("-i", "--interactive", action="store_true", help="attach stdin (when created with -i)")
    parser.add_argument("container", metavar="CONTAINER")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pybuildkit.cli.cmd_run import runtime, warn

    rt = runtime()
    container = rt.get(args.container)
    if args.attach:
        return rt.run_attached(container, stdin=0 if args.interactive else None, stdout=sys.stdout.fileno(), warn=warn)
    rt.start_detached(container, warn=warn)
    print(args.container)
    return 0
