"""`pybuild exec`: run a command inside a running container (its namespaces, root and user)."""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("exec", help="run a command in a running container")
    parser.add_argument("-i", "--interactive", action="store_true", help="connect stdin")
    parser.add_argument("-t", "--tty", action="store_true", help="give the command a pseudo-terminal")
    parser.add_argument("-e", "--env", action="append", default=[], metavar="K=V", help="extra environment variables")
    parser.add_argument("-u", "--user", default=None, help="user[:group] (default: the container's)")
    parser.add_argument("-w", "--workdir", default=None, help="working directory (default: the container's)")
    parser.add_argument("container", metavar="CONTAINER")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="CMD")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pybuildkit.cli.cmd_run import runtime
    from pybuildkit.containers import ExecRequest, exec_in, merge_env, parse_env_arg
    from pybuildkit.errors import UsageError
    from pybuildkit.sandbox import lookup_user

    if not args.command:
        raise UsageError("exec needs a command to run")
    rt = runtime()
    container = rt.get(args.container)
    if container.state.status != "running":
        raise UsageError(f"container {container.name} is not running")
    user = lookup_user(container.merged, args.user if args.user is not None else (container.config.user or "0"))
    extra: list[str] = []
    for item in args.env:
        extra += parse_env_arg(item, os.environ)
    env = merge_env([f"HOSTNAME={container.config.hostname}"], container.config.env, extra)
    pairs = [tuple(item.partition("=")[::2]) for item in env]
    if not any(k == "HOME" for k, _ in pairs):
        pairs.append(("HOME", user.home or "/"))
    if args.tty and not any(k == "TERM" for k, _ in pairs):
        pairs.append(("TERM", "xterm"))
    request = ExecRequest(
        argv=tuple(args.command),
        env=pairs,
        cwd=args.workdir or container.config.cwd,
        uid=user.uid,
        gid=user.gid,
        groups=user.groups,
        tty=args.tty,
        interactive=args.interactive,
    )
    sys.stdout.flush()
    return exec_in(container, request, stdin=0, stdout=sys.stdout.fileno())
