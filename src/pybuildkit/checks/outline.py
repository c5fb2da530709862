"""What `--call=outline` and `--call=targets` report: a target's build args, secrets and SSH
sockets, and the list of stages with their descriptions.

Descriptions come from the comment right above an ARG or FROM that starts with the arg or stage
name (`# VERSION the release to package`), as in BuildKit, so the same Dockerfile documents itself
the same way under docker buildx and pybuild.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from pybuildkit.checks.analysis import stage_dependencies, reachable_stages
from pybuildkit.errors import PlanError, Span
from pybuildkit.model.instructions import Arg, Dockerfile, Run, Stage
from pybuildkit.syntax.shell import ShellExpansionError, ShellLex

__all__ = ["OutlineArg", "OutlineSecret", "Outline", "Target", "outline", "targets", "stage_label"]


@attrs.frozen
class OutlineArg:
    name: str
    value: str | None
    description: str
    span: Span

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "line": self.span.line}
        if self.value is not None:
            out["value"] = self.value
        if self.description:
            out["description"] = self.description
        return out


@attrs.frozen
class OutlineSecret:
    """A secret or SSH socket a RUN of the target mounts; `required` when the build fails without it."""

    name: str
    required: bool
    span: Span

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "required": self.required, "line": self.span.line}


@attrs.frozen
class Outline:
    name: str
    description: str
    args: tuple[OutlineArg, ...] = ()
    secrets: tuple[OutlineSecret, ...] = ()
    ssh: tuple[OutlineSecret, ...] = ()

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        for key, items in (("args", self.args), ("secrets", self.secrets), ("ssh", self.ssh)):
            if items:
                out[key] = [item.to_json() for item in items]
        return out


@attrs.frozen
class Target:
    name: str
    description: str
    default: bool
    base: str
    platform: str | None
    span: Span

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "base": self.base, "line": self.span.line}
        if self.description:
            out["description"] = self.description
        if self.default:
            out["default"] = True
        if self.platform:
            out["platform"] = self.platform
        return out


def stage_label(stage: Stage) -> str:
    """A stage's name, or BuildKit's `stage-N` for an unnamed one."""
    return stage.name or f"stage-{stage.index}"


def targets(dockerfile: Dockerfile) -> tuple[Target, ...]:
    """Every stage, in file order; the last one is the default target."""
    last = len(dockerfile.stages) - 1
    return tuple(
        Target(
            name=stage_label(stage),
            description=stage.doc_comment,
            default=stage.index == last,
            base=stage.from_.base,
            platform=stage.from_.platform,
            span=stage.from_.span,
        )
        for stage in dockerfile.stages
    )


def _find_target(dockerfile: Dockerfile, target: str | None) -> Stage:
    if not dockerfile.stages:
        raise PlanError("dockerfile contains no stages to build")
    if target is None:
        return dockerfile.stages[-1]
    for stage in dockerfile.stages:
        if stage.name == target.lower():
            return stage
    raise PlanError(f'target stage "{target}" could not be found')


def outline(dockerfile: Dockerfile, *, build_args: Mapping[str, str] | None = None, target: str | None = None) -> Outline:
    """The target's outline: the ARGs its stages use (global ones via FROM lines or re-declaration),
    with their effective values, and the secrets and SSH sockets its RUNs mount."""
    build_args = dict(build_args or {})
    stage = _find_target(dockerfile, target)
    lex = ShellLex(escape=dockerfile.escape)
    bases: list[int | None] = []
    names: dict[str, int] = {}
    for current in dockerfile.stages:
        bases.append(names.get(current.from_.base.lower()))  # only earlier stages can be a base
        if current.name:
            names[current.name] = current.index
    reachable = sorted(reachable_stages(stage.index, stage_dependencies(dockerfile.stages, bases)))

    scope: dict[str, str] = {}
    definitions: dict[str, OutlineArg] = {}
    deps: dict[str, set[str]] = {}
    for decl in dockerfile.global_args:
        _define(decl, scope, definitions, deps, build_args, lex)
    used: set[str] = set()
    for index in reachable:
        current = dockerfile.stages[index]
        for word in (current.from_.base, current.from_.platform or ""):
            used |= _names(lex, word, scope)
        for instruction in current.commands:
            if isinstance(instruction, Arg):
                for arg in instruction.args:
                    used.add(arg.key)
                    if arg.key not in definitions and (arg.value is not None or arg.key not in scope):
                        _define(Arg(args=(arg,), span=instruction.span), dict(scope), definitions, deps, build_args, lex)
    todo = list(used)
    while todo:
        name = todo.pop()
        for dep in deps.get(name, ()):
            if dep not in used:
                used.add(dep)
                todo.append(dep)
    args = sorted((d for n, d in definitions.items() if n in used), key=lambda d: (d.span.line, d.name))

    secrets: dict[str, OutlineSecret] = {}
    ssh: dict[str, OutlineSecret] = {}
    for index in reachable:
        for instruction in dockerfile.stages[index].commands:
            if not isinstance(instruction, Run):
                continue
            for mount in instruction.mounts:
                into = secrets if mount.type == "secret" else ssh if mount.type == "ssh" else None
                name = mount.effective_id
                if into is None or not name:
                    continue
                known = into.get(name)
                into[name] = OutlineSecret(name, mount.required or (known is not None and known.required), instruction.span)
    return Outline(
        name=stage_label(stage),
        description=stage.doc_comment,
        args=tuple(args),
        secrets=tuple(sorted(secrets.values(), key=lambda s: s.name)),
        ssh=tuple(sorted(ssh.values(), key=lambda s: s.name)),
    )


def _names(lex: ShellLex, word: str, scope: Mapping[str, str]) -> set[str]:
    try:
        result = lex.process(word, scope)
    except ShellExpansionError:
        return set()
    return set(result.matched | result.unmatched)


def _define(
    decl: Arg,
    scope: dict[str, str],
    definitions: dict[str, OutlineArg],
    deps: dict[str, set[str]],
    build_args: Mapping[str, str],
    lex: ShellLex,
) -> None:
    for arg in decl.args:
        value: str | None = None
        if arg.key in build_args:
            value = build_args[arg.key]
        elif arg.value is not None:
            deps[arg.key] = _names(lex, arg.value, scope)
            try:
                value = lex.process_word(arg.value, scope)
            except ShellExpansionError:
                value = arg.value
        if value is not None:
            scope[arg.key] = value
        definitions.setdefault(arg.key, OutlineArg(arg.key, value, arg.doc_comment, decl.span))
