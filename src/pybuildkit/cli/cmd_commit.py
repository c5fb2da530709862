"""`pybuild commit`: a container's changes as a new image (one layer on top of its image)."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("commit", help="create an image from a container's changes")
    parser.add_argument("-m", "--message", default="", help="commit message (history comment)")
    parser.add_argument("-a", "--author", default="", help="author")
    parser.add_argument("container", metavar="CONTAINER")
    parser.add_argument("ref", nargs="?", metavar="REPOSITORY[:TAG]")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pybuildkit.cli.cmd_run import runtime
    from pybuildkit.containers import commit
    from pybuildkit.store import Store

    rt = runtime()
    container = rt.get(args.container)
    with Store(rt.root) as store:
        image = commit(store, container, args.ref, message=args.message, author=args.author)
    print(image.digest)
    return 0
