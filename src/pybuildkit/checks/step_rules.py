"""Rules about what each instruction does in its stage's scope (BuildKit's dispatch-time lints).

Each function reads the walked :class:`~pybuildkit.checks.analysis.Step` records and yields
`(message, span)` pairs with BuildKit's wording.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from pybuildkit.checks.analysis import Analysis
from pybuildkit.checks.file_rules import Hit
from pybuildkit.model.instructions import Add, Arg, Cmd, Copy, Entrypoint, Env, Label
from pybuildkit.model.values import go_quote

__all__ = [
    "SECRET_WORDS",
    "is_secret_name",
    "json_args_recommended",
    "multiple_instructions_disallowed",
    "workdir_relative_path",
    "undefined_var",
    "legacy_key_value_format",
    "secrets_used_in_arg_or_env",
    "expose_proto_casing",
    "expose_invalid_format",
    "copy_ignored_file",
]

SECRET_WORDS = ("apikey", "auth", "credential", "credentials", "key", "password", "pword", "passwd", "secret", "token")
_SECRET = re.compile(r"(?:_|^)(?:" + "|".join(SECRET_WORDS) + r")(?:_|$)", re.IGNORECASE)
_ALLOWED = re.compile(r"(?:_|^)(?:public)(?:_|$)", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """A whole word of the name (split at `_`) says secret, and none says public."""
    return bool(_SECRET.search(name)) and not _ALLOWED.search(name)


def json_args_recommended(analysis: Analysis) -> Iterator[Hit]:
    for step in analysis.steps:
        if isinstance(step.instruction, (Cmd, Entrypoint)) and not step.instruction.json and not step.shell_set:
            yield (
                f"JSON arguments recommended for {step.keyword} to prevent unintended behavior related to OS signals",
                step.instruction.span,
            )


def multiple_instructions_disallowed(analysis: Analysis) -> Iterator[Hit]:
    last: dict[tuple[int, str], Hit] = {}
    for step in analysis.steps:
        kind = step.instruction.keyword
        if kind not in ("cmd", "entrypoint", "healthcheck"):
            continue
        key = (step.stage.index, kind)
        if key in last:
            # The earlier one is reported: it is the one that will be ignored.
            yield last[key]
        last[key] = (
            f"Multiple {step.keyword} instructions should not be used in the same stage because only the last one will be used",
            step.instruction.span,
        )


def workdir_relative_path(analysis: Analysis) -> Iterator[Hit]:
    for step in analysis.steps:
        if step.instruction.keyword == "workdir" and not step.workdir_set:
            path = step.expanded[0] if step.expanded else ""
            if not path.startswith("/"):
                yield f"Relative workdir {go_quote(path)} can have unexpected results if the base image changes", step.instruction.span


def undefined_var(analysis: Analysis) -> Iterator[Hit]:
    for step in analysis.steps:
        for undefined in step.undefined:
            message = f"Usage of undefined variable '${undefined.name}'"
            if undefined.suggestion:
                message += f" (did you mean ${undefined.suggestion}?)"
            yield message, step.instruction.span


def legacy_key_value_format(analysis: Analysis) -> Iterator[Hit]:
    for step in analysis.steps:
        instruction = step.instruction
        pairs = instruction.env if isinstance(instruction, Env) else instruction.labels if isinstance(instruction, Label) else ()
        for pair in pairs:
            if pair.legacy_form:
                name = step.keyword
                yield f'"{name} key=value" should be used instead of legacy "{name} key value" format', instruction.span


def secrets_used_in_arg_or_env(analysis: Analysis) -> Iterator[Hit]:
    for step in analysis.steps:
        instruction = step.instruction
        if isinstance(instruction, Arg):
            named = [("ARG", a.key) for a in instruction.args]
        elif isinstance(instruction, Env):
            named = [("ENV", p.key) for p in instruction.env]
        else:
            continue
        for what, key in named:
            if is_secret_name(key):
                yield f"Do not use ARG or ENV instructions for sensitive data ({what} {go_quote(key)})", instruction.span


def _port_parts(port: str) -> tuple[str, str, str]:
    parts = port.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return ":".join(parts[:-2]), parts[-2], parts[-1]


def expose_proto_casing(analysis: Analysis) -> Iterator[Hit]:
    for step in analysis.steps:
        if step.instruction.keyword != "expose":
            continue
        for port in step.expanded:
            proto = _port_parts(port)[2].partition("/")[2]
            if proto != proto.lower():
                yield f"Defined protocol '{port}' in EXPOSE instruction should be lowercase", step.instruction.span


def expose_invalid_format(analysis: Analysis) -> Iterator[Hit]:
    for step in analysis.steps:
        if step.instruction.keyword != "expose":
            continue
        for port in step.expanded:
            ip, host_port, _ = _port_parts(port)
            if ip or host_port:
                yield (
                    f"EXPOSE instruction should not define an IP address or host-port mapping, found '{port}'",
                    step.instruction.span,
                )


def _is_remote(source: str) -> bool:
    return source.startswith(("http://", "https://", "git@")) or ".git#" in source or source.endswith(".git")


def copy_ignored_file(analysis: Analysis) -> Iterator[Hit]:
    if analysis.ignored is None:
        return
    for step in analysis.steps:
        instruction = step.instruction
        if isinstance(instruction, Copy) and instruction.from_:
            continue
        if not isinstance(instruction, (Copy, Add)):
            continue
        for source in step.expanded:
            if _is_remote(source):
                continue
            relative = posixpath.normpath("/" + source).lstrip("/") or "."
            if relative != "." and analysis.ignored(relative):
                what = "Add" if isinstance(instruction, Add) else "Copy"
                yield f"Attempting to {what} file {go_quote(source)} that is excluded by .dockerignore", instruction.span
