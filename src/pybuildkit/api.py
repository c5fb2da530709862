"""The public Python API: parse a Dockerfile, build it, open the store.

This module wires the defaults together (parser -> model -> planner -> executor -> store and
exporters) so that a caller writes `pybuildkit.build(context=".", tags=["app:dev"])` and gets the
image digest and the per-step report back. The CLI is a thin layer over exactly these functions.
"""

from __future__ import annotations

import os
from pathlib import Path

from pybuildkit.errors import PybuildkitError, UsageError
from pybuildkit.execute.events import Event, EventSink
from pybuildkit.execute.report import BuildReport
from pybuildkit.execute.request import BuildOptions, BuildResult, Output, parse_output
from pybuildkit.model.instructions import Dockerfile
from pybuildkit.store import Store, default_root

__all__ = [
    "Output",
    "BuildOptions",
    "BuildResult",
    "parse",
    "parse_output",
    "build",
    "open_store",
    "Store",
    "Event",
    "BuildReport",
    "PybuildkitError",
]

def parse(text: str | bytes, path: str = "Dockerfile") -> Dockerfile:
    """Parse Dockerfile text into typed stages (raises ParseError with file:line:column)."""
    from pybuildkit.model import parse_dockerfile
    from pybuildkit.syntax import parse as parse_syntax

    return parse_dockerfile(parse_syntax(text, path))


def open_store(root: str | os.PathLike[str] | None = None) -> Store:
    """The image store at `root`, else $PYBUILDKIT_ROOT, else the XDG data directory."""
    return Store(Path(root) if root is not None else default_root())


def _dockerfile_source(options: BuildOptions) -> tuple[str, str]:
    if options.dockerfile_text is not None:
        return options.dockerfile_text, str(options.dockerfile or "Dockerfile")
    path = options.dockerfile or options.context / "Dockerfile"
    if not path.is_absolute() and not path.exists() and (options.context / path).exists():
        path = options.context / path
    try:
        return path.read_text(encoding="utf-8", errors="surrogateescape"), str(path)
    except FileNotFoundError:
        raise UsageError(f"cannot read Dockerfile {path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"cannot read Dockerfile {path}: {exc.strerror}") from None


def build(options: BuildOptions, on_event: EventSink | None = None) -> BuildResult:
    """Build the Dockerfile of `options` into the store (and any extra outputs).

    `on_event` receives every progress event (step started, log output, cached, finished).
    """
    from pybuildkit.execute.build import run_build

    if not options.context.is_dir():
        raise UsageError(f"build context {options.context} is not a directory")
    text, path = _dockerfile_source(options)
    return run_build(options, text, path, on_event)
