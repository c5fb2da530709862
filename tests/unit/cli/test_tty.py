"""The live tty view, driven by a made-up event stream and read back through a tiny terminal."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from pybuildkit.cli.progress import PlainProgress, make_progress
from pybuildkit.cli.tty import TtyProgress, strip_ansi
from pybuildkit.execute import events as ev
from tests.unit.cli.events import STEPS, fixed_build
from tests.unit.cli.screen import render_screen

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.fixture(autouse=True)
def terminal_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "30")


def wait_for(out: io.StringIO, text: str, timeout: float = 5.0) -> None:
    """Until the ticker has drawn `text` (a fixed sleep is flaky on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while text not in out.getvalue():
        assert time.monotonic() < deadline, f"{text!r} was never drawn"
        time.sleep(0.01)


def drive(events: list[ev.Event], *, color: bool = False, pause_after: int | None = None) -> tuple[TtyProgress, io.StringIO]:
    out = io.StringIO()
    progress = TtyProgress(out, color=color, refresh=0.02)
    for i, event in enumerate(events):
        progress(event)
        if pause_after is not None and i == pause_after:
            time.sleep(0.2)
    return progress, out


@pytest.mark.parametrize(("fail", "snapshot"), [(False, "tty_final.txt"), (True, "tty_failed.txt")])
def test_final_screen_lists_every_step(fail: bool, snapshot: str) -> None:
    _, out = drive(fixed_build(fail=fail), pause_after=13)
    screen = render_screen(out.getvalue())
    assert screen == (SNAPSHOTS / snapshot).read_text().rstrip("\n")


def test_live_frame_shows_running_steps_with_stage_labelled_tails_and_reasons() -> None:
    events = fixed_build()
    progress, out = drive(events[:17], color=True)
    wait_for(out, "other | 8")
    live = out.getvalue()
    progress.close()
    screen = render_screen(live)
    assert "=> [base 2/2] RUN echo hello from base" in screen
    assert "=> [other 2/2] RUN seq 1 8" in screen
    assert "=> => base | hello from base" in screen
    tail = [line for line in screen.splitlines() if "=> => other |" in line]
    assert [line.split("| ")[1] for line in tail] == ["3", "4", "5", "6", "7", "8"]
    assert "\x1b[2m     cache miss: the command changed\x1b[0m" in live
    assert screen.splitlines()[0].startswith("[+] Building ")


def test_elapsed_time_moves_without_events() -> None:
    events = fixed_build()
    progress, out = drive(events[:7])
    time.sleep(0.35)
    progress.close()
    frames = [line for line in strip_ansi(out.getvalue()).split("\n") if "[base 2/2]" in line]
    clocks = {line.rsplit(" ", 1)[-1] for line in frames}
    assert len(clocks) >= 2, clocks


def test_redraws_at_most_ten_times_a_second() -> None:
    out = io.StringIO()
    progress = TtyProgress(out, color=False)
    step = STEPS["other/2"]
    progress(ev.StepStarted(time=0, step=step))
    deadline = time.monotonic() + 0.5
    n = 0
    while time.monotonic() < deadline:
        progress(ev.StepLog(time=0, step=step, data=f"line {n}\n".encode()))
        n += 1
        time.sleep(0.001)
    progress.close()
    frames = out.getvalue().count("[+] Building")
    assert n > 50 and 1 <= frames <= 7, (n, frames)


def test_lines_never_wrap_and_log_escapes_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    step = ev.Step(id="s/1", stage="s", index=1, total=1, name="RUN " + "x" * 100)
    progress, out = drive(
        [
            ev.StepStarted(time=0, step=step, reason="r" * 100),
            ev.StepLog(time=0, step=step, data=b"\x1b[31mred\x1b[0m\tand\x07 a bell " + b"y" * 80 + b"\n"),
            ev.StepLog(time=0, step=step, data=b"10%\r50%\r100%\n"),
        ]
    )
    wait_for(out, "=> => 100%")
    screen_live = render_screen(out.getvalue())
    progress.close()
    assert all(len(line) <= 40 for line in screen_live.splitlines()), screen_live
    assert "=> => red and a bell yyy" in screen_live
    assert "=> => 100%" in screen_live and "50%" not in screen_live


def test_more_running_steps_than_rows_keeps_the_frame_on_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINES", "8")
    events: list[ev.Event] = []
    for i in range(12):
        step = ev.Step(id=f"s{i}/1", stage=f"s{i}", index=1, total=1, name=f"RUN job {i}")
        events += [ev.StepStarted(time=0, step=step, reason="new"), ev.StepLog(time=0, step=step, data=b"a\nb\n")]
    progress, out = drive(events)
    wait_for(out, "[+] Building")
    frames = out.getvalue().split("[+] Building")[1:]
    progress.close()
    assert frames and all(frame.count("\n") <= 8 for frame in frames)


def test_close_is_idempotent_and_late_events_are_ignored() -> None:
    progress, out = drive(fixed_build())
    written = out.getvalue()
    progress.close()
    progress(ev.Warning(time=0, message="late"))
    assert out.getvalue() == written and "late" not in written


def test_a_closed_terminal_does_not_stop_the_build() -> None:
    class Gone(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(5, "Input/output error")

    progress = TtyProgress(Gone(), refresh=0.01)
    for event in fixed_build():
        progress(event)


@pytest.mark.parametrize(
    ("mode", "term", "isatty", "expected"),
    [
        ("tty", "xterm", False, TtyProgress),
        ("tty", "dumb", True, PlainProgress),
        ("auto", "xterm", True, TtyProgress),
        ("auto", "dumb", True, PlainProgress),
        ("auto", "xterm", False, PlainProgress),
        ("plain", "xterm", True, PlainProgress),
    ],
)
def test_make_progress_chooses(mode: str, term: str, isatty: bool, expected: type, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", term)

    class Out(io.StringIO):
        def isatty(self) -> bool:
            return isatty

    sink = make_progress(mode, Out())
    assert type(sink) is expected
    getattr(sink, "close", lambda: None)()


def test_build_finished_returns_at_once_while_the_ticker_runs() -> None:
    events = fixed_build()
    progress, _ = drive(events[:-1])
    time.sleep(0.1)
    started = time.monotonic()
    progress(events[-1])
    assert time.monotonic() - started < 0.5


def test_an_unterminated_progress_line_shows_as_it_moves() -> None:
    step = STEPS["other/2"]
    progress, out = drive([ev.StepStarted(time=0, step=step), *(ev.StepLog(time=0, step=step, data=f"line {i}\n".encode()) for i in range(8))])
    progress(ev.StepLog(time=0, step=step, data=b"downloading 10%\rdownloading 55%"))
    wait_for(out, "downloading 55%")
    screen = render_screen(out.getvalue())
    progress.close()
    tail = [line for line in screen.splitlines() if line.startswith(" => => ")]
    assert tail == [f" => => line {i}" for i in range(3, 8)] + [" => => downloading 55%"]
