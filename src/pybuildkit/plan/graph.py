"""The stage graph: what each FROM, `COPY --from` and `RUN --mount from=` refers to.

This runs before any lowering so that the errors BuildKit reports up front (blank base name, a
cycle between stages, an unknown target) come out the same way whatever the target, and so that
`--target` can prune the stages the target does not need.

`--from` values are expanded with the global (FROM-line) ARG scope. BuildKit itself rejects a
variable there ("variable expansion is not supported for --from"); accepting the same scope FROM
uses is a strict extension that lets a Dockerfile pick a stage with a --build-arg.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import attrs

from pybuildkit.errors import DockerfileError, PlanError, Span
from pybuildkit.model.instructions import Copy, Dockerfile, Instruction, Onbuild, Run
from pybuildkit.oci.descriptor import Platform
from pybuildkit.plan.options import parse_platform
from pybuildkit.syntax.shell import ShellLex

__all__ = [
    "SCRATCH",
    "StageRef",
    "StageInfo",
    "StageGraph",
    "analyze",
    "resolve_reference",
    "expand_from_value",
]

SCRATCH = "scratch"
_INDEX = re.compile(r"[+-]?[0-9]+")

TriggerParser = Callable[[str, Span], Instruction]


@attrs.frozen
class StageRef:
    """What a stage reference means: `stage` (by index), `image` (by ref) or `scratch`."""

    kind: str
    stage: int | None = None
    ref: str | None = None


@attrs.frozen
class StageInfo:
    """One stage before lowering: its resolved base, platform and the stages it reads."""

    index: int
    name: str
    alias: str | None
    base: StageRef
    base_text: str
    span: Span
    platform: Platform | None = None
    deps: tuple[tuple[int, Span], ...] = ()
    triggers: tuple[Instruction, ...] = ()
    args_matched: frozenset[str] = frozenset()


@attrs.frozen
class StageGraph:
    stages: tuple[StageInfo, ...]
    names: Mapping[str, int]
    target: int
    reachable: frozenset[int]


def expand_from_value(lex: ShellLex, value: str, scope: Mapping[str, str], span: Span) -> tuple[str, frozenset[str]]:
    """A FROM base / --from value expanded with the global scope; the names it used."""
    try:
        result = lex.process_word_with_matches(value, scope)
    except DockerfileError as exc:
        raise exc.with_location(span) from None
    return result.value, result.matched


def resolve_reference(value: str, names: Mapping[str, int], count: int, span: Span) -> StageRef:
    """`--from` value: a stage index, a stage name (case-insensitive), scratch, or an image ref."""
    if _INDEX.fullmatch(value):
        index = int(value)
        if not 0 <= index < count:
            raise PlanError(f"invalid stage index {index}", span)
        return StageRef("stage", stage=index)
    found = names.get(value.lower())
    if found is not None:
        return StageRef("stage", stage=found)
    if value == SCRATCH:
        return StageRef("scratch", ref=SCRATCH)
    return StageRef("image", ref=value)


def _display_name(index: int, alias: str | None) -> str:
    return alias or f"stage-{index}"


def _references(
    commands: Sequence[Instruction], lex: ShellLex, scope: Mapping[str, str], names: Mapping[str, int], count: int
) -> tuple[list[tuple[int, Span]], set[str]]:
    """Stages read by COPY --from and RUN --mount from= (images and scratch are not stage deps)."""
    deps: list[tuple[int, Span]] = []
    matched: set[str] = set()
    for cmd in commands:
        values: list[str] = []
        if isinstance(cmd, Copy) and cmd.from_:
            values.append(cmd.from_)
        elif isinstance(cmd, Run):
            values.extend(m.from_ for m in cmd.mounts if m.from_ and m.type != "tmpfs")
        for raw in values:
            value, used = expand_from_value(lex, raw, scope, cmd.span)
            matched |= used
            ref = resolve_reference(value, names, count, cmd.span)
            if ref.kind == "stage" and ref.stage is not None:
                deps.append((ref.stage, cmd.span))
    return deps, matched


def _check_cycles(stages: Sequence[StageInfo]) -> None:
    """BuildKit's validateCircularDependency: depth-first from every stage in file order."""
    visited: set[int] = set()
    path: set[int] = set()

    def visit(index: int, trail: tuple[Span, ...]) -> tuple[Span, ...] | None:
        if index in visited:
            return None
        visited.add(index)
        path.add(index)
        for dep, span in stages[index].deps:
            step = (*trail, span)
            if dep in path:
                return step
            found = visit(dep, step)
            if found is not None:
                return found
        path.discard(index)
        return None

    for stage in stages:
        trail = visit(stage.index, ())
        if trail is not None:
            raise PlanError(f"circular dependency detected on stage: {stage.name}", trail[0])


