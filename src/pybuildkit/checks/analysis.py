"""The facts the check rules read: stages, FROM-line expansions, and each instruction's scope.

BuildKit finds most of its lint problems while converting the Dockerfile (it knows which variables
were unset at each expansion, whether a SHELL or WORKDIR was set by an earlier stage, ...). This
module walks the stages once in the same order with the same ARG/ENV scoping and records those
facts, so each rule stays a small function over plain data and no rule re-implements scoping.

The walk never fails on a Dockerfile that converts badly: a node that does not type-check stops the
walk there (the error is kept for the caller), and expansion errors are left for the build to
report. Pure code: base images' configs come from an optional lookup function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import attrs

from pybuildkit.checks.suggest import suggest
from pybuildkit.errors import DockerfileError, ParseError
from pybuildkit.model import from_node, get_comment
from pybuildkit.model.instructions import (
    Add,
    Arg,
    Copy,
    Dockerfile,
    Env,
    Expose,
    From,
    Instruction,
    Label,
    Run,
    Shell,
    Stage,
    Stopsignal,
    User,
    Volume,
    Workdir,
)
from pybuildkit.oci.descriptor import Platform
from pybuildkit.plan.scope import platform_args
from pybuildkit.syntax.ast import Document, Node
from pybuildkit.syntax.shell import ShellExpansionError, ShellLex, ShellResult, expand_raw

__all__ = [
    "DEFAULT_PATH",
    "NON_ENV_ARGS",
    "BaseImage",
    "BaseLookup",
    "Undefined",
    "FromFacts",
    "Step",
    "Analysis",
    "analyse",
    "parse_platform",
    "written_keyword",
    "node_at",
    "stage_dependencies",
    "reachable_stages",
]

#: BuildKit puts PATH into every stage's environment when the base image does not set it.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: ARGs that never become environment variables (BuildKit's SBOM switches).
NON_ENV_ARGS = frozenset({"BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"})


@attrs.frozen
class BaseImage:
    """What the checks need from a base image's config: its env, SHELL and platform."""

    env: tuple[str, ...] = ()
    shell: tuple[str, ...] | None = None
    platform: str | None = None


BaseLookup = Callable[[str], "BaseImage | None"]
"""Maps an expanded FROM value to its image's facts, or None when unknown (treated like scratch)."""


@attrs.frozen
class Undefined:
    """A variable looked up and not set, with the closest known name ("" when none is close)."""

    name: str
    suggestion: str = ""


@attrs.frozen
class FromFacts:
    """One stage's FROM line after global-scope expansion."""

    stage: Stage
    keys: frozenset[str]
    base: ShellResult | None
    platform: ShellResult | None
    target_platform: str
    default_base: str | None
    base_image: BaseImage | None = None

    @property
    def undefined(self) -> tuple[Undefined, ...]:
        """Unset names used by the base name, then by --platform (BuildKit's order)."""
        out: list[Undefined] = []
        for result in (self.base, self.platform):
            if result is None:
                continue
            for name in sorted(result.unmatched - self.keys):
                out.append(Undefined(name, suggest(name, self.keys)))
        return tuple(out)


@attrs.frozen
class Step:
    """One instruction of a dispatched stage, with the scope it ran in.

    `shell_set`/`workdir_set` say whether a SHELL / WORKDIR was set before it (inherited from base
    stages too); `expanded` holds the values after expansion that rules inspect (WORKDIR path,
    EXPOSE ports, COPY/ADD sources).
    """

    stage: Stage
    instruction: Instruction
    keyword: str
    shell_set: bool
    workdir_set: bool
    undefined: tuple[Undefined, ...] = ()
    expanded: tuple[str, ...] = ()


@attrs.frozen
class Analysis:
    document: Document
    global_args: tuple[Arg, ...]
    stages: tuple[Stage, ...]
    froms: tuple[FromFacts, ...]
    steps: tuple[Step, ...]
    error: DockerfileError | None = None
    ignored: Callable[[str], bool] | None = None


def written_keyword(instruction: Instruction) -> str:
    """The keyword as the user typed it (`From`, `copy`): casing rules need it."""
    first = instruction.original.strip().split(None, 1)
    if first and first[0].lower() == instruction.keyword:
        return first[0]
    return instruction.keyword.upper()


_PLATFORM_PART = re.compile(r"[A-Za-z0-9_.-]+")
_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64"}


def parse_platform(text: str) -> Platform | None:
    """containerd-style `os[/arch[/variant]]`; None when it cannot be a platform."""
    parts = text.split("/")
    if not 1 <= len(parts) <= 3 or not all(_PLATFORM_PART.fullmatch(p) for p in parts):
        return None
    arch = parts[1].lower() if len(parts) > 1 else "amd64"
    return Platform(
        architecture=_ARCH_ALIASES.get(arch, arch),
        os=parts[0].lower(),
        variant=parts[2] if len(parts) > 2 else None,
    )


