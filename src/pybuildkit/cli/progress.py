"""Progress renderers for `--progress=plain|json|quiet|tty|auto` and the end-of-build summary.

Each renderer is an event sink: it receives the executor's events and writes text. `plain`
numbers steps the way BuildKit's plain output does (`#3 [builder 2/5] RUN make`, `#3 CACHED`,
`#3 DONE 1.2s`), with the reason for every cache miss, so CI logs explain themselves.
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from pybuildkit.execute import events as ev
from pybuildkit.execute.report import BuildReport

__all__ = ["PlainProgress", "JsonProgress", "QuietProgress", "make_progress", "format_summary"]


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
            self._line(f"#{n} ERROR: {event.error.splitlines()[0] if event.error else ''}")
        elif isinstance(event, ev.Warning):
            where = f" (line {event.line})" if event.line else ""
            self._line(f"WARNING{where}: {event.message}")


class JsonProgress:
    """One JSON object per event and line, for other tools."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, event: ev.Event) -> None:
        self.out.write(json.dumps(event.to_json(), sort_keys=True) + "\n")
        self.out.flush()


class QuietProgress:
    def __call__(self, event: ev.Event) -> None:
        return None


def make_progress(mode: str, out: TextIO | None = None) -> ev.EventSink:
    out = out or sys.stderr
    if mode == "auto":
        mode = "tty" if out.isatty() else "plain"
    if mode == "tty":
        try:
            from pybuildkit.cli.tty import TtyProgress
        except ImportError:
            return PlainProgress(out)
        return TtyProgress(out)
    if mode == "json":
        return JsonProgress(out)
    if mode == "quiet":
        return QuietProgress()
    return PlainProgress(out)


def format_summary(report: BuildReport) -> str:
    """Total time, run vs cached, the slowest steps and the critical path."""
    lines = [f"Built in {report.seconds:.2f}s: {report.ran} steps run, {report.cached} cached"]
    slow = report.slowest(3)
    if slow:
        lines.append("Slowest: " + "; ".join(f"{r.step.label} {r.seconds:.2f}s" for r in slow))
    by_id = {r.step.id: r for r in report.steps}
    if report.critical_path:
        path = [by_id[i] for i in report.critical_path if i in by_id]
        total = sum(r.seconds for r in path)
        lines.append(f"Critical path ({total:.2f}s): " + " -> ".join(r.step.id for r in path))
    return "\n".join(lines)

