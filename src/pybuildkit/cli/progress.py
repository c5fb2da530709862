"""Progress renderers for `--progress=plain|json|quiet|tty|auto` and the end-of-build summary.

Each renderer is an event sink: it receives the executor's events and writes text. `plain`
numbers steps the way BuildKit's plain output does (`#3 [builder 2/5] RUN make`, `#3 CACHED`,
`#3 DONE 1.2s`), with the reason for every cache miss, so CI logs explain themselves.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, TextIO

from pybuildkit.execute import events as ev
from pybuildkit.execute.report import BuildReport

if TYPE_CHECKING:  # pragma: no cover
    from pybuildkit.execute.request import BuildResult

__all__ = ["PlainProgress", "JsonProgress", "QuietProgress", "make_progress", "format_summary", "format_warning", "summary_json", "report_json", "StepRecorder", "format_failure", "failure_json"]


class PlainProgress:
    """BuildKit-style numbered lines; output lines carry the seconds since the step started."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._numbers: dict[str, int] = {}
        self._started: dict[str, float] = {}
        self._partial: dict[str, bytes] = {}

    def _number(self, step: ev.Step) -> int:
        if step.id not in self._numbers:
            self._numbers[step.id] = len(self._numbers) + 1
        return self._numbers[step.id]

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.StepStarted):
            n = self._number(event.step)
            self._started[event.step.id] = event.time
            self._line(f"#{n} {event.step.label}")
            if event.reason:
                self._line(f"#{n} cache miss: {event.reason}")
        elif isinstance(event, ev.StepCached):
            n = self._number(event.step)
            self._line(f"#{n} {event.step.label}")
            self._line(f"#{n} CACHED")
        elif isinstance(event, ev.StepLog):
            n = self._number(event.step)
            data = self._partial.pop(event.step.id, b"") + event.data
            *lines, rest = data.split(b"\n")
            if rest:
                self._partial[event.step.id] = rest
            offset = event.time - self._started.get(event.step.id, event.time)
            for line in lines:
                self._line(f"#{n} {offset:.3f} {line.decode('utf-8', 'replace')}")
        elif isinstance(event, ev.StepFinished):
            if event.cached:
                return
            n = self._number(event.step)
            rest = self._partial.pop(event.step.id, b"")
            if rest:
                self._line(f"#{n} {rest.decode('utf-8', 'replace')}")
            if event.step.name.startswith("FROM"):
                self._line(f"#{n} {event.step.label}")
            self._line(f"#{n} DONE {event.seconds:.1f}s")
        elif isinstance(event, ev.StepFailed):
            n = self._number(event.step)
            rest = self._partial.pop(event.step.id, b"")
            if rest:
                self._line(f"#{n} {rest.decode('utf-8', 'replace')}")
            self._line(f"#{n} ERROR: {event.error.splitlines()[0] if event.error else ''}")
        elif isinstance(event, ev.Warning):
            self._line(format_warning(event))


class JsonProgress:
    """One JSON object per event and line, for other tools."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, event: ev.Event) -> None:
        self.out.write(json.dumps(event.to_json(), sort_keys=True) + "\n")
        self.out.flush()


class QuietProgress:
    """Nothing but warnings (on stderr): `--progress=quiet` leaves stdout to the image ID alone,
    and a quiet CI log still learns that the Dockerfile has problems."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.Warning):
            self.out.write(format_warning(event) + "\n")
            self.out.flush()


def format_warning(event: ev.Warning) -> str:
    """`WARNING: Rule: message (line N)`, BuildKit's one-line form."""
    where = f" (line {event.line})" if event.line else ""
    return f"WARNING: {event.message}{where}"


def make_progress(mode: str, out: TextIO | None = None) -> ev.EventSink:
    """The renderer for `--progress=MODE` writing to `out` (stderr by default).

    `auto` means tty on a terminal, plain elsewhere; a terminal that cannot move its cursor
    (`TERM=dumb`, as in Emacs shells and some CI consoles) gets plain text even when tty is asked.
    """
    out = out or sys.stderr
    if mode == "auto":
        mode = "tty" if out.isatty() else "plain"
    if mode == "tty" and os.environ.get("TERM") == "dumb":
        mode = "plain"
    if mode == "tty":
        from pybuildkit.cli.tty import TtyProgress

        return TtyProgress(out)
    if mode == "json":
        return JsonProgress(out)
    if mode == "quiet":
        return QuietProgress(out)
    return PlainProgress(out)


