"""The `pybuild` command: argument parsing, error rendering and exit codes, nothing else.

Each subcommand lives in its own module `pybuildkit.cli.cmd_<name>` exposing
`register(subparsers) -> None`; the parser it adds sets `func(args) -> int`. Command modules import
their heavy dependencies inside `func`, so `pybuild --help` and `pybuild parse` start fast.

Exit codes (docs/cli.md): 0 success; 1 a build, Dockerfile or runtime error (a PybuildkitError's
`exit_code`); 2 a usage error (argparse, UsageError); 125 `run` could not start the container,
else `run` exits with the container's status; 130 interrupted (Ctrl-C); 141 standard output was
closed. `--debug` (or $PYBUILDKIT_DEBUG=1) adds the Python traceback to any error.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import os
import sys
import traceback

from pybuildkit.errors import PybuildkitError

__all__ = ["main", "COMMANDS"]

COMMANDS = (
    "build",
    "parse",
    "check",
    "images",
    "inspect",
    "tag",
    "rmi",
    "load",
    "save",
    "pull",
    "push",
    "login",
    "logout",
    "run",
    "ps",
    "start",
    "stop",
    "kill",
    "rm",
    "logs",
    "exec",
    "commit",
    "volume",
    "cache",
    "explain",
    "graph",
    "store",
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with `only` just that command's: importing all 27 command modules
    costs a cached rebuild a tenth of its time, and one run needs one of them."""
    parser = argparse.ArgumentParser(
        prog="pybuild",
        description="Build container images from Dockerfiles, without a daemon.",
    )
    parser.add_argument("-D", "--debug", action="store_true", help="show Python tracebacks for errors (also $PYBUILDKIT_DEBUG=1)")
    parser.add_argument("--root", metavar="DIR", help="image store root (default: $PYBUILDKIT_ROOT or ~/.local/share/pybuildkit)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in (only,) if only else COMMANDS:
        try:
            module = importlib.import_module(f"pybuildkit.cli.cmd_{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"pybuildkit.cli.cmd_{name}":
                continue
            raise
        module.register(sub)
    _describe(sub)
    return parser


def _describe(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Give every command's own `--help` the one-line summary `pybuild --help` lists for it.

    argparse shows a subcommand's `help=` only in its parent's list; `pybuild rmi --help` should
    open with what the command does, as `docker rmi --help` does.
    """
    summaries = {action.dest: action.help for action in sub._choices_actions}
    for name, command in sub.choices.items():
        summary = summaries.get(name)
        if command.description is None and summary:
            command.description = summary[0].upper() + summary[1:] + ("" if summary.endswith(".") else ".")


def _command_index(argv: list[str]) -> int:
    """Where the command word stands, past the global options."""
    i = 0
    while i < len(argv) and argv[i] in ("--debug", "-D"):
        i += 1
    if i < len(argv) and argv[i] == "--root":
        i += 2
    elif i < len(argv) and argv[i].startswith("--root="):
        i += 1
    return i


def _normalise(argv: list[str]) -> list[str]:
    """`pybuild [build options] CONTEXT` is short for `pybuild build [build options] CONTEXT`."""
    i = _command_index(argv)
    rest = argv[i:]
    if not rest or rest[0] in COMMANDS or rest[0] in ("-h", "--help", "--version"):
        return argv
    return argv[:i] + ["build"] + rest


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--version" in argv[:1]:
        from pybuildkit import __version__

        print(f"pybuild {__version__}")
        return 0
    argv = _normalise(argv)
    i = _command_index(argv)
    command = argv[i] if i < len(argv) and argv[i] in COMMANDS else None
    if command is not None and importlib.util.find_spec(f"pybuildkit.cli.cmd_{command}") is None:
        command = None  # registered by another command's module (logout by login's)
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if args.root:
        os.environ["PYBUILDKIT_ROOT"] = os.path.abspath(args.root)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    debug = args.debug or os.environ.get("PYBUILDKIT_DEBUG", "") not in ("", "0")
    try:
        return int(args.func(args) or 0)
    except PybuildkitError as exc:
        if debug:
            traceback.print_exc()
        print(exc.render(), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`pybuild images | head`): stop quietly, as a killed pipe would.
        with contextlib.suppress(OSError, ValueError):
            stdout = sys.stdout.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stdout)
            os.close(devnull)
        return 141
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback without --debug
        if debug:
            raise
        print(_unexpected(exc), file=sys.stderr)
        return 1


def _unexpected(exc: Exception) -> str:
    """A one-line account of an error no layer translated, with the way to see more."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"error: {exc.strerror}{where}\nhint: run with --debug for the traceback"
    return f"error: internal error: {type(exc).__name__}: {exc}\nhint: this is a bug in pybuild; run with --debug for the traceback and report it"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
