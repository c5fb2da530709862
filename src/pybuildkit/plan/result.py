"""The planner's output: stages in dependency order, each a list of ops, plus the shared graph.

The executor reads `BuildPlan.ops` as a graph (every op names its inputs by id) and may run any op
whose inputs are done; `stages` gives the same ops grouped per stage for progress display.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from pybuildkit.errors import Span
from pybuildkit.oci.config import Image
from pybuildkit.oci.frozenmap import FrozenMap, freeze_map
from pybuildkit.plan.ops import CONTEXT_ID, ExecOp, FileOp, Op, SourceOp

__all__ = ["PlanWarning", "StagePlan", "BuildPlan"]


@attrs.frozen
class PlanWarning:
    """A non-fatal finding (`rule` names it, e.g. `UnusedBuildArg`); `span` when it has a line."""

    message: str
    span: Span | None = None
    rule: str = ""


@attrs.frozen
class StagePlan:
    """One planned stage. `name` is the lower-cased alias or `stage-N`; `result` is its last op id.

    `ops` are in execution order and include the stage's SourceOp first (an image, scratch, or the
    result of its base stage), plus SourceOps of images it reads with `--from`. `depends_on` are
    the indexes of stages whose results this stage reads (base stage, COPY --from, RUN --mount).
    """

    index: int
    name: str
    ops: tuple[Op, ...]
    result: str
    depends_on: tuple[int, ...] = ()
    alias: str | None = None
    platform: str = "linux/amd64"

    @property
    def image(self) -> Image:
        """The image config at the end of the stage."""
        return self.ops[-1].config

    @property
    def steps(self) -> tuple[Op, ...]:
        """The ops progress output numbers (`[build 2/5]`): image pulls, RUN, COPY/ADD, WORKDIR mkdir."""
        return tuple(
            op
            for op in self.ops
            if isinstance(op, (ExecOp, FileOp)) or (isinstance(op, SourceOp) and op.kind == "image")
        )


@attrs.frozen
class BuildPlan:
    """Stages in topological order (only those the target needs), the target, warnings, args used.

    `build_args_used` are the --build-arg names some planned instruction consumed; the rest were
    reported in `warnings`. `context` is the single build-context source every op refers to as
    `CONTEXT_ID`. `image` is the final image config, with `--label` values applied.
    """

    stages: tuple[StagePlan, ...]
    target: int
    context: SourceOp
    image: Image
    warnings: tuple[PlanWarning, ...] = ()
    build_args_used: frozenset[str] = frozenset()
    ops: FrozenMap[str, Op] = attrs.field(factory=FrozenMap, converter=freeze_map)

    @property
    def target_stage(self) -> StagePlan:
        for stage in self.stages:
            if stage.index == self.target:
                return stage
        raise KeyError(self.target)  # pragma: no cover - a plan always holds its target

    @property
    def result(self) -> str:
        """Op id of the final filesystem and config."""
        return self.target_stage.result

    def op(self, op_id: str) -> Op:
        if op_id == CONTEXT_ID:
            return self.context
        return self.ops[op_id]

    def to_json(self) -> dict[str, Any]:
        """A JSON view for `pybuild graph`/`explain` and debugging: stages, ops, inputs, meaning."""

        def op_json(op: Op) -> dict[str, Any]:
            out: dict[str, Any] = {"id": op.id, "inputs": list(op.inputs), **op.key_fields()}
            if op.created_by:
                out["created_by"] = op.created_by
            if op.span is not None:
                out["line"] = op.span.line
            return out

        return {
            "target": self.target,
            "result": self.result,
            "stages": [
                {
                    "index": s.index,
                    "name": s.name,
                    "platform": s.platform,
                    "depends_on": list(s.depends_on),
                    "result": s.result,
                    "ops": [op_json(op) for op in s.ops],
                }
                for s in self.stages
            ],
            "warnings": [w.message for w in self.warnings],
            "build_args_used": sorted(self.build_args_used),
        }

    def walk(self) -> Iterator[Op]:
        """Every op in an order where inputs come before the ops that read them."""
        yield self.context
        for stage in self.stages:
            yield from stage.ops
