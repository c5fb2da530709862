"""Rendering and running the `--call` subrequests: check, outline, targets (and `pybuild check`).

`pybuild check` and `pybuild build --call=...` share this code so they print the same thing and
exit the same way: 0 when the Dockerfile passes, 1 for a Dockerfile error or, under
`# check=error=true`, for any warning. Output imitates `docker buildx build --call`: findings as
`WARNING: Rule - URL`, the location, BuildKit's message and the line with a caret.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from pybuildkit.checks import BaseLookup, CheckResult, Outline, Target
    from pybuildkit.errors import DockerfileError

__all__ = [
    "CALLS",
    "parse_call",
    "render_findings",
    "render_outline",
    "render_targets",
    "findings_json",
    "run_call",
    "precheck",
    "store_lookup",
]

CALLS = ("build", "check", "outline", "targets")


def parse_call(value: str) -> tuple[str, str]:
    """`outline,format=json` -> ("outline", "json"), as buildx spells it; UsageError otherwise."""
    from pybuildkit.errors import UsageError

    name, *options = [part.strip() for part in value.split(",")]
    fmt = "text"
    for option in options:
        key, _, val = option.partition("=")
        if key != "format" or val not in ("text", "json"):
            raise UsageError(f"invalid --call option {option!r}", hint="use format=text or format=json")
        fmt = val
    if name not in CALLS:
        raise UsageError(f"unknown --call {name!r}", hint="use one of: " + ", ".join(CALLS))
    return name, fmt


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def render_findings(result: CheckResult, source: str) -> str:
    """The text report: one block per finding, then BuildKit's closing line."""
    from pybuildkit.errors import excerpt

    blocks = []
    for finding in result.findings:
        lines = [
            f"{finding.level.upper()}: {finding.rule} - {finding.url}",
            f"{finding.span.file}:{finding.span.line}",
            finding.message,
        ]
        shown = excerpt(finding.span, source)
        if shown:
            lines.append(shown)
        blocks.append("\n".join(lines))
    warnings = len(result.warnings)
    infos = len(result.findings) - warnings
    if warnings:
        verb = "has" if warnings == 1 else "have"
        summary = f"Check complete, {_plural(warnings, 'warning')} {verb} been found!"
    else:
        summary = "Check complete, no warnings found."
    if infos:
        summary += f" ({_plural(infos, 'info finding')})"
    return "\n\n".join([*blocks, summary]) + "\n"


def _error_json(error: DockerfileError | None, message: str | None = None) -> dict[str, object] | None:
    if error is None and message is None:
        return None
    out: dict[str, object] = {"message": message if message is not None else error.message}  # type: ignore[union-attr]
    if error is not None and error.span is not None:
        out["location"] = {"file": error.span.file, "line": error.span.line}
    return out


def findings_json(result: CheckResult) -> str:
    error = _error_json(result.error)
    if error is None and result.failed:
        error = _error_json(None, result.violation_message())
    return json.dumps({"warnings": [f.to_json() for f in result.findings], "error": error}, indent=2) + "\n"


def render_outline(outline: Outline) -> str:
    lines = [f"TARGET:      {outline.name}"]
    if outline.description:
        lines.append(f"DESCRIPTION: {outline.description}")
    tables: list[tuple[tuple[str, ...], list[tuple[str, ...]]]] = []
    if outline.args:
        tables.append((("BUILD ARG", "VALUE", "DESCRIPTION"), [(a.name, a.value or "", a.description) for a in outline.args]))
    if outline.secrets:
        tables.append((("SECRET", "REQUIRED"), [(s.name, "true" if s.required else "") for s in outline.secrets]))
    if outline.ssh:
        tables.append((("SSH", "REQUIRED"), [(s.name, "true" if s.required else "") for s in outline.ssh]))
    for header, rows in tables:
        lines.append("")
        lines.extend(_table(header, rows))
    return "\n".join(lines) + "\n"


def render_targets(items: Sequence[Target]) -> str:
    rows = [(t.name + (" (default)" if t.default else ""), t.description) for t in items]
    return "\n".join(_table(("TARGET", "DESCRIPTION"), rows)) + "\n"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    out = []
    for row in [header, *rows]:
        cells = [cell.ljust(widths[i]) if i < len(row) - 1 else cell for i, cell in enumerate(row)]
        out.append("   ".join(cells).rstrip())
    return out


