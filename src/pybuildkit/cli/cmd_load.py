"""`pybuild load -i FILE`: import a docker-archive or oci-archive tar into the store."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("load", help="load images from a docker-archive or oci-archive tar")
    parser.add_argument("-i", "--input", required=True, metavar="FILE", help="archive to read")
    parser.add_argument("--name", metavar="REPO", help="repository for OCI entries that carry only a bare tag")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pybuildkit.exporters import load_archive
    from pybuildkit.oci.reference import parse_reference
    from pybuildkit.store import Store

    with Store() as store:
        images = load_archive(store, args.input, name=args.name)
    if not args.quiet:
        for image in images:
            if image.tags:
                for tag in image.tags:
                    print(f"Loaded image: {parse_reference(tag).familiar()}")
            else:
                print(f"Loaded image ID: {image.digest}")
    return 0
