"""`plan()`: a typed Dockerfile, build options and a base-image resolver in; a BuildPlan out.

The order of work follows BuildKit's front end so that the same Dockerfile fails with the same
error first: global ARGs, then every stage's base (blank names, platforms), then the stage graph
(cycles, unknown target), then only the stages the target needs are lowered, each after the stages
it reads. Base-image ONBUILD triggers are parsed and run first in the stage that uses the image,
exactly as if they had been written after its FROM.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from pybuildkit.errors import DockerfileError, PlanError, PybuildkitError, Span
from pybuildkit.model.instructions import Dockerfile, Instruction
from pybuildkit.oci.config import Image
from pybuildkit.oci.descriptor import Platform
from pybuildkit.plan.graph import StageGraph, StageInfo, analyze, expand_from_value, resolve_reference
from pybuildkit.plan.lower import DEFAULT_PATH, StageBuilder, StageHooks, scratch_image, with_env
from pybuildkit.plan.ops import CONTEXT_ID, SourceOp
from pybuildkit.plan.options import BaseResolver, PlanOptions
from pybuildkit.plan.result import BuildPlan, PlanWarning, StagePlan
from pybuildkit.plan.scope import BUILTIN_ARGS, global_args, platform_args, proxy_env
from pybuildkit.syntax.shell import ShellLex, env_from_list

__all__ = ["plan", "parse_trigger"]


def parse_trigger(expression: str, span: Span, path: str = "Dockerfile") -> Instruction:
    """One ONBUILD trigger text to its typed instruction, located at the FROM that runs it."""
    from pybuildkit.model.parse import from_node
    from pybuildkit.syntax import parse as parse_text  # type: ignore[attr-defined]

    try:
        document = parse_text(expression, path)
        if len(document.nodes) != 1:
            raise PlanError("onbuild trigger should be a single expression")
        node = attrs.evolve(document.nodes[0], span=span)
        if node.keyword.lower() in ("from", "maintainer", "onbuild"):
            if node.keyword.lower() == "onbuild":
                raise PlanError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
            raise PlanError(f"{node.keyword.upper()} isn't allowed as an ONBUILD trigger")
        return from_node(node)
    except DockerfileError as exc:
        exc.span = span
        raise exc from None


@attrs.define
class _Final:
    """What a finished stage hands to a stage built on it."""

    image: Image
    env: dict[str, str]
    args: list[tuple[str, str | None]]
    result: str
    platform: Platform


class _Planner:
    def __init__(self, dockerfile: Dockerfile, options: PlanOptions, resolver: BaseResolver | None) -> None:
        self.dockerfile = dockerfile
        self.options = options
        self.resolver = resolver
        self.lex = ShellLex(escape=dockerfile.escape)
        stages = dockerfile.stages
        target_name = options.target or (stages[-1].name if stages else None) or ""
        predefined = platform_args(
            options.platform, options.build_platform, target_name, options.build_args
        )
        self.scope, self.global_consumed = global_args(dockerfile.global_args, predefined, options.build_args, self.lex)
        self.consumed: set[str] = set()
        self.proxy = proxy_env(options.build_args)
        self.graph: StageGraph = analyze(dockerfile, self.lex, self.scope, options.target, self._parse_trigger)
        self.finals: dict[int, _Final] = {}
        self.in_progress: set[int] = set()
        self.plans: list[StagePlan] = []
        self.sources: dict[tuple[str, str, str], str] = {}
        self.context = SourceOp(id=CONTEXT_ID, kind="context", config=Image(), platform=str(options.platform))

    def _parse_trigger(self, expression: str, span: Span) -> Instruction:
        return parse_trigger(expression, span, self.dockerfile.path)

    # -- stages ---------------------------------------------------------------------------------

    def run(self) -> BuildPlan:
        for index in sorted(self.graph.reachable):
            self.ensure(index)
        target = self.finals[self.graph.target]
        image = target.image
        if self.options.labels:
            labels = dict(image.config.labels)
            labels.update(self.options.labels)
            image = attrs.evolve(image, config=attrs.evolve(image.config, labels=labels))
        for info in self.graph.stages:
            if info.index in self.finals:
                self.consumed |= info.args_matched & self.global_consumed
        given = set(self.options.build_args)
        unused = sorted(k for k in given - self.consumed if k not in BUILTIN_ARGS and k.upper() not in BUILTIN_ARGS)
        warnings = []
        if unused:
            warnings.append(
                PlanWarning(
                    message=f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed",
                    rule="UnusedBuildArg",
                )
            )
        ops = {op.id: op for stage in self.plans for op in stage.ops}
        return BuildPlan(
            stages=tuple(self.plans),
            target=self.graph.target,
            context=self.context,
            image=image,
            warnings=tuple(warnings),
            build_args_used=frozenset(given - set(unused)),
            ops=ops,
        )

    def ensure(self, index: int) -> _Final:
        if index in self.finals:
            return self.finals[index]
        info = self.graph.stages[index]
        if index in self.in_progress:
            raise PlanError(f"circular dependency detected on stage: {info.name}", info.span)
        self.in_progress.add(index)
        try:
            final = self._build(info)
        finally:
            self.in_progress.discard(index)
        self.finals[index] = final
        return final

    def _resolve_image(self, ref: str, platform: Platform, span: Span) -> Image:
        if self.resolver is None:
            raise PlanError(f"no resolver to read the config of base image {ref!r}", span)
        try:
            image = self.resolver.config_of(ref, platform)
        except DockerfileError as exc:
            raise exc.with_location(span, self.dockerfile.source or None) from None
        except PybuildkitError as exc:
            raise PlanError(f"{ref}: {exc.message}", span, hint=exc.hint) from exc
        if image is None:
            return scratch_image(platform.os, platform.architecture, platform.variant)
        return attrs.evolve(image, created=None)

    def _build(self, info: StageInfo) -> _Final:
        stage = self.dockerfile.stages[info.index]
        counter = iter(range(1_000_000))

        def next_id() -> str:
            return f"{info.index}:{next(counter)}"

        platform = info.platform or self.options.platform
        depends: list[int] = []
        triggers: tuple[Instruction, ...] = info.triggers
        base = info.base
        env: dict[str, str] | None = None
        args: list[tuple[str, str | None]] = []
        if base.kind == "stage" and base.stage is not None:
            parent = self.ensure(base.stage)
            depends.append(base.stage)
            image = attrs.evolve(parent.image, config=attrs.evolve(parent.image.config, on_build=()))
            env = dict(parent.env)
            args = list(parent.args)
            platform = parent.platform
            source = SourceOp(
                id=next_id(),
                kind="stage",
                ref=self.graph.stages[base.stage].name,
                inputs=(parent.result,),
                platform=str(platform),
                config=image,
                span=info.span,
                stage=info.name,
                display=f"FROM {self.graph.stages[base.stage].name}",
            )
        else:
            if base.kind == "scratch":
                image = scratch_image(platform.os, platform.architecture, platform.variant)
            else:
                image = self._resolve_image(info.base_text, platform, info.span)
                if image.config.on_build:
                    triggers = tuple(self._parse_trigger(t, info.span) for t in image.config.on_build)
                    image = attrs.evolve(image, config=attrs.evolve(image.config, on_build=()))
            source = SourceOp(
                id=next_id(),
                kind="scratch" if base.kind == "scratch" else "image",
                ref=info.base_text,
                platform=str(platform),
                config=image,
                span=info.span,
                stage=info.name,
                display=f"FROM {info.base_text}",
            )
        if "PATH" not in env_from_list(image.config.env) and image.os != "windows":
            image = attrs.evolve(image, config=attrs.evolve(image.config, env=with_env(image.config.env, "PATH", DEFAULT_PATH)))
            if env is not None:
                env.setdefault("PATH", DEFAULT_PATH)
            source = attrs.evolve(source, config=image)

        hooks = StageHooks(
            resolve_from=self._from_resolver(info, next_id, depends),
            next_id=next_id,
            lex=self.lex,
            build_args=self.options.build_args,
            global_scope=self.scope,
            proxy_env=self.proxy,
            consumed=self.consumed,
        )
        builder = StageBuilder(
            hooks=hooks,
            stage_name=info.name,
            image=image,
            parent=source.id,
            args=args,
            env=env,
            source=self.dockerfile.source,
        )
        builder.ops.append(source)
        for trigger in triggers:
            builder.lower(trigger)
        for command in stage.commands:
            builder.lower(command)
        self.plans.append(
            StagePlan(
                index=info.index,
                name=info.name,
                ops=tuple(builder.ops),
                result=builder.parent,
                depends_on=tuple(dict.fromkeys(depends)),
                alias=info.alias,
                platform=str(platform),
            )
        )
        return _Final(image=builder.image, env=builder.env, args=builder.args, result=builder.parent, platform=platform)

    def _from_resolver(
        self, info: StageInfo, next_id: Callable[[], str], depends: list[int]
    ) -> Callable[[str, Span, str], tuple[str, SourceOp | None]]:
        count = len(self.dockerfile.stages)

        def resolve(raw: str, span: Span, what: str) -> tuple[str, SourceOp | None]:
            value, _ = expand_from_value(self.lex, raw, self.scope, span)
            ref = resolve_reference(value, self.graph.names, count, span)
            if ref.kind == "stage" and ref.stage is not None:
                if ref.stage >= info.index:
                    if what == "copy":
                        message = f'cannot copy from stage "{value}", it needs to be defined before current stage "{info.name}"'
                    else:
                        message = f'cannot mount from stage "{value}", it needs to be defined before current stage "{info.name}"'
                    raise PlanError(message, span)
                depends.append(ref.stage)
                return self.ensure(ref.stage).result, None
            platform = str(self.options.platform)
            key = (ref.kind, ref.ref or "", platform)
            if key in self.sources:
                return self.sources[key], None
            op = SourceOp(
                id=next_id(),
                kind="scratch" if ref.kind == "scratch" else "image",
                ref=ref.ref,
                platform=platform,
                config=Image(),
                span=span,
                stage=info.name,
                display=f"FROM {ref.ref}",
            )
            self.sources[key] = op.id
            return op.id, op

        return resolve


def plan(dockerfile: Dockerfile, options: PlanOptions | None = None, resolver: BaseResolver | None = None) -> BuildPlan:
    """Plan the build of `options.target` (default: the last stage). Pure: no I/O happens here.

    `resolver` supplies base images' configs; it is only consulted for images the target needs.
    Raises PlanError (with the offending line's span) for Dockerfiles that cannot be built.
    """
    try:
        return _Planner(dockerfile, options or PlanOptions(), resolver).run()
    except DockerfileError as exc:
        if exc.source is None and dockerfile.source:
            exc.source = dockerfile.source
        if exc.span is not None and exc.span.file != dockerfile.path:
            exc.span = attrs.evolve(exc.span, file=dockerfile.path)
        raise
