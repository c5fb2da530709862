"""The per-step report of a build: what ran, what came from the cache, why, and the critical path.

The critical path is the chain of steps that decided the build's wall-clock time: the target
stage's steps, preceded by the dependency stage that finished last, and so on back. It tells a
user which stage to speed up; a parallel stage that finished early is not on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from pybuildkit.execute.events import Step

__all__ = ["StepRecord", "BuildReport", "critical_path"]


@attrs.frozen
class StepRecord:
    """One step's outcome: cached or run, for how long, its cache key and why it ran."""

    step: Step
    cached: bool
    seconds: float
    started: float
    finished: float
    key: str = ""
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.step.id,
            "name": self.step.label,
            "stage": self.step.stage,
            "cached": self.cached,
            "seconds": round(self.seconds, 6),
            "cache_key": self.key,
            "reason": self.reason,
        }


@attrs.frozen
class BuildReport:
    """Every step of a build (cached or run, seconds, the reason it ran), the wall time and the
    critical path; `to_json()` is what `--report` and the metadata file carry."""

    steps: tuple[StepRecord, ...]
    seconds: float
    critical_path: tuple[str, ...] = ()

    @property
    def ran(self) -> int:
        return sum(1 for s in self.steps if not s.cached)

    @property
    def cached(self) -> int:
        return sum(1 for s in self.steps if s.cached)

    def slowest(self, n: int = 3) -> list[StepRecord]:
        return sorted((s for s in self.steps if not s.cached), key=lambda s: -s.seconds)[:n]

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 6),
            "steps_run": self.ran,
            "steps_cached": self.cached,
            "steps": [s.to_json() for s in self.steps],
            "critical_path": list(self.critical_path),
        }


def critical_path(
    records: Sequence[StepRecord], stage_deps: Mapping[str, Sequence[str]], target: str
) -> tuple[str, ...]:
    """Step ids on the critical path ending at `target`, earliest first."""
    by_stage: dict[str, list[StepRecord]] = {}
    for record in records:
        by_stage.setdefault(record.step.stage, []).append(record)
    path: list[str] = []
    stage: str | None = target
    seen: set[str] = set()
    while stage is not None and stage not in seen:
        seen.add(stage)
        steps = sorted(by_stage.get(stage, []), key=lambda r: r.step.index)
        path[:0] = [r.step.id for r in steps]
        deps = [d for d in stage_deps.get(stage, ()) if by_stage.get(d)]
        stage = max(deps, key=lambda d: max(r.finished for r in by_stage[d]), default=None)
    return tuple(path)