def _read_dockerfile(context: str, file: str | None) -> tuple[bytes, str, str | None]:
    """The Dockerfile's bytes, its display label, and its path (None for stdin)."""
    from pybuildkit.errors import UsageError

    if file == "-":
        return sys.stdin.buffer.read(), "<stdin>", None
    path = file or os.path.join(context, "Dockerfile")
    if os.path.isdir(path):
        path = os.path.join(path, "Dockerfile")
    try:
        with open(path, "rb") as handle:
            return handle.read(), path, path
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def _ignored(context: str, dockerfile_path: str | None):  # type: ignore[no-untyped-def]
    from pybuildkit.context.ignorefile import load_ignore

    if not os.path.isdir(context):
        return None
    matcher = load_ignore(context, dockerfile_path)
    return matcher.matches_or_parent if matcher else None


@contextlib.contextmanager
def store_lookup() -> Iterator[BaseLookup | None]:
    """Base images' env/SHELL/platform from the local store, when one exists (never created here,
    never pulled: a check must not write or reach the network). Unknown images give None."""
    from pybuildkit.errors import PybuildkitError
    from pybuildkit.store import Store
    from pybuildkit.store.paths import DB_FILE, default_root

    root = default_root()
    if not (root / DB_FILE).is_file():
        yield None
        return
    try:
        store = Store(root)
    except PybuildkitError:
        yield None
        return
    with store:
        from pybuildkit.execute.resolver import base_image_lookup

        lookup = base_image_lookup(store)
        yield lookup


def run_call(
    call: str,
    *,
    context: str = ".",
    file: str | None = None,
    fmt: str = "text",
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run one subrequest and print its result to stdout; the exit code is the command's."""
    from pybuildkit.checks import outline, run_checks, targets
    from pybuildkit.model import parse_dockerfile
    from pybuildkit.syntax import parse

    if file is None and os.path.isfile(context):
        # `pybuild check path/to/Dockerfile`: the file's directory is the context.
        context, file = os.path.dirname(context) or ".", context
    data, label, path = _read_dockerfile(context, file)
    document = parse(data, path=label)
    if call == "check":
        with store_lookup() as lookup:
            result = run_checks(
                document,
                build_args=build_args,
                target=target,
                platform=platform,
                environ=os.environ if environ is None else environ,
                ignored=_ignored(context, path),
                base_lookup=lookup,
            )
        if fmt == "json":
            sys.stdout.write(findings_json(result))
        else:
            sys.stdout.write(render_findings(result, document.source))
        sys.stdout.flush()
        if result.error is not None:
            raise result.error
        if result.failed:
            print(f"error: {result.violation_message()}", file=sys.stderr)
            return 1
        return 0
    dockerfile = parse_dockerfile(document)
    if call == "outline":
        data_outline = outline(dockerfile, build_args=build_args, target=target)
        text = json.dumps(data_outline.to_json(), indent=2) + "\n" if fmt == "json" else render_outline(data_outline)
    else:
        items = targets(dockerfile)
        text = json.dumps({"targets": [t.to_json() for t in items]}, indent=2) + "\n" if fmt == "json" else render_targets(items)
    sys.stdout.write(text)
    return 0


def precheck(args: argparse.Namespace, build_args: Mapping[str, str]) -> int | None:
    """Before a build: print check findings to stderr; 1 when they must stop the build, else None.

    A Dockerfile read from stdin is not pre-checked (the build itself reads stdin).
    """
    from pybuildkit.checks import run_checks
    from pybuildkit.syntax import parse

    if args.file == "-":
        return None
    data, label, path = _read_dockerfile(args.context, args.file)
    document = parse(data, path=label)
    with store_lookup() as lookup:
        result = run_checks(document, build_args=build_args, target=args.target, platform=args.platform, base_lookup=lookup)
    if result.error is not None:
        return None  # the build reports Dockerfile errors itself
    for finding in result.findings:
        print(f"{finding.level.upper()}: {finding.short()}", file=sys.stderr)
    if result.failed:
        print(f"error: {result.violation_message()}", file=sys.stderr)
        return 1
    return None
