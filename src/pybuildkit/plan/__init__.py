"""pybuildkit.plan: the meaning of a Dockerfile as a graph of a few operation kinds (no I/O).

`plan(dockerfile, options, resolver)` resolves stages and their references, scopes ARG and ENV as
BuildKit does, prunes to `--target`, and lowers each instruction into a `SourceOp`, `ExecOp`,
`FileOp` or `ConfigOp` carrying the image config after it and its history text.
"""

from __future__ import annotations

from pybuildkit.plan.ops import (
    CONTEXT_ID,
    HISTORY_COMMENT,
    ConfigOp,
    CopySource,
    ExecFile,
    ExecMount,
    ExecOp,
    FileOp,
    Op,
    SourceOp,
)
from pybuildkit.plan.options import DEFAULT_PLATFORM, BaseResolver, PlanOptions, parse_platform
from pybuildkit.plan.planner import plan
from pybuildkit.plan.result import BuildPlan, PlanWarning, StagePlan

__all__ = [
    "plan",
    "PlanOptions",
    "BaseResolver",
    "DEFAULT_PLATFORM",
    "parse_platform",
    "BuildPlan",
    "StagePlan",
    "PlanWarning",
    "Op",
    "SourceOp",
    "ExecOp",
    "ExecMount",
    "ExecFile",
    "FileOp",
    "CopySource",
    "ConfigOp",
    "CONTEXT_ID",
    "HISTORY_COMMENT",
]
