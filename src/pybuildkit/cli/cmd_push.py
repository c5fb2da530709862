"""`pybuild push REF [DEST]`: send an image from the store to a registry (progress on stderr)."""

from __future__ import annotations

import argparse
import sys

from pybuildkit.cli.cmd_pull import add_registry_options

__all__ = ["register"]


def _size(text: str) -> int:
    """`8M`, `512k`, `1048576`: a byte count for the chunking options."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    raw = text.strip().lower().removesuffix("ib").removesuffix("b")
    factor = units.get(raw[-1:], 1)
    number = raw[:-1] if raw[-1:] in units else raw
    try:
        value = int(number) * factor
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"size must be positive: {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("push", help="push an image from the store to a registry")
    parser.add_argument("ref", metavar="REF", help="image in the store (tag or digest)")
    parser.add_argument("dest", nargs="?", metavar="DEST", help="where to push: HOST[:PORT]/REPO[:TAG] (default: REF)")
    parser.add_argument("--chunk-threshold", type=_size, metavar="SIZE", help="upload blobs larger than this in chunks (default 8M)")
    parser.add_argument("--chunk-size", type=_size, metavar="SIZE", help="size of one uploaded chunk (default 8M)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the manifest digest")
    add_registry_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pybuildkit.registry import DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_THRESHOLD, push
    from pybuildkit.registry.progress import ProgressLines
    from pybuildkit.store import Store

    progress = None if args.quiet else ProgressLines(lambda line: print(line, file=sys.stderr, flush=True))
    with Store() as store:
        digest = push(
            store,
            args.ref,
            args.dest,
            insecure_registries=tuple(args.insecure_registry),
            progress=progress,
            chunk_threshold=args.chunk_threshold or DEFAULT_CHUNK_THRESHOLD,
            chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE,
        )
    print(digest if args.quiet else f"Digest: {digest}")
    return 0
