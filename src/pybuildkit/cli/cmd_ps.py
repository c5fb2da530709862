"""`pybuild ps`: list containers (running ones, or all with -a), Docker's columns."""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime

__all__ = ["register", "status_text"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("ps", help="list containers")
    parser.add_argument("-a", "--all", action="store_true", help="show all containers, not only running ones")
    parser.add_argument("-q", "--quiet", action="store_true", help="only show container ids")
    parser.add_argument("--no-trunc", action="store_true", help="do not truncate ids and commands")
    parser.add_argument("--json", action="store_true", help="print JSON, one object per container")
    parser.set_defaults(func=run)


def _ago(stamp: str, now: float) -> str:
    try:
        seconds = max(0, int(now - datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()))
    except ValueError:
        return ""
    for unit, length in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= length:
            return f"{seconds // length} {unit}"
    return f"{seconds} seconds"


def status_text(status: str, exit_code: int | None, started: str, finished: str, now: float | None = None) -> str:
    """`Up 3 seconds`, `Exited (0) 2 minutes ago`, `Created`, as Docker words it."""
    now = time.time() if now is None else now
    if status == "running":
        return f"Up {_ago(started, now)}"
    if status == "exited":
        return f"Exited ({exit_code}) {_ago(finished, now)} ago"
    return "Created"


def run(args: argparse.Namespace) -> int:
    from pybuildkit.cli.cmd_run import runtime

    containers = runtime().list(include_stopped=args.all)
    if args.json:
        for c in containers:
            print(json.dumps({"Id": c.id, "Names": c.name, "Image": c.config.image, "Command": list(c.config.argv), "State": c.state.status, "ExitCode": c.state.exit_code, "Pid": c.state.init_pid}, sort_keys=True))
        return 0
    if args.quiet:
        for c in containers:
            print(c.id if args.no_trunc else c.id[:12])
        return 0
    rows = [("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES")]
    now = time.time()
    for c in containers:
        command = " ".join(c.config.argv)
        if not args.no_trunc and len(command) > 20:
            command = command[:19] + "…"
        rows.append((
            c.id if args.no_trunc else c.id[:12],
            c.config.image,
            f'"{command}"',
            f"{_ago(c.config.created, now)} ago",
            status_text(c.state.status, c.state.exit_code, c.state.started_at, c.state.finished_at, now),
            c.name,
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        print("   ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "   " + row[5])
    return 0
