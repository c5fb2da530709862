"""`pybuild store check|gc|info`: maintenance of the local image store."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("store", help="check, garbage-collect or describe the image store")
    sub = parser.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="verify every blob's digest and every record's references")
    check.add_argument("--deep", action="store_true", help="also decompress every layer and check its diff_id")
    check.set_defaults(func=run_check)
    gc = sub.add_parser("gc", help="delete blobs no image or cache record needs")
    gc.add_argument("--grace", type=float, default=300.0, metavar="SECONDS", help="keep unreferenced blobs younger than this (default 300)")
    gc.set_defaults(func=run_gc)
    info = sub.add_parser("info", help="show where the store is and what it holds")
    info.set_defaults(func=run_info)


def run_check(args: argparse.Namespace) -> int:
    from pybuildkit.store import Store

    with Store() as store:
        report = store.check(deep=args.deep)
    for problem in report.problems:
        print(f"problem: {problem}")
    verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
    print(f"checked {report.blobs} blobs, {report.images} images, {report.tags} tags, {report.cache_records} cache records: {verdict}")
    return 0 if report.ok else 1


def run_gc(args: argparse.Namespace) -> int:
    from pybuildkit.store import Store

    with Store() as store:
        report = store.gc(grace_seconds=max(0.0, args.grace))
    print(f"removed {len(report.removed_blobs)} blobs ({report.freed_bytes} bytes), kept {report.kept_blobs}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from pybuildkit.store import SCHEMA_VERSION, Store

    with Store() as store:
        images = store.images()
        print(f"root: {store.root}")
        print(f"schema version: {SCHEMA_VERSION}")
        print(f"images: {len(images)}  tags: {len(store.tags())}  cache records: {len(store.cache_keys())}")
    return 0
