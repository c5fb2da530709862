"""`pybuild save -o FILE REF...`: write images from the store to an archive.

The default format is oci-archive, the lossless one: loading it back gives the same manifest
digest. `--format docker-archive` writes what `docker load` reads; `--format oci` an OCI layout
directory (merged into an existing layout).
"""

from __future__ import annotations

import argparse

__all__ = ["register", "FORMATS"]

FORMATS = ("oci-archive", "docker-archive", "oci")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("save", help="save images to an oci-archive, docker-archive or OCI layout")
    parser.add_argument("refs", nargs="+", metavar="REF", help="images to save")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="archive file (directory for --format oci)")
    parser.add_argument("--format", choices=FORMATS, default="oci-archive", help="archive format (default: oci-archive)")
    parser.add_argument("--tag", metavar="TAG", help="ref.name to record in an OCI index (default: the image's tag)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pybuildkit.errors import UsageError
    from pybuildkit.exporters import export_docker_archive, export_oci_archive, export_oci_layout
    from pybuildkit.store import Store

    output = Path(args.output)
    with Store() as store:
        if args.format == "docker-archive":
            export_docker_archive(store, args.refs, output)
            return 0
        if len(args.refs) != 1 and args.format == "oci-archive":
            raise UsageError("--format oci-archive takes exactly one image", hint="use --format oci to gather several in a layout")
        for ref in args.refs:
            if args.format == "oci-archive":
                export_oci_archive(store, ref, output, tag=args.tag)
            else:
                export_oci_layout(store, ref, output, tag=args.tag)
    return 0
