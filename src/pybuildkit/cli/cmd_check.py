"""`pybuild check [-f Dockerfile] [CONTEXT] [--format text|json]`: run the build checks only.

The same as `pybuild build --call=check`: nothing is built, nothing is pulled, the store is not
touched; exit 1 only for a Dockerfile error or, under `# check=error=true`, for a warning.
"""

from __future__ import annotations

import argparse

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "check",
        help="check a Dockerfile against the build-check rules (nothing is built)",
        description="Check a Dockerfile against BuildKit's build-check rules and pybuildkit's cache rules.",
    )
    parser.add_argument("context", metavar="CONTEXT", nargs="?", default=".", help="the build context (default .), or a Dockerfile to check")
    parser.add_argument("-f", "--file", metavar="PATH", help="the Dockerfile (default: CONTEXT/Dockerfile; - reads stdin)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    parser.add_argument("--build-arg", action="append", metavar="KEY=VALUE", help="set a build-time variable (repeatable)")
    parser.add_argument("--target", metavar="STAGE", help="check only what this stage needs (default: every stage)")
    parser.add_argument("--platform", metavar="OS/ARCH", help="target platform (default linux/amd64)")
    parser.set_defaults(func=run)


def _build_args(items: list[str] | None) -> dict[str, str]:
    import os

    from pybuildkit.errors import UsageError

    out: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not key:
            raise UsageError(f"invalid --build-arg {item!r}: expected KEY=VALUE")
        if not sep:
            if key not in os.environ:
                continue
            value = os.environ[key]
        out[key] = value
    return out


def run(args: argparse.Namespace) -> int:
    from pybuildkit.cli.outline import run_call

    return run_call(
        "check",
        context=args.context,
        file=args.file,
        fmt=args.format,
        build_args=_build_args(args.build_arg),
        target=args.target,
        platform=args.platform,
    )
