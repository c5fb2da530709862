"""The critical path follows the dependency that finished last, back from the target stage."""

from __future__ import annotations

import pytest

from pybuildkit.execute.events import Step
from pybuildkit.execute.report import BuildReport, StepRecord, critical_path


def record(stage: str, index: int, started: float, finished: float, cached: bool = False) -> StepRecord:
    step = Step(id=f"{stage}-{index}", stage=stage, index=index, total=9, name=f"RUN {stage}{index}")
    return StepRecord(step=step, cached=cached, seconds=finished - started, started=started, finished=finished)


RECORDS = [
    record("deps", 1, 0.0, 1.0),
    record("deps", 2, 1.0, 5.0),
    record("assets", 1, 0.0, 2.0),
    record("final", 1, 5.0, 5.5),
    record("final", 2, 5.5, 6.0, cached=True),
]


@pytest.mark.parametrize(
    ("deps", "target", "expected"),
    [
        ({"final": ["deps", "assets"]}, "final", ("deps-1", "deps-2", "final-1", "final-2")),
        ({"final": ["assets"]}, "final", ("assets-1", "final-1", "final-2")),
        ({}, "deps", ("deps-1", "deps-2")),
        ({"final": ["final"]}, "final", ("final-1", "final-2")),
    ],
)
def test_critical_path(deps, target, expected):
    assert critical_path(RECORDS, deps, target) == expected


def test_report_counts_and_slowest():
    report = BuildReport(steps=tuple(RECORDS), seconds=6.0)
    assert (report.ran, report.cached) == (4, 1)
    assert [r.step.id for r in report.slowest(2)] == ["deps-2", "assets-1"]
    assert report.to_json()["steps_cached"] == 1