def analyze(
    dockerfile: Dockerfile,
    lex: ShellLex,
    scope: Mapping[str, str],
    target: str | None,
    parse_trigger: TriggerParser,
) -> StageGraph:
    """Resolve every stage's base and references, check cycles, select the target and its needs."""
    count = len(dockerfile.stages)
    if count == 0:
        raise PlanError("dockerfile contains no stages to build")
    earlier: dict[str, int] = {}
    defined_at: dict[str, list[int]] = {}
    for st in dockerfile.stages:
        if st.name:
            defined_at.setdefault(st.name, []).append(st.index)
    bases: list[tuple[StageRef, str, Platform | None, frozenset[str]]] = []
    for i, st in enumerate(dockerfile.stages):
        span = st.from_.span
        base, used = expand_from_value(lex, st.from_.base, scope, span)
        if base == "":
            raise PlanError(f"base name ({st.from_.base}) should not be blank", span)
        key = base.lower()
        if key in earlier:
            ref = StageRef("stage", stage=earlier[key])
        elif any(j > i for j in defined_at.get(key, ())):
            raise PlanError(
                f"stage {base!r} is defined after this FROM; a stage can only be based on an earlier stage", span
            )
        elif base == SCRATCH:
            ref = StageRef("scratch", ref=SCRATCH)
        else:
            ref = StageRef("image", ref=base)
        platform = None
        if st.from_.platform:
            text, more = expand_from_value(lex, st.from_.platform, scope, span)
            used = used | more
            if text == "":
                raise PlanError(f"empty platform value from expression {st.from_.platform}", span)
            try:
                platform = parse_platform(text)
            except ValueError as exc:
                raise PlanError(f"failed to parse platform {st.from_.platform}: {exc}", span) from None
        bases.append((ref, base, platform, used))
        if st.name:
            earlier[st.name] = i
    names = dict(earlier)

    infos: list[StageInfo] = []
    for i, st in enumerate(dockerfile.stages):
        ref, base_text, platform, used = bases[i]
        triggers: tuple[Instruction, ...] = ()
        if ref.kind == "stage" and ref.stage is not None:
            triggers = tuple(
                parse_trigger(cmd.expression, st.from_.span)
                for cmd in dockerfile.stages[ref.stage].commands
                if isinstance(cmd, Onbuild)
            )
        deps, matched = _references((*triggers, *st.commands), lex, scope, names, count)
        infos.append(
            StageInfo(
                index=i,
                name=_display_name(i, st.name),
                alias=st.name,
                base=ref,
                base_text=base_text,
                span=st.from_.span,
                platform=platform,
                deps=tuple(deps),
                triggers=triggers,
                args_matched=frozenset(used | matched),
            )
        )
    _check_cycles(infos)

    if target:
        chosen = names.get(target.lower())
        if chosen is None:
            known = ", ".join(sorted(names)) or "none"
            raise PlanError(f'target stage "{target}" could not be found', hint=f"stages with a name: {known}")
    else:
        chosen = count - 1

    reachable: set[int] = set()
    todo = [chosen]
    while todo:
        index = todo.pop()
        if index in reachable:
            continue
        reachable.add(index)
        info = infos[index]
        if info.base.kind == "stage" and info.base.stage is not None:
            todo.append(info.base.stage)
        todo.extend(dep for dep, _ in info.deps)
    return StageGraph(stages=tuple(infos), names=names, target=chosen, reachable=frozenset(reachable))