def _tolerant_stages(document: Document) -> tuple[tuple[Arg, ...], tuple[Stage, ...], DockerfileError | None]:
    """Like `model.parse_dockerfile`, but duplicate stage names are allowed (a lint, not an error
    here) and the first bad instruction ends the list instead of raising."""
    global_args: list[Arg] = []
    stages: list[Stage] = []
    commands: list[Instruction] = []
    error: DockerfileError | None = None

    def close() -> None:
        if stages:
            stages[-1] = attrs.evolve(stages[-1], commands=tuple(commands))

    for node in document.nodes:
        try:
            instruction = from_node(node)
            if not isinstance(instruction, (From, Arg)) and not stages:
                raise ParseError(
                    f"no build stage in current context: {node.keyword.upper()} comes before the first FROM",
                    hint="only ARG may appear before the first FROM",
                )
        except DockerfileError as exc:
            error = exc.with_location(node.span, document.source or None)
            break
        if isinstance(instruction, From):
            close()
            commands = []
            stages.append(
                Stage(
                    index=len(stages),
                    from_=instruction,
                    name=instruction.alias,
                    doc_comment=get_comment(node.prev_comment, instruction.alias or ""),
                )
            )
        elif not stages:
            assert isinstance(instruction, Arg)
            global_args.append(instruction)
        else:
            commands.append(instruction)
    close()
    return tuple(global_args), tuple(stages), error


@attrs.define
class _Scope:
    env: dict[str, str]
    build_args: set[str] = attrs.field(factory=set)
    shell_set: bool = False
    workdir_set: bool = False

    def copy(self) -> _Scope:
        return _Scope(dict(self.env), set(self.build_args), self.shell_set, self.workdir_set)


def _meta_args(global_args: tuple[Arg, ...], scope: dict[str, str], build_args: Mapping[str, str], lex: ShellLex) -> dict[str, str] | None:
    """BuildKit's buildMetaArgs: the FROM-line scope; None if a default does not expand."""
    scope = dict(scope)
    for decl in global_args:
        for arg in decl.args:
            if arg.key in build_args:
                scope[arg.key] = build_args[arg.key]
            elif arg.value is not None:
                try:
                    scope[arg.key] = lex.process_word(arg.value, scope)
                except ShellExpansionError:
                    return None
    return scope


def _expand(lex: ShellLex, word: str, env: Mapping[str, str]) -> ShellResult | None:
    try:
        return lex.process(word, env)
    except ShellExpansionError:
        return None


class _Walker:
    """Dispatches one stage's instructions over a scope, recording a Step for each."""

    def __init__(self, lex: ShellLex, build_args: Mapping[str, str], meta: Mapping[str, str]) -> None:
        self.lex = lex
        self.build_args = build_args
        self.meta = meta
        self.steps: list[Step] = []

    def run(self, stage: Stage, scope: _Scope) -> _Scope:
        for instruction in stage.commands:
            env = dict(scope.env)
            unset: list[str] = []
            expanded: list[str] = []

            def word(text: str | None, raw: bool = False) -> str:
                if text is None:
                    return ""
                try:
                    result = expand_raw(text, env) if raw else self.lex.process(text, env)
                except ShellExpansionError:
                    return text
                unset.extend(sorted(result.unmatched))
                return result.value

            shell_before, workdir_before = scope.shell_set, scope.workdir_set
            if isinstance(instruction, Env):
                for pair in instruction.env:
                    key, value = word(pair.key), word(pair.value)
                    scope.env[key] = value
            elif isinstance(instruction, Label):
                for pair in instruction.labels:
                    word(pair.key)
                    word(pair.value)
            elif isinstance(instruction, (Copy, Add)):
                expanded.extend(word(source) for source in instruction.sources)
                for text in (instruction.dest, instruction.chown, instruction.chmod):
                    word(text)
                for content in instruction.contents:
                    if content.expand:
                        word(content.data, raw=True)
            elif isinstance(instruction, Workdir):
                expanded.append(word(instruction.path))
                scope.workdir_set = True
            elif isinstance(instruction, User):
                word(instruction.user)
            elif isinstance(instruction, Volume):
                for volume in instruction.volumes:
                    word(volume)
            elif isinstance(instruction, Stopsignal):
                word(instruction.signal)
            elif isinstance(instruction, Expose):
                for port in instruction.ports:
                    result = _expand(self.lex, port, env)
                    expanded.extend(result.words if result is not None else (port,))
            elif isinstance(instruction, Shell):
                scope.shell_set = bool(instruction.shell)
            elif isinstance(instruction, Arg):
                self._arg(instruction, scope, word)
            undefined = tuple(
                Undefined(name, suggest(name, env))
                for name in dict.fromkeys(unset)
                if name not in scope.build_args and name not in NON_ENV_ARGS
            )
            self.steps.append(
                Step(
                    stage=stage,
                    instruction=instruction,
                    keyword=written_keyword(instruction),
                    shell_set=shell_before,
                    workdir_set=workdir_before,
                    undefined=undefined,
                    expanded=tuple(expanded),
                )
            )
        return scope

    def _arg(self, instruction: Arg, scope: _Scope, word: Callable[..., str]) -> None:
        for arg in instruction.args:
            value: str | None
            if arg.key in self.build_args:
                value = self.build_args[arg.key]
            elif arg.value is not None:
                value = word(arg.value)
            else:
                value = self.meta.get(arg.key)
            if value is not None and arg.key not in NON_ENV_ARGS:
                scope.env[arg.key] = value
            scope.build_args.add(arg.key)


