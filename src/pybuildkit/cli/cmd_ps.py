"""`pybuild ps`: list containers (running ones, or all with -a), Docker's columns."""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime

__all__ = ["register", "status_text", "human_duration"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("ps", help="list containers")
    parser.add_argument("-a", "--all", action="store_true", help="show all containers, not only running ones")
    parser.add_argument("-q", "--quiet", action="store_true", help="only show container ids")
    parser.add_argument("--no-trunc", action="store_true", help="do not truncate ids and commands")
    parser.add_argument("--json", action="store_true", help="print JSON, one object per container")
    parser.set_defaults(func=run)


def human_duration(seconds: float) -> str:
    """Docker's (go-units) HumanDuration: `3 seconds`, `About a minute`, `2 hours`, `3 days`."""
    seconds = int(seconds)
    if seconds < 1:
        return "Less than a second"
    if seconds == 1:
        return "1 second"
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = round(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(seconds / 3600)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{hours // 24 // 365} years"


def _ago(stamp: str, now: float) -> str:
    try:
        seconds = max(0.0, now - datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return ""
    return human_duration(seconds)


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
