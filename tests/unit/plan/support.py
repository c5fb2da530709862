"""Planning from Dockerfile text with a dictionary-backed base-image resolver.

A fake resolver is right here: the planner is the layer above it, and these tests check what the
planner does with a config, not how configs are fetched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pybuildkit.model import parse_dockerfile
from pybuildkit.oci.config import Image, ImageConfig
from pybuildkit.oci.descriptor import Platform
from pybuildkit.plan import BuildPlan, ExecOp, Op, PlanOptions, plan
from pybuildkit.syntax import parse

__all__ = ["FakeResolver", "make_plan", "ops_of", "last", "run_ops", "image"]


@attrs.define
class FakeResolver:
    """Configs by ref; unknown refs resolve to None (no config), every call is recorded."""

    images: Mapping[str, Image] = attrs.field(factory=dict)
    calls: list[tuple[str, str]] = attrs.field(factory=list)

    def config_of(self, ref: str, platform: Platform) -> Image | None:
        self.calls.append((ref, str(platform)))
        return self.images.get(ref)


def image(**config: Any) -> Image:
    """A base image whose `config` has the given ImageConfig fields."""
    return Image(config=ImageConfig(**config))


def make_plan(text: str, resolver: FakeResolver | None = None, **options: Any) -> BuildPlan:
    return plan(parse_dockerfile(parse(text, "Dockerfile")), PlanOptions(**options), resolver or FakeResolver())


def ops_of(result: BuildPlan, stage: int | None = None) -> tuple[Op, ...]:
    target = result.target if stage is None else stage
    return next(s for s in result.stages if s.index == target).ops


def last(result: BuildPlan) -> Op:
    return ops_of(result)[-1]


def run_ops(result: BuildPlan) -> list[ExecOp]:
    return [op for op in ops_of(result) if isinstance(op, ExecOp)]
