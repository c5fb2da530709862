"""A fixed, made-up build as an event stream, for renderer tests that must not depend on a kernel.

Two stages run side by side (`base` and `other`), then the final stage copies from one of them;
times are fixed numbers so plain, json and the tty's final list can be compared to snapshots.
"""

from __future__ import annotations

from pybuildkit.execute import events as ev
from pybuildkit.execute.report import BuildReport, StepRecord

__all__ = ["STEPS", "fixed_build", "fixed_report"]

STEPS = {
    "base/1": ev.Step(id="base/1", stage="base", index=1, total=2, name="FROM busybox", line=1),
    "base/2": ev.Step(id="base/2", stage="base", index=2, total=2, name="RUN echo hello from base", line=2),
    "other/1": ev.Step(id="other/1", stage="other", index=1, total=2, name="FROM busybox", line=3),
    "other/2": ev.Step(id="other/2", stage="other", index=2, total=2, name="RUN seq 1 8", line=4),
    "final/1": ev.Step(id="final/1", stage="final", index=1, total=3, name="FROM base", line=5),
    "final/2": ev.Step(id="final/2", stage="final", index=2, total=3, name="COPY --from=other /etc/passwd /x", line=6),
    "final/3": ev.Step(id="final/3", stage="final", index=3, total=3, name="RUN echo final", line=7),
}

T0 = 1_700_000_000.0


def fixed_build(*, fail: bool = False) -> list[ev.Event]:
    """The events of the made-up build; with `fail`, `final/3` exits 1 instead of finishing."""
    s = STEPS
    out: list[ev.Event] = [
        ev.BuildStarted(time=T0, steps=len(s), stages=("base", "other", "final")),
        ev.Warning(time=T0, message="FROM --platform flag should not use a constant value", line=3),
        ev.StepCached(time=T0, step=s["base/1"]),
        ev.StepFinished(time=T0, step=s["base/1"], seconds=0.0, cached=True),
        ev.StepCached(time=T0, step=s["other/1"]),
        ev.StepFinished(time=T0, step=s["other/1"], seconds=0.0, cached=True),
        ev.StepStarted(time=T0 + 0.01, step=s["base/2"], reason="no earlier build of this step"),
        ev.StepStarted(time=T0 + 0.02, step=s["other/2"], reason="the command changed"),
        ev.StepLog(time=T0 + 0.3, step=s["base/2"], data=b"hello from base\n"),
    ]
    for i in range(1, 9):
        out.append(ev.StepLog(time=T0 + 0.1 * i, step=s["other/2"], data=f"{i}\n".encode()))
    out += [
        ev.StepFinished(time=T0 + 0.5, step=s["base/2"], seconds=0.5, cached=False),
        ev.StepFinished(time=T0 + 1.0, step=s["other/2"], seconds=1.0, cached=False),
        ev.StepCached(time=T0 + 1.0, step=s["final/1"]),
        ev.StepFinished(time=T0 + 1.0, step=s["final/1"], seconds=0.0, cached=True),
        ev.StepCached(time=T0 + 1.0, step=s["final/2"]),
        ev.StepFinished(time=T0 + 1.0, step=s["final/2"], seconds=0.0, cached=True),
        ev.StepStarted(time=T0 + 1.0, step=s["final/3"], reason="its input [final 2/3] changed"),
        ev.StepLog(time=T0 + 1.1, step=s["final/3"], data=b"final\nno newline at the end"),
    ]
    if fail:
        out += [
            ev.StepFailed(time=T0 + 1.2, step=s["final/3"], seconds=0.2, error="process \"/bin/sh -c echo final\" did not complete successfully: exit code 1"),
            ev.BuildFinished(time=T0 + 1.2, seconds=1.2, ok=False),
        ]
    else:
        out += [
            ev.StepFinished(time=T0 + 1.2, step=s["final/3"], seconds=0.2, cached=False),
            ev.BuildFinished(time=T0 + 1.25, seconds=1.25, ok=True, image_digest="sha256:" + "ab" * 32),
        ]
    return out


def fixed_report() -> BuildReport:
    """The report the executor would make of `fixed_build()`."""
    timing = {"base/2": (0.01, 0.5), "other/2": (0.02, 1.0), "final/3": (1.0, 0.2)}
    records = []
    for order, (step_id, step) in enumerate(STEPS.items()):
        started, seconds = timing.get(step_id, (order / 100, 0.0))
        records.append(
            StepRecord(
                step=step, cached=step_id not in timing, seconds=seconds, started=T0 + started,
                finished=T0 + started + seconds, key=f"sha256:{order:064d}",
                reason="" if step_id not in timing else "no earlier build of this step",
            )
        )
    return BuildReport(
        steps=tuple(records), seconds=1.25,
        critical_path=("other/1", "other/2", "final/1", "final/2", "final/3"),
    )
