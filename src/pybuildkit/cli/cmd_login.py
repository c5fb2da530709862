"""`pybuild login [-u USER] [-p PASS | --password-stdin] [HOST]` (and `logout`).

Credentials are checked against the registry, then saved in pybuildkit's own config.json
($PYBUILDKIT_CONFIG or ~/.config/pybuildkit/config.json), in Docker's format; Docker's own file is
read, never written. `pybuild login --logout HOST` forgets them (also `pybuild logout HOST` once the
command table lists it).
"""

from __future__ import annotations

import argparse
import sys

from pybuildkit.cli.cmd_pull import add_registry_options

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("login", help="log in to a registry (saves credentials)")
    parser.add_argument("server", nargs="?", metavar="HOST", help="registry HOST[:PORT] (default docker.io)")
    parser.add_argument("-u", "--username", help="user name (asked for on a terminal if missing)")
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument("-p", "--password", help="password (visible to other users: prefer --password-stdin)")
    secret.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    parser.add_argument("--logout", action="store_true", help="forget the saved credentials for HOST instead")
    add_registry_options(parser)
    parser.set_defaults(func=run)
    out = subparsers.add_parser("logout", help="forget saved credentials for a registry")
    out.add_argument("server", nargs="?", metavar="HOST", help="registry HOST[:PORT] (default docker.io)")
    out.set_defaults(func=run_logout)


def run_logout(args: argparse.Namespace) -> int:
    from pybuildkit.registry import logout, registry_domain

    domain = registry_domain(args.server)
    if logout(args.server):
        print(f"Removing login credentials for {domain}")
    else:
        print(f"Not logged in to {domain}", file=sys.stderr)
    return 0


def _ask(prompt: str, *, secret: bool) -> str:
    from pybuildkit.errors import UsageError

    if not sys.stdin.isatty():
        raise UsageError(f"{prompt.rstrip(': ').lower()} required: pass it as an option (no terminal to ask on)")
    if secret:
        import getpass

        return getpass.getpass(prompt)
    return input(prompt)


def run(args: argparse.Namespace) -> int:
    from pybuildkit.errors import UsageError
    from pybuildkit.registry import login, registry_domain

    if args.logout:
        return run_logout(args)
    domain = registry_domain(args.server)
    username = args.username or _ask("Username: ", secret=False)
    if args.password_stdin:
        password = sys.stdin.read().rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin: standard input was empty")
    elif args.password is not None:
        password = args.password
        print("WARNING! Using --password via the command line is insecure. Use --password-stdin.", file=sys.stderr)
    else:
        password = _ask("Password: ", secret=True)
    path = login(domain, username, password, insecure_registries=tuple(args.insecure_registry))
    print(f"Login Succeeded (credentials saved in {path})")
    return 0
