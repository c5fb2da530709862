"""`pybuild build [OPTIONS] CONTEXT` (also `pybuild [OPTIONS] CONTEXT`)."""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["register"]


def _key_values(items: list[str] | None, what: str) -> dict[str, str]:
    from pybuildkit.errors import UsageError

    out: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not key:
            raise UsageError(f"invalid {what} {item!r}: expected KEY=VALUE")
        if not sep:
            if what == "--build-arg" and key in os.environ:
                value = os.environ[key]
            elif what == "--build-arg":
                continue
        out[key] = value
    return out


def _secrets(items: list[str] | None) -> dict[str, tuple[str, str]]:
    from pybuildkit.errors import UsageError

    out: dict[str, tuple[str, str]] = {}
    for item in items or ():
        fields = dict(part.partition("=")[::2] for part in item.split(","))
        sid = fields.get("id")
        if not sid:
            raise UsageError(f"invalid --secret {item!r}: id= is required")
        if "env" in fields:
            out[sid] = ("env", fields["env"])
        elif fields.get("src") or fields.get("source"):
            out[sid] = ("file", os.path.abspath(fields.get("src") or fields["source"]))
        elif sid in os.environ:
            out[sid] = ("env", sid)
        else:
            raise UsageError(f"invalid --secret {item!r}: give src=FILE or env=VAR")
    return out


def _ssh(items: list[str] | None) -> dict[str, str]:
    from pybuildkit.errors import UsageError

    out: dict[str, str] = {}
    for item in items or ():
        sid, _, path = item.partition("=")
        sock = path or os.environ.get("SSH_AUTH_SOCK", "")
        if not sock:
            raise UsageError(f"--ssh {item}: no socket given and $SSH_AUTH_SOCK is not set")
        out[sid or "default"] = sock
    return out


