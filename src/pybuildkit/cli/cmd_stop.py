"""`pybuild stop`: the image's STOPSIGNAL (else SIGTERM), then SIGKILL after a grace period."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("stop", help="stop running containers")
    parser.add_argument("-t", "--time", type=float, default=10.0, metavar="SECS", help="seconds to wait before SIGKILL (default 10)")
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pybuildkit.cli.cmd_run import runtime

    rt = runtime()
    for ref in args.containers:
        rt.stop(rt.get(ref), timeout=max(0.0, args.time))
        print(ref)
    return 0