def format_summary(report: BuildReport, *, width: int = 100) -> str:
    """Total time, run vs cached, the slowest steps and the critical path, for people.

    Nothing but the first line when every step came from the cache: slow steps and a critical
    path mean nothing then. The critical path is shown per stage (the stage names and their
    time), because that is what a user can act on: make that stage faster or split it; a
    single-stage build has no choice of path, so none is shown.
    """
    total = len(report.steps)
    share = f"{100 * report.cached // total}% from cache" if total else "nothing to do"
    lines = [f"Built in {report.seconds:.2f}s: {report.ran} of {total} steps run, {report.cached} cached ({share})"]
    slow = [r for r in report.slowest(3) if r.seconds > 0]
    if not slow:
        return lines[0]
    lines.append("Slowest steps:")
    for record in slow:
        lines.append(_cut(f"  {record.seconds:7.2f}s  {record.step.label}", width))
    by_id = {r.step.id: r for r in report.steps}
    path = [by_id[i] for i in report.critical_path if i in by_id]
    if len({r.step.stage for r in path}) > 1:
        stages: list[tuple[str, float]] = []
        for record in path:
            if stages and stages[-1][0] == record.step.stage:
                stages[-1] = (record.step.stage, stages[-1][1] + record.seconds)
            else:
                stages.append((record.step.stage, record.seconds))
        total_path = sum(seconds for _, seconds in stages)
        chain = " -> ".join(f"{stage} ({seconds:.2f}s)" for stage, seconds in stages)
        lines.append(_cut(f"Critical path {total_path:.2f}s: {chain}", width))
    return "\n".join(lines)


def summary_json(report: BuildReport) -> dict[str, object]:
    """The summary as one JSON event line for `--progress=json` (the report's own JSON)."""
    return {"event": "build.summary", **report.to_json()}


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def report_json(result: BuildResult) -> dict[str, object]:
    """What `--report FILE` writes: the per-step report plus the image's digests and the warnings."""
    return {
        "ok": True,
        **result.report.to_json(),
        "image": {"digest": result.digest, "config_digest": result.config_digest, "tags": list(result.tags)},
        "warnings": list(result.warnings),
        "cache_mismatches": list(result.cache_mismatches),
    }


class StepRecorder:
    """Passes events on to `sink` and keeps what a failed build's summary and report need.

    The executor's BuildReport exists only once a build succeeds; when it fails, `pybuild` still
    owes the user (and `--report FILE`, which CI reads) what ran, what was cached and where it
    stopped, so the same facts are gathered from the event stream on the way through.
    """

    def __init__(self, sink: ev.EventSink) -> None:
        self.sink = sink
        self.records: dict[str, dict[str, object]] = {}
        self.failed: ev.StepFailed | None = None
        self.seconds = 0.0
        self.total = 0
        self._first: float | None = None

    def __call__(self, event: ev.Event) -> None:
        self._first = event.time if self._first is None else self._first
        self.seconds = max(self.seconds, event.time - self._first)
        step = getattr(event, "step", None)
        if isinstance(step, ev.Step):
            record = self.records.setdefault(
                step.id, {"id": step.id, "name": step.label, "stage": step.stage, "cached": False, "seconds": 0.0, "reason": ""}
            )
            if isinstance(event, ev.StepStarted):
                record["reason"] = event.reason
            elif isinstance(event, ev.StepCached):
                record["cached"] = True
            elif isinstance(event, (ev.StepFinished, ev.StepFailed)):
                record["seconds"] = round(event.seconds, 6)
                if isinstance(event, ev.StepFailed):
                    self.failed = event
        if isinstance(event, ev.BuildStarted):
            self.total = event.steps
        elif isinstance(event, ev.BuildFinished):
            self.seconds = event.seconds
        self.sink(event)

    def close(self) -> None:
        getattr(self.sink, "close", lambda: None)()


def format_failure(recorder: StepRecorder) -> str:
    """One line after a failed build: how long, where it stopped, what ran and came from cache.

    Empty when the build failed before any step (a Dockerfile error says enough by itself).
    """
    if not recorder.records:
        return ""
    ran = sum(1 for r in recorder.records.values() if not r["cached"])
    cached = len(recorder.records) - ran
    where = f" at {recorder.failed.step.label}" if recorder.failed is not None else ""
    total = max(recorder.total, len(recorder.records))
    return f"Failed after {recorder.seconds:.2f}s{where}: {ran} of {total} steps run, {cached} cached"


def failure_json(recorder: StepRecorder, error: BaseException) -> dict[str, object]:
    """What `--report FILE` writes when the build fails: the steps seen, the failed one, the error."""
    steps = list(recorder.records.values())
    failed = recorder.failed
    return {
        "ok": False,
        "seconds": round(recorder.seconds, 6),
        "steps_run": sum(1 for s in steps if not s["cached"]),
        "steps_cached": sum(1 for s in steps if s["cached"]),
        "steps": steps,
        "failed_step": None if failed is None else {"id": failed.step.id, "name": failed.step.label, "error": failed.error},
        "error": getattr(error, "message", str(error)),
    }
