"""What `pybuild build` prints for a real build, plain and json, against committed snapshots.

Times and digests change from run to run, so they are normalised first; everything else (step
numbering, cache lines, the RUN output, the summary's shape) must match byte for byte. After a
deliberate change of the output, rerun with PYBUILDKIT_UPDATE_SNAPSHOTS=1 and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from pybuildkit.cli.main import main
from tests.support.build import Builder, builder, requires_root  # noqa: F401 - fixture

pytestmark = [pytest.mark.integration, requires_root]

SNAPSHOTS = Path(__file__).resolve().parents[1] / "unit" / "cli" / "snapshots"

DOCKERFILE = """\
FROM busybox
RUN echo one && echo two
RUN printf 'three\\nfour'
"""


def normalise_plain(text: str) -> str:
    text = re.sub(r"sha256:[0-9a-f]{64}", "sha256:<digest>", text)
    text = re.sub(r"^(#\d+) \d+\.\d{3} ", r"\1 0.000 ", text, flags=re.M)
    text = re.sub(r"\d+\.\d+s\b", "0.00s", text)
    text = re.sub(r" +0\.00s  ", "  0.00s  ", text)
    lines = text.splitlines()
    # The slowest steps are ordered by time, which races: compare them as a set.
    if "Slowest steps:" in lines:
        start = lines.index("Slowest steps:") + 1
        end = start
        while end < len(lines) and lines[end].startswith("  "):
            end += 1
        lines[start:end] = sorted(lines[start:end])
    return "\n".join(lines) + "\n"


def normalise_json(text: str) -> str:
    out: list[str] = []
    events: list[dict] = []  # type: ignore[type-arg]
    for line in text.splitlines():
        event = json.loads(line)
        last = events[-1] if events else None
        # How a step's output is cut into reads races with the process: join consecutive logs.
        if last and event["event"] == last["event"] == "step.log" and event["step"] == last["step"]:
            last["data"] += event["data"]
            continue
        events.append(event)
    for event in events:
        for key in ("time", "seconds"):
            event.pop(key, None)
        if event.get("event") == "build.summary":
            event = {"event": "build.summary", "steps_run": event["steps_run"], "steps_cached": event["steps_cached"],
                     "steps": [(s["name"], s["cached"]) for s in event["steps"]]}
        out.append(json.dumps(event, sort_keys=True))
    return re.sub(r"sha256:[0-9a-f]{64}", "sha256:<digest>", "\n".join(out)) + "\n"


@pytest.fixture(autouse=True)
def _ordinary_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """These snapshots show the engine's own output for a cached rebuild, so the no-change fast
    path (whose answer depends on how old the files are) stays out of them."""
    monkeypatch.setenv("PYBUILDKIT_NO_FASTPATH", "1")


def build(builder: Builder, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--root", str(builder.root), "build", *argv, str(builder.context)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("mode", "normalise"), [("plain", normalise_plain), ("json", normalise_json)])
def test_build_output_matches_snapshot(mode: str, normalise, builder: Builder, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    (builder.context / "Dockerfile").write_text(DOCKERFILE)
    first = build(builder, capsys, f"--progress={mode}", "-t", "snap:1")
    again = build(builder, capsys, f"--progress={mode}", "-t", "snap:1")
    assert first[0] == again[0] == 0
    assert first[1] == again[1] and re.fullmatch(r"Image sha256:[0-9a-f]{64}\n", first[1])
    got = normalise(first[2]) + "----- rebuilt -----\n" + normalise(again[2])
    expected = SNAPSHOTS / f"build_{mode}.txt"
    if os.environ.get("PYBUILDKIT_UPDATE_SNAPSHOTS"):
        expected.write_text(got)
    assert got == expected.read_text()


def test_report_file_is_the_summary_as_json(builder: Builder, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (builder.context / "Dockerfile").write_text(DOCKERFILE)
    report = tmp_path / "out" / "report.json"
    report.parent.mkdir()
    code, out, _ = build(builder, capsys, "--progress=quiet", "--report", str(report), "-t", "rep:1")
    assert code == 0
    data = json.loads(report.read_text())
    assert data["ok"] is True and data["steps_run"] == 2 and data["steps_cached"] == 1
    assert [s["name"] for s in data["steps"]] == [
        "[stage-0 1/3] FROM busybox", "[stage-0 2/3] RUN echo one && echo two", "[stage-0 3/3] RUN printf 'three\\nfour'",
    ]
    assert all(s["cache_key"].startswith("sha256:") for s in data["steps"][1:])
    assert data["steps"][1]["reason"] and data["critical_path"] == ["stage-0/1", "stage-0/2", "stage-0/3"]
    assert data["image"]["config_digest"] == out.strip()
    assert data["image"]["tags"] == ["docker.io/library/rep:1"] and data["image"]["digest"].startswith("sha256:")
    assert data["warnings"] == [] and data["cache_mismatches"] == []
    assert sorted(p.name for p in report.parent.iterdir()) == ["report.json"]


def test_a_failing_run_exits_1_with_its_output_a_summary_and_a_report(builder: Builder, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (builder.context / "Dockerfile").write_text("FROM busybox\nRUN echo before && exit 3\n")
    code, out, err = build(builder, capsys, "--progress=plain", "--report", str(tmp_path / "r.json"))
    assert code == 1 and out == ""
    assert "#2 0." in err and "before" in err and "exit code 3" in err and "Traceback" not in err
    assert "Failed after " in err and " at [stage-0 2/2] RUN echo before && exit 3: 1 of 2 steps run, 1 cached" in err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["ok"] is False and report["failed_step"]["id"] == "stage-0/2"
    assert "exit code 3" in report["error"] and [s["cached"] for s in report["steps"]] == [True, False]


def test_a_dockerfile_error_exits_1_with_a_caret(builder: Builder, capsys: pytest.CaptureFixture[str]) -> None:
    (builder.context / "Dockerfile").write_text("FROM busybox\nRUN true\nFROBNICATE now\n")
    code, _, err = build(builder, capsys, "--progress=plain")
    assert code == 1 and "Traceback" not in err and "Failed after" not in err
    assert "Dockerfile:3:1" in err and "FROBNICATE now\n" in err and "^" in err
