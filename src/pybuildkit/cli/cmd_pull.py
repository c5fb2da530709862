"""`pybuild pull REF`: fetch an image from a registry into the store (progress on stderr)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register", "add_registry_options"]


def add_registry_options(parser: argparse.ArgumentParser) -> None:
    """Options every registry command shares (push and login import this)."""
    parser.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST",
        help="speak plain HTTP to HOST[:PORT] (loopback registries always are); repeatable,"
        " also from $PYBUILDKIT_INSECURE_REGISTRIES",
    )


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("pull", help="pull an image from a registry into the store")
    parser.add_argument("ref", metavar="REF", help="image reference: [HOST[:PORT]/]REPO[:TAG|@DIGEST]")
    parser.add_argument("--platform", metavar="OS/ARCH[/VARIANT]", help="platform to pick from an index (default linux/amd64)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the image digest")
    add_registry_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pybuildkit.oci.reference import parse_reference
    from pybuildkit.registry import pull
    from pybuildkit.registry.progress import ProgressLines
    from pybuildkit.store import Store

    progress = None if args.quiet else ProgressLines(lambda line: print(line, file=sys.stderr, flush=True))
    with Store() as store:
        image = pull(
            store,
            args.ref,
            platform=args.platform,
            insecure_registries=tuple(args.insecure_registry),
            progress=progress,
        )
    if args.quiet:
        print(image.digest)
    else:
        print(f"Digest: {image.digest}")
        for tag in image.tags:
            print(f"Pulled: {parse_reference(tag).familiar()}")
    return 0
