"""ARG scoping before the first stage: predefined platform ARGs, global ARGs and --build-arg.

BuildKit's rules, which users rely on: ARGs declared before the first FROM are visible only to FROM
lines (and to a stage that re-declares them with `ARG name`); a --build-arg only overrides an ARG
that is declared; the platform ARGs exist in global scope without a declaration; the proxy ARGs may
be given without a declaration and then reach RUN without entering history or cache keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pybuildkit.errors import PlanError
from pybuildkit.model.instructions import Arg
from pybuildkit.oci.descriptor import Platform
from pybuildkit.syntax.shell import ShellExpansionError, ShellLex

__all__ = ["PLATFORM_ARGS", "PROXY_ARGS", "BUILTIN_ARGS", "platform_args", "global_args", "proxy_env"]

PLATFORM_ARGS = (
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "TARGETSTAGE",
)

PROXY_ARGS = (
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
)

#: Names a --build-arg may carry without any ARG declaration and without an "unused" warning.
BUILTIN_ARGS = frozenset(PLATFORM_ARGS) | frozenset(PROXY_ARGS) | {"BUILDOSVERSION", "TARGETOSVERSION", "SOURCE_DATE_EPOCH"}


def platform_args(target: Platform, build: Platform, target_stage: str, overrides: Mapping[str, str]) -> dict[str, str]:
    """BuildKit's defaultArgs: the predefined ARGs of global scope (a --build-arg may override them)."""
    values = {
        "BUILDPLATFORM": str(build),
        "BUILDOS": build.os,
        "BUILDARCH": build.architecture,
        "BUILDVARIANT": build.variant or "",
        "TARGETPLATFORM": str(target),
        "TARGETOS": target.os,
        "TARGETARCH": target.architecture,
        "TARGETVARIANT": target.variant or "",
        "TARGETSTAGE": target_stage,
    }
    return {key: overrides.get(key, value) for key, value in values.items()}


def global_args(
    declarations: Sequence[Arg],
    predefined: Mapping[str, str],
    build_args: Mapping[str, str],
    lex: ShellLex,
) -> tuple[dict[str, str], set[str]]:
    """The FROM-line scope, and the --build-arg names the declarations consumed.

    A declared ARG takes its --build-arg value if given, else its default expanded in the scope so
    far; an ARG with neither stays undefined (a stage importing it gets nothing).
    """
    scope = dict(predefined)
    consumed: set[str] = set()
    for decl in declarations:
        for arg in decl.args:
            if arg.key in build_args:
                scope[arg.key] = build_args[arg.key]
                consumed.add(arg.key)
            elif arg.value is not None:
                try:
                    scope[arg.key] = lex.process_word(arg.value, scope)
                except ShellExpansionError as exc:
                    raise PlanError(exc.message, decl.span) from None
    return scope, consumed


def proxy_env(build_args: Mapping[str, str]) -> dict[str, str]:
    """Proxy values given as --build-arg, in both spellings, as BuildKit's executor sets them.

    BuildKit matches the names case-insensitively and exports `HTTP_PROXY` and `http_proxy` alike,
    since tools disagree on which one they read.
    """
    out: dict[str, str] = {}
    for key in sorted(build_args):
        lower = key.lower()
        if lower in {p.lower() for p in PROXY_ARGS}:
            out[lower.upper()] = build_args[key]
            out[lower] = build_args[key]
    return out