def _report_failure(args: argparse.Namespace, recorder, error: BaseException) -> None:  # type: ignore[no-untyped-def]
    """A failed build still gets its one-line summary and, with --report, its report file."""
    from pathlib import Path

    from pybuildkit.cli.progress import failure_json, format_failure
    from pybuildkit.atomicfile import atomic_write_json

    if args.report:
        atomic_write_json(Path(args.report), failure_json(recorder, error), parents=True)
    line = format_failure(recorder)
    if line and args.progress not in ("quiet", "json"):
        print(line, file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    if args.call != "build" or args.check:
        from pybuildkit.cli.outline import parse_call, run_call

        call, fmt = parse_call("check" if args.check else args.call)
        return run_call(call, context=args.context, file=args.file, fmt=fmt, target=args.target, platform=args.platform,
                        build_args=_key_values(args.build_arg, "--build-arg"))

    from pybuildkit.cli import fastpath
    from pybuildkit.store.paths import default_root

    root = default_root()
    key = fastpath.fingerprint(args, root)
    hit = fastpath.lookup(root, key)
    if hit is not None:
        return _unchanged(args, hit)

    from pybuildkit.api import BuildOptions, build, parse_output
    from pybuildkit.cache.spec import parse_cache_spec
    from pybuildkit.cli.progress import format_summary, make_progress

    outputs = tuple(parse_output(o) for o in args.output or ())
    options = BuildOptions(
        context=Path(args.context),
        dockerfile=Path(args.file) if args.file and args.file != "-" else None,
        dockerfile_text=sys.stdin.read() if args.file == "-" else None,
        tags=tuple(args.tag or ()),
        build_args=_key_values(args.build_arg, "--build-arg"),
        target=args.target,
        platform=args.platform,
        labels=_key_values(args.label, "--label"),
        no_cache=args.no_cache,
        no_cache_filter=tuple(args.no_cache_filter or ()),
        outputs=outputs,
        iidfile=Path(args.iidfile) if args.iidfile else None,
        metadata_file=Path(args.metadata_file) if args.metadata_file else None,
        squash=args.squash,
        compression=args.compression,
        secrets=_secrets(args.secret),
        ssh=_ssh(args.ssh),
        allow=frozenset(args.allow or ()),
        checksum_mode="git" if args.git_checksums else "full",
        cache_to=tuple(parse_cache_spec(c, export=True) for c in args.cache_to or ()),
        cache_from=tuple(parse_cache_spec(c, export=False) for c in args.cache_from or ()),
        verify_cache=args.verify_cache,
        debug_on_fail=args.debug_on_fail,
    )
    from pybuildkit.cli.progress import StepRecorder
    from pybuildkit.errors import PybuildkitError

    # The debug shell owns the terminal: a live tty view would draw over it.
    mode = "plain" if args.debug_on_fail and args.progress in ("auto", "tty") else args.progress
    progress = StepRecorder(make_progress(mode))
    try:
        result = build(options, on_event=progress)
    except PybuildkitError as exc:
        progress.close()
        _report_failure(args, progress, exc)
        raise
    finally:
        progress.close()
    if args.report:
        from pybuildkit.cli.progress import report_json
        from pybuildkit.atomicfile import atomic_write_json

        atomic_write_json(Path(args.report), report_json(result), parents=True)
    if args.progress == "json":
        import json

        from pybuildkit.cli.progress import summary_json

        print(json.dumps(summary_json(result.report), sort_keys=True), file=sys.stderr)
    elif args.progress != "quiet":
        print(format_summary(result.report), file=sys.stderr)
        if result.tags:
            print(f"Tagged {', '.join(result.tags)}", file=sys.stderr)
    for mismatch in result.cache_mismatches:
        print(mismatch, file=sys.stderr)
    if args.explain:
        from pybuildkit.api import open_store
        from pybuildkit.cli.cmd_explain import format_explanation
        from pybuildkit.execute.build import read_last_build

        with open_store(options.root) as store:
            record = read_last_build(store.root)
        if record is not None:
            print(format_explanation(record), file=sys.stderr)
    print(result.config_digest if args.progress == "quiet" else f"Image {result.digest}")
    from pybuildkit.execute.build import read_last_build

    fastpath.remember(
        root,
        key,
        {
            "digest": result.digest,
            "config_digest": result.config_digest,
            "tags": list(result.tags),
            "steps": len(result.report.steps),
            "metadata": read_last_build(root),
        },
    )
    return 0


def _unchanged(args: argparse.Namespace, hit: dict) -> int:  # type: ignore[type-arg]
    """Report a build whose inputs and store are exactly as the last successful build left them."""
    import time
    from pathlib import Path

    from pybuildkit.atomicfile import atomic_write, atomic_write_json

    steps = int(hit.get("steps", 0))
    metadata = dict(hit.get("metadata") or {})
    metadata["steps"] = [dict(step, cached=True, seconds=0.0) for step in metadata.get("steps", [])]
    if args.iidfile:
        atomic_write(Path(args.iidfile), str(hit["config_digest"]).encode())
    if args.metadata_file:
        atomic_write_json(Path(args.metadata_file), metadata, parents=True)
    if args.progress != "quiet":
        seconds = time.process_time()
        print("#0 no input changed since the last build (checked by stat): every step is cached", file=sys.stderr)
        print(f"Built in {seconds:.2f}s: 0 of {steps} steps run, {steps} cached (100% from cache)", file=sys.stderr)
        if hit.get("tags"):
            print(f"Tagged {', '.join(hit['tags'])}", file=sys.stderr)
    print(hit["config_digest"] if args.progress == "quiet" else f"Image {hit['digest']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="build an image from a Dockerfile", description="Build an image from a Dockerfile and a context directory.")
    p.add_argument("context", metavar="CONTEXT", help="the build context directory")
    p.add_argument("-f", "--file", metavar="PATH", help="the Dockerfile (default: CONTEXT/Dockerfile; - reads stdin)")
    p.add_argument("-t", "--tag", action="append", metavar="NAME[:TAG]", help="name the image (repeatable)")
    p.add_argument("--build-arg", action="append", metavar="KEY=VALUE", help="set a build-time variable (repeatable)")
    p.add_argument("--target", metavar="STAGE", help="build this stage and what it needs")
    p.add_argument("--platform", metavar="OS/ARCH", help="target platform (default linux/amd64)")
    p.add_argument("--label", action="append", metavar="KEY=VALUE", help="add a label to the image (repeatable)")
    p.add_argument("--no-cache", action="store_true", help="do not use the cache: run every step")
    p.add_argument("--no-cache-filter", action="append", metavar="STAGE", help="do not use the cache for these stages")
    p.add_argument("-o", "--output", action="append", metavar="type=TYPE,dest=PATH", help="extra outputs: oci, docker, local, tar, image (repeatable)")
    p.add_argument("--iidfile", metavar="FILE", help="write the image ID (config digest) to FILE")
    p.add_argument("--metadata-file", metavar="FILE", help="write build metadata (digests, per-step report) to FILE as JSON")
    p.add_argument("--report", metavar="FILE", help="write the build summary (per-step times, cache hits and misses, critical path, digests, warnings; where a failed build stopped) to FILE as JSON")
    p.add_argument("--progress", default="auto", choices=("auto", "tty", "plain", "json", "quiet"), help="progress output (default auto)")
    p.add_argument("--squash", action="store_true", help="fold the layers this build adds into one")
    p.add_argument("--compression", default="gzip", choices=("gzip", "zstd", "uncompressed"), help="layer compression (default gzip)")
    p.add_argument("--secret", action="append", metavar="id=ID,src=FILE|env=VAR", help="expose a secret to RUN --mount=type=secret")
    p.add_argument("--ssh", action="append", metavar="default|ID[=SOCKET]", help="forward an SSH agent socket to RUN --mount=type=ssh")
    p.add_argument("--allow", action="append", metavar="ENTITLEMENT", help="allow an entitlement, e.g. security.insecure")
    p.add_argument("--git-checksums", action="store_true", help="key COPY sources on what git carries (content, executable bit, links), not full modes")
    p.add_argument("--debug-on-fail", action="store_true", help="when a RUN fails, open a shell in its sandbox (same files, mounts, env, directory, user)")
    p.add_argument("--explain", action="store_true", help="after the build, print why each step ran or was cached")
    p.add_argument("--cache-to", action="append", metavar="type=local,dest=DIR[,mode=max]", help="export the build cache: type=local,dest=DIR | type=registry,ref=REF | type=inline; mode=min|max, cache-mounts=true (repeatable)")
    p.add_argument("--cache-from", action="append", metavar="type=local,src=DIR", help="import a build cache before building: type=local,src=DIR | type=registry,ref=REF (repeatable)")
    p.add_argument("--verify-cache", action="store_true", help="re-run cached steps and report those whose layer differs from the cached one")
    p.add_argument("--call", default="build", metavar="build|check|outline|targets[,format=json]", help="what to do instead of building: run the checks, outline the build args, list targets")
    p.add_argument("--check", action="store_true", help="shorthand for --call=check")
    p.set_defaults(func=run)
