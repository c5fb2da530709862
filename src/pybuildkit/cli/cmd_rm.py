"""`pybuild rm`: remove containers and their writable layers (-v: their anonymous volumes too)."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("rm", help="remove containers")
    parser.add_argument("-f", "--force", action="store_true", help="kill a running container first")
    parser.add_argument("-v", "--volumes", action="store_true", help="also remove its anonymous volumes")
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pybuildkit.cli.cmd_run import runtime

    rt = runtime()
    for ref in args.containers:
        rt.remove(rt.get(ref), force=args.force, volumes=args.volumes)
        print(ref)
    return 0
