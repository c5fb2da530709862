"""Plain and json progress and the summary, compared to committed snapshots of a made-up build."""

from __future__ import annotations

import io
import json
from pathlib import Path

import attrs
import pytest

from pybuildkit.cli.progress import (
    JsonProgress,
    PlainProgress,
    QuietProgress,
    StepRecorder,
    failure_json,
    format_failure,
    format_summary,
    report_json,
    summary_json,
)
from pybuildkit.errors import ExecError, ParseError
from pybuildkit.execute.request import BuildResult
from tests.unit.cli.events import fixed_build, fixed_report

SNAPSHOTS = Path(__file__).parent / "snapshots"


def render(sink_type: type, *, fail: bool) -> str:
    out = io.StringIO()
    sink = sink_type(out)
    for event in fixed_build(fail=fail):
        sink(event)
    return out.getvalue()


@pytest.mark.parametrize(
    ("sink_type", "fail", "snapshot"),
    [
        (PlainProgress, False, "plain.txt"),
        (PlainProgress, True, "plain_failed.txt"),
        (JsonProgress, False, "json.txt"),
    ],
)
def test_progress_matches_snapshot(sink_type: type, fail: bool, snapshot: str) -> None:
    assert render(sink_type, fail=fail) == (SNAPSHOTS / snapshot).read_text()


def test_json_progress_is_one_object_per_line() -> None:
    lines = render(JsonProgress, fail=False).splitlines()
    kinds = [json.loads(line)["event"] for line in lines]
    assert kinds[0] == "build.started" and kinds[-1] == "build.finished"
    assert {"step.started", "step.log", "step.cached", "step.finished", "warning"} <= set(kinds)


def test_quiet_prints_nothing() -> None:
    sink = QuietProgress()
    for event in fixed_build():
        assert sink(event) is None


def test_summary_matches_snapshot() -> None:
    assert format_summary(fixed_report()) + "\n" == (SNAPSHOTS / "summary.txt").read_text()


def test_summary_of_a_fully_cached_build_is_one_line() -> None:
    report = fixed_report()
    cached = attrs.evolve(report, steps=tuple(attrs.evolve(r, cached=True, seconds=0.0) for r in report.steps), seconds=0.03)
    assert format_summary(cached) == "Built in 0.03s: 0 of 7 steps run, 7 cached (100% from cache)"


def test_summary_cuts_long_step_names() -> None:
    report = fixed_report()
    long = attrs.evolve(report.steps[3], step=attrs.evolve(report.steps[3].step, name="RUN " + "x" * 300))
    text = format_summary(attrs.evolve(report, steps=(*report.steps[:3], long, *report.steps[4:])), width=60)
    assert all(len(line) <= 60 for line in text.splitlines())


def test_report_json_is_the_report_plus_image_and_warnings() -> None:
    result = BuildResult(
        digest="sha256:" + "1" * 64, config_digest="sha256:" + "2" * 64, tags=("app:dev",),
        report=fixed_report(), warnings=("JSONArgsRecommended",), cache_mismatches=(),
    )
    data = report_json(result)
    assert {k: data[k] for k in ("image", "warnings", "cache_mismatches")} == {
        "image": {"digest": "sha256:" + "1" * 64, "config_digest": "sha256:" + "2" * 64, "tags": ["app:dev"]},
        "warnings": ["JSONArgsRecommended"],
        "cache_mismatches": [],
    }
    assert {k: v for k, v in data.items() if k in fixed_report().to_json()} == fixed_report().to_json()
    assert summary_json(fixed_report())["event"] == "build.summary"
    json.dumps(data)


def test_a_failed_build_still_has_a_summary_and_a_report() -> None:
    seen: list[object] = []
    recorder = StepRecorder(seen.append)
    events = fixed_build(fail=True)
    for event in events:
        recorder(event)
    assert seen == events
    assert format_failure(recorder) == "Failed after 1.20s at [final 3/3] RUN echo final: 3 of 7 steps run, 4 cached"
    data = failure_json(recorder, ExecError("/bin/sh -c echo final", 1))
    assert data["ok"] is False and data["steps_run"] == 3 and data["steps_cached"] == 4
    assert data["failed_step"] == {"id": "final/3", "name": "[final 3/3] RUN echo final", "error": events[-2].error}  # type: ignore[attr-defined]
    assert "exit code 1" in str(data["error"])
    steps = data["steps"]
    assert isinstance(steps, list) and steps[3] == {
        "id": "other/2", "name": "[other 2/2] RUN seq 1 8", "stage": "other", "cached": False, "seconds": 1.0, "reason": "the command changed",
    }
    json.dumps(data)


def test_no_failure_summary_before_any_step() -> None:
    recorder = StepRecorder(lambda event: None)
    assert format_failure(recorder) == ""
    assert failure_json(recorder, ParseError("unknown instruction: FROBNICATE"))["steps"] == []
