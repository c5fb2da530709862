"""`pybuild tag SRC DST`: give an image in the store another name."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("tag", help="tag an image in the store")
    parser.add_argument("source", metavar="SRC", help="image to tag (tag, digest or digest prefix)")
    parser.add_argument("target", metavar="DST", help="new name[:tag]")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pybuildkit.store import Store

    with Store() as store:
        store.tag(args.source, args.target)
    return 0
