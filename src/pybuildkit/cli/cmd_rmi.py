"""`pybuild rmi REF...`: remove tags and images; `--prune` also frees the blobs left unreferenced."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("rmi", help="remove images from the store")
    parser.add_argument("refs", nargs="+", metavar="REF", help="tag, digest or digest prefix")
    parser.add_argument("-f", "--force", action="store_true", help="remove an image even if several tags name it")
    parser.add_argument("--prune", action="store_true", help="collect unreferenced blobs afterwards (store gc)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pybuildkit.errors import PybuildkitError
    from pybuildkit.oci.reference import parse_reference
    from pybuildkit.store import Store

    status = 0
    with Store() as store:
        for ref in args.refs:
            try:
                result = store.remove_image(ref, force=args.force)
            except PybuildkitError as exc:
                # Like docker rmi: report each failure, carry on with the others, exit non-zero.
                print(exc.render(), file=__import__("sys").stderr)
                status = exc.exit_code
                continue
            for name in result.untagged:
                print(f"Untagged: {parse_reference(name).familiar()}")
            for digest in result.deleted:
                print(f"Deleted: {digest}")
        if args.prune:
            report = store.gc(grace_seconds=0)
            print(f"Freed {len(report.removed_blobs)} blobs ({report.freed_bytes} bytes)")
    return status
