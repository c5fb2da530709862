"""Progress events the executor emits while a build runs.

Every front end (plain, tty, json progress, the report, the Python callback) consumes the same
event stream, so what the user sees and what the metadata file records cannot disagree.
"""

from __future__ import annotations

from typing import Any, Callable

import attrs

__all__ = [
    "Step",
    "Event",
    "BuildStarted",
    "StepStarted",
    "StepLog",
    "StepCached",
    "StepFinished",
    "StepFailed",
    "Warning",
    "BuildFinished",
    "EventSink",
]


@attrs.frozen
class Step:
    """A step as the user knows it: `[builder 3/7] RUN make`."""

    id: str
    stage: str
    index: int
    total: int
    name: str
    line: int | None = None

    @property
    def label(self) -> str:
        return f"[{self.stage} {self.index}/{self.total}] {self.name}"


@attrs.frozen(kw_only=True)
class Event:
    """One thing that happened during a build, at `time` (seconds since the epoch).

    `kind` names it (`step.started`, `step.log`, ...) and `to_json()` is the line `--progress=json`
    prints, so tools and the Python callback see the same stream.
    """

    time: float

    @property
    def kind(self) -> str:
        return _KINDS[type(self)]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"event": self.kind}
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if isinstance(value, Step):
                value = {"id": value.id, "name": value.name, "stage": value.stage, "index": value.index, "total": value.total}
            elif isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            data[field.name] = value
        return data


@attrs.frozen(kw_only=True)
class BuildStarted(Event):
    steps: int
    stages: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class StepStarted(Event):
    step: Step
    reason: str = ""


@attrs.frozen(kw_only=True)
class StepLog(Event):
    step: Step
    data: bytes


@attrs.frozen(kw_only=True)
class StepCached(Event):
    step: Step


@attrs.frozen(kw_only=True)
class StepFinished(Event):
    step: Step
    seconds: float
    cached: bool


@attrs.frozen(kw_only=True)
class StepFailed(Event):
    step: Step
    seconds: float
    error: str


@attrs.frozen(kw_only=True)
class Warning(Event):  # noqa: A001 - the event is called what the user sees
    message: str
    line: int | None = None


@attrs.frozen(kw_only=True)
class BuildFinished(Event):
    seconds: float
    ok: bool
    image_digest: str | None = None


_KINDS: dict[type, str] = {
    BuildStarted: "build.started",
    StepStarted: "step.started",
    StepLog: "step.log",
    StepCached: "step.cached",
    StepFinished: "step.finished",
    StepFailed: "step.failed",
    Warning: "warning",
    BuildFinished: "build.finished",
}

EventSink = Callable[[Event], None]
