"""`pybuild logs`: what a container has written (stdout and stderr, as one stream)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("logs", help="show a container's output")
    parser.add_argument("-f", "--follow", action="store_true", help="keep following until the container stops")
    parser.add_argument("container", metavar="CONTAINER")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pybuildkit.cli.cmd_run import runtime

    rt = runtime()
    sys.stdout.flush()
    rt.logs(rt.get(args.container), sys.stdout.fileno(), follow=args.follow)
    return 0
