"""`pybuild kill`: send a signal (default SIGKILL) to a running container's process."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("kill", help="send a signal to running containers")
    parser.add_argument("-s", "--signal", default="SIGKILL", help="signal name or number (default SIGKILL)")
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pybuildkit.cli.cmd_run import runtime
    from pybuildkit.containers import parse_signal

    signum = parse_signal(args.signal)
    rt = runtime()
    for ref in args.containers:
        rt.kill(rt.get(ref), signum)
        print(ref)
    return 0
