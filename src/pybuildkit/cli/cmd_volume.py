"""`pybuild volume create|ls|rm|inspect`: named volumes under `<store root>/volumes`."""

from __future__ import annotations

import argparse
import json

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("volume", help="manage volumes")
    sub = parser.add_subparsers(dest="volume_command", metavar="COMMAND", required=True)
    create = sub.add_parser("create", help="create a volume")
    create.add_argument("name", nargs="?", default=None)
    create.set_defaults(func=_create)
    ls = sub.add_parser("ls", help="list volumes")
    ls.add_argument("-q", "--quiet", action="store_true", help="only names")
    ls.set_defaults(func=_ls)
    rm = sub.add_parser("rm", help="remove volumes")
    rm.add_argument("-f", "--force", action="store_true", help="remove even if a container uses it")
    rm.add_argument("names", nargs="+")
    rm.set_defaults(func=_rm)
    inspect = sub.add_parser("inspect", help="show volumes as JSON")
    inspect.add_argument("names", nargs="+")
    inspect.set_defaults(func=_inspect)


def _create(args: argparse.Namespace) -> int:
    from pybuildkit.cli.cmd_run import runtime
    from pybuildkit.containers.records import new_id

    volume, _ = runtime().volumes.create(args.name or new_id())  # unnamed: a random name, still named
    print(volume.name)
    return 0


def _ls(args: argparse.Namespace) -> int:
    from pybuildkit.cli.cmd_run import runtime

    volumes = runtime().volumes.list()
    if args.quiet:
        for v in volumes:
            print(v.name)
        return 0
    print("DRIVER    VOLUME NAME")
    for v in volumes:
        print(f"local     {v.name}")
    return 0


def _rm(args: argparse.Namespace) -> int:
    from pybuildkit.cli.cmd_run import runtime

    rt = runtime()
    for name in args.names:
        rt.remove_volume(name, force=args.force)
        print(name)
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from pybuildkit.cli.cmd_run import runtime

    rt = runtime()
    print(json.dumps([rt.volumes.get(name).to_json() for name in args.names], indent=4))
    return 0