def stage_dependencies(stages: tuple[Stage, ...], bases: list[int | None]) -> list[set[int]]:
    by_name = {s.name: s.index for s in stages if s.name}
    deps: list[set[int]] = []
    for stage in stages:
        found: set[int] = set()
        if bases[stage.index] is not None:
            found.add(bases[stage.index])  # type: ignore[arg-type]
        for instruction in stage.commands:
            refs: list[str] = []
            if isinstance(instruction, Copy) and instruction.from_:
                refs.append(instruction.from_)
            if isinstance(instruction, Run):
                refs.extend(m.from_ for m in instruction.mounts if m.from_)
            for ref in refs:
                if ref.isdigit() and int(ref) < len(stages):
                    found.add(int(ref))
                elif ref.lower() in by_name:
                    found.add(by_name[ref.lower()])
        deps.append(found)
    return deps


def reachable_stages(target: int, deps: list[set[int]]) -> set[int]:
    seen: set[int] = set()
    todo = [target]
    while todo:
        index = todo.pop()
        if index not in seen:
            seen.add(index)
            todo.extend(deps[index])
    return seen


def analyse(
    document: Document,
    dockerfile: Dockerfile | None = None,
    *,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    platform: str | None = None,
    base_lookup: BaseLookup | None = None,
    ignored: Callable[[str], bool] | None = None,
) -> Analysis:
    """Walk `document` (typed as `dockerfile` when the caller has it) and record the facts.

    With no `target` every stage is walked (what `--call=check` does); with one, only the stages
    it needs (what a build dispatches).
    """
    build_args = dict(build_args or {})
    if dockerfile is not None:
        global_args, stages, error = dockerfile.global_args, dockerfile.stages, None
    else:
        global_args, stages, error = _tolerant_stages(document)
    lex = ShellLex(escape=document.directives.escape)
    target_platform = parse_platform(platform or "linux/amd64") or Platform("amd64", "linux")
    host = Platform("amd64", "linux")
    target_name = target or (stages[-1].name if stages else "") or ""
    predefined = platform_args(target_platform, host, target_name, build_args)
    meta = _meta_args(global_args, predefined, build_args, lex) or dict(predefined)
    defaults = _meta_args(global_args, platform_args(target_platform, host, target_name, {}), {}, lex)
    keys = frozenset(meta) | {a.key for decl in global_args for a in decl.args}

    froms: list[FromFacts] = []
    bases: list[int | None] = []
    names: dict[str, int] = {}
    for stage in stages:
        base = _expand(lex, stage.from_.base, meta)
        plat = _expand(lex, stage.from_.platform, meta) if stage.from_.platform else None
        default_base = None
        if defaults is not None:
            result = _expand(lex, stage.from_.base, defaults)
            default_base = result.value if result is not None else None
        base_name = base.value if base is not None else stage.from_.base
        base_index = names.get(base_name.lower())
        bases.append(base_index)
        image = None
        if base_index is None and base_lookup is not None and base_name != "scratch":
            image = base_lookup(base_name)
        froms.append(
            FromFacts(
                stage=stage,
                keys=keys,
                base=base,
                platform=plat,
                target_platform=meta.get("TARGETPLATFORM", str(target_platform)),
                default_base=default_base,
                base_image=image,
            )
        )
        if stage.name:
            names[stage.name] = stage.index

    dispatch = set(range(len(stages)))
    if target is not None:
        wanted = [s.index for s in stages if s.name and s.name == target.lower()]
        if wanted:
            dispatch = reachable_stages(wanted[0], stage_dependencies(stages, bases))

    walker = _Walker(lex, build_args, meta)
    finals: dict[int, _Scope] = {}
    for stage in stages:
        base_index = bases[stage.index]
        if base_index is not None and base_index in finals:
            scope = finals[base_index].copy()
        else:
            image = froms[stage.index].base_image
            env = dict(pair.partition("=")[::2] for pair in image.env) if image else {}
            env.setdefault("PATH", DEFAULT_PATH)
            scope = _Scope(env=env, shell_set=bool(image and image.shell))
        if stage.index in dispatch:
            finals[stage.index] = walker.run(stage, scope)
        else:
            finals[stage.index] = scope
    return Analysis(
        document=document,
        global_args=global_args,
        stages=stages,
        froms=tuple(froms),
        steps=tuple(walker.steps),
        error=error,
        ignored=ignored,
    )


def node_at(document: Document, line: int) -> Node | None:
    """The AST node that starts on `line` (instructions carry spans, nodes carry raw words)."""
    for node in document.nodes:
        if node.span.line == line:
            return node
    return None
