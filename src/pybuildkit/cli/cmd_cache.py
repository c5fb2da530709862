"""`pybuild cache du|prune|export|import`: look at, trim and move the build cache."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("cache", help="show, prune, export or import the build cache")
    sub = parser.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    du = sub.add_parser("du", help="disk usage of cache records, cache mounts and snapshots")
    du.add_argument("--bytes", action="store_true", help="print exact byte counts")
    du.set_defaults(func=run_du)
    prune = sub.add_parser("prune", help="drop least-recently-used cache records, then unneeded blobs and snapshots")
    prune.add_argument("-a", "--all", action="store_true", help="drop every cache record and cache mount")
    prune.add_argument("--keep-storage", metavar="SIZE", help="drop least-recently-used records until the cache fits SIZE (e.g. 10GB)")
    prune.add_argument("--filter", action="append", metavar="until=DURATION", help="only records not used for DURATION (e.g. 24h)")
    prune.add_argument("-f", "--force", action="store_true", help="accepted for Docker compatibility (never prompts)")
    prune.set_defaults(func=run_prune)
    export = sub.add_parser("export", help="write every cache record (and, with cache-mounts=true, cache mount) to a local dir or a registry")
    export.add_argument("spec", metavar="type=local,dest=DIR|type=registry,ref=REF")
    export.set_defaults(func=run_export)
    imp = sub.add_parser("import", help="copy cache records (and cache mounts) from a local dir or a registry")
    imp.add_argument("spec", metavar="type=local,src=DIR|type=registry,ref=REF")
    imp.set_defaults(func=run_import)


def run_du(args: argparse.Namespace) -> int:
    from pybuildkit.cache.maintenance import disk_usage
    from pybuildkit.store import Store

    with Store() as store:
        usage = disk_usage(store)
    size = (lambda n: str(n)) if args.bytes else _human
    print(f"{'KIND':<16}{'COUNT':>8}  SIZE")
    print(f"{'cache records':<16}{usage.records:>8}  {size(usage.record_bytes)}  (+{size(usage.shared_bytes)} shared with images)")
    print(f"{'cache mounts':<16}{usage.mounts:>8}  {size(usage.mount_bytes)}")
    print(f"{'snapshots':<16}{usage.snapshots:>8}  {size(usage.snapshot_bytes)}")
    print(f"{'total':<16}{'':>8}  {size(usage.total)}")
    return 0


def run_prune(args: argparse.Namespace) -> int:
    from pybuildkit.cache.maintenance import parse_duration, parse_size, prune
    from pybuildkit.errors import UsageError
    from pybuildkit.store import Store

    until = None
    for item in args.filter or ():
        key, sep, value = item.partition("=")
        if key.strip().lower() != "until" or not sep:
            raise UsageError(f"unsupported prune filter {item!r}", hint="use --filter until=DURATION, e.g. until=24h")
        until = parse_duration(value)
    keep = parse_size(args.keep_storage) if args.keep_storage else None
    with Store() as store:
        report = prune(store, all=args.all, keep_storage=keep, unused_for=until)
    print(
        f"removed {report.records_removed} cache records, {report.blobs_removed} blobs ({_human(report.bytes_freed)}),"
        f" {report.snapshots_removed} snapshots, {report.mounts_removed} cache mounts"
    )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from pybuildkit.cache.mountdirs import known_mount_ids
    from pybuildkit.cache.spec import parse_cache_spec
    from pybuildkit.cache.transfer import export_cache
    from pybuildkit.errors import UsageError
    from pybuildkit.store import Store

    spec = parse_cache_spec(args.spec, export=True)
    if spec.type == "inline":
        raise UsageError("type=inline travels inside an image: use it with `pybuild build --cache-to`")
    with Store() as store:
        report = export_cache(store, spec, [e.key for e in store.cache_entries()], known_mount_ids(store.root))
    print(
        f"exported {report.records} cache records, {report.mounts} cache mounts ({report.blobs_written} blobs written, {report.blobs_skipped} already there,"
        f" {report.blobs_removed} unreferenced removed) as {report.manifest}"
    )
    return 0


def run_import(args: argparse.Namespace) -> int:
    from pybuildkit.cache.spec import parse_cache_spec
    from pybuildkit.cache.transfer import import_cache
    from pybuildkit.errors import UsageError
    from pybuildkit.store import Store

    spec = parse_cache_spec(args.spec, export=False)
    if spec.type == "inline":
        raise UsageError("type=inline has nothing to import on its own: use --cache-from type=registry,ref=IMAGE")
    with Store() as store:
        report = import_cache(store, spec)
    for what in report.skipped:
        print(f"skipped {what}")
    print(
        f"imported {report.records} cache records ({report.already_present} already present, {report.blobs_copied} blobs copied,"
        f" {report.mounts_restored} cache mounts restored)"
    )
    return 0
