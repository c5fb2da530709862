"""`pybuild run`: create a container from a stored image and start it (Docker's flags and rules)."""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["register", "add_create_arguments", "create_options", "runtime", "warn"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("run", help="run a command in a new container")
    add_create_arguments(parser)
    parser.add_argument("-d", "--detach", action="store_true", help="run in the background and print the container id")
    parser.set_defaults(func=run)


def add_create_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--rm", action="store_true", help="remove the container (and its anonymous volumes) when it exits")
    add("-i", "--interactive", action="store_true", help="keep stdin open and connect it to the container")
    add("-t", "--tty", action="store_true", help="give the container a pseudo-terminal")
    add("--name", default="", help="name the container")
    add("-e", "--env", action="append", default=[], metavar="K=V", help="set an environment variable (K alone: from the caller)")
    add("--env-file", action="append", default=[], metavar="FILE", help="read K=V lines from FILE")
    add("-v", "--volume", action="append", default=[], metavar="SRC:DST[:ro]", help="bind a host dir (absolute) or a named volume")
    add("--tmpfs", action="append", default=[], metavar="PATH", help="mount a fresh tmpfs at PATH")
    add("-w", "--workdir", default=None, help="working directory inside the container")
    add("-u", "--user", default=None, help="user[:group] to run as")
    add("--hostname", default=None, help="container host name (default: the short id)")
    add("--entrypoint", default=None, help="replace the image's ENTRYPOINT (and drop its CMD)")
    add("--network", default="host", choices=("host", "none"), help="host network, or none (loopback only)")
    add("--read-only", action="store_true", help="mount the container's root file system read-only")
    add("--memory", "-m", default=None, metavar="SIZE", help="memory limit (e.g. 256m)")
    add("--cpus", default=None, help="CPU quota in CPUs (e.g. 0.5)")
    add("--pids-limit", type=int, default=None, metavar="N", help="maximum number of processes")
    add("image", metavar="IMAGE")
    add("command", nargs=argparse.REMAINDER, metavar="CMD")


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def runtime():  # type: ignore[no-untyped-def]
    from pybuildkit.containers import Runtime
    from pybuildkit.store import default_root

    return Runtime(default_root())


def create_options(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from pybuildkit.containers import CreateOptions, Limits, parse_cpus, parse_env_arg, parse_env_file, parse_memory, parse_volume, VolumeSpec
    from pybuildkit.errors import UsageError

    env: list[str] = []
    for path in args.env_file:
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as fh:
                text = fh.read()
        except OSError as exc:
            raise UsageError(f"cannot read env file {path}: {exc.strerror}") from None
        env += parse_env_file(text, os.environ, path=path)
    for item in args.env:
        env += parse_env_arg(item, os.environ)
    volumes = [parse_volume(v) for v in args.volume]
    for path in args.tmpfs:
        target = path.split(":", 1)[0]
        if not target.startswith("/"):
            raise UsageError(f"invalid --tmpfs {path!r}: the path must be absolute")
        volumes.append(VolumeSpec("tmpfs", target.rstrip("/") or "/"))
    if args.pids_limit is not None and args.pids_limit == 0:
        raise UsageError("--pids-limit must be positive (or -1 for unlimited)")
    limits = Limits(
        memory=parse_memory(args.memory) if args.memory else None,
        cpu_quota=parse_cpus(args.cpus) if args.cpus else None,
        pids=args.pids_limit if args.pids_limit and args.pids_limit > 0 else None,
    )
    return CreateOptions(
        image=args.image,
        command=tuple(args.command),
        entrypoint=args.entrypoint,
        env=tuple(env),
        volumes=tuple(volumes),
        workdir=args.workdir,
        user=args.user,
        hostname=args.hostname,
        network=args.network,
        read_only=args.read_only,
        tty=args.tty,
        interactive=args.interactive,
        limits=limits,
        name=args.name,
        auto_remove=args.rm,
    )


def run(args: argparse.Namespace) -> int:
    from pybuildkit.errors import PybuildkitError

    rt = runtime()
    container = rt.create(create_options(args))
    if args.detach:
        try:
            rt.start_detached(container, warn=warn)
        except PybuildkitError:
            if args.rm:
                rt.remove(rt.get(container.id), force=True, volumes=True)
            raise
        print(container.id)
        return 0
    try:
        return rt.run_attached(container, stdin=0, stdout=sys.stdout.fileno(), warn=warn)
    except PybuildkitError as exc:
        if args.rm:
            rt.remove(rt.get(container.id), force=True, volumes=True)
        exc.exit_code = 125  # Docker's status when the container could not be started
        raise
