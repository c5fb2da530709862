"""`pybuild images`: list the images in the store, Docker-style."""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime

__all__ = ["register", "human_size", "human_age"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("images", help="list images in the store")
    parser.add_argument("-q", "--quiet", action="store_true", help="only show image digests")
    parser.add_argument("--digests", action="store_true", help="show full manifest digests")
    parser.add_argument("--json", action="store_true", help="print JSON, one object per image")
    parser.set_defaults(func=run)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.3g}{unit}"
        value /= 1000
    return f"{value:.3g}TB"  # pragma: no cover


def human_age(created: str | None, now: float | None = None) -> str:
    """`3 hours ago` from an RFC 3339 timestamp; `N/A` when absent or unreadable."""
    if not created:
        return "N/A"
    try:
        stamp = datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return "N/A"
    seconds = max(0, int((now if now is not None else time.time()) - stamp))
    for unit, length in (("year", 31536000), ("month", 2592000), ("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= length:
            count = seconds // length
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "Less than a minute ago"


def run(args: argparse.Namespace) -> int:
    from pybuildkit.oci.digest import short_id
    from pybuildkit.oci.reference import parse_reference
    from pybuildkit.store import Store

    with Store() as store:
        summaries = store.images()
    if args.json:
        for s in summaries:
            print(json.dumps({"Digest": s.digest, "ConfigDigest": s.config_digest, "Created": s.created, "Size": s.size, "RepoTags": [parse_reference(t).familiar() for t in s.tags]}, sort_keys=True))
        return 0
    if args.quiet:
        for s in summaries:
            print(s.digest if args.digests else short_id(s.config_digest))
        return 0
    rows = [("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE")]
    for s in summaries:
        ident = s.digest if args.digests else short_id(s.config_digest)
        names = [parse_reference(t) for t in s.tags] or [None]
        for ref in names:
            repo = ref.familiar_name() if ref else "<none>"
            tag = (ref.tag or "<none>") if ref else "<none>"
            rows.append((repo, tag, ident, human_age(s.created), human_size(s.size)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("   ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "   " + row[4])
    return 0
