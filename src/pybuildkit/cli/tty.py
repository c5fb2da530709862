"""The live progress view for a terminal (`--progress=tty`, and `auto` on a terminal).

A build's plain log is complete but long; on a terminal a user wants to see what is running *now*.
This view redraws a small frame in place (cursor up, clear lines): finished steps with their time
or CACHED, one line per running step with its elapsed time, the dimmed reason the cache missed,
and the last lines of each running step's output labelled with its stage, so parallel stages show
side by side. A ticker thread redraws at most ten times a second so elapsed times move even when a
step prints nothing. When the build ends the frame is replaced by the full list of steps, which
stays in the scrollback (the summary is printed after it by the caller).

The frame never wraps: every line is cut to the terminal's width and the frame to its height,
because one wrapped line would make "cursor up N" land in the wrong place.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import threading
import time
from typing import TextIO

from pybuildkit.cli.progress import format_warning
from pybuildkit.execute import events as ev

__all__ = ["TtyProgress", "TAIL_LINES", "REFRESH_SECONDS", "strip_ansi"]

#: How many lines of a running step's output the live view keeps.
TAIL_LINES = 6
#: The shortest time between two redraws (at most ten frames a second).
REFRESH_SECONDS = 0.1
_PARTIAL_MAX = 4096

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def strip_ansi(text: str) -> str:
    """`text` without terminal escape sequences (what a screen shows, minus the colours)."""
    return _ANSI.sub("", text)


def _printable(line: str) -> str:
    """A log line safe to draw: what follows the last carriage return, no escapes or controls."""
    line = line.rsplit("\r", 1)[-1]
    return _CONTROL.sub("", strip_ansi(line)).expandtabs(4)


class _StepView:
    """What the view knows about one step; mutated only under the progress lock."""

    __slots__ = ("step", "state", "started", "seconds", "reason", "tail", "partial", "error")

    def __init__(self, step: ev.Step, state: str, started: float) -> None:
        self.step = step
        self.state = state  # running | done | cached | error | canceled
        self.started = started
        self.seconds = 0.0
        self.reason = ""
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self.partial = b""
        self.error = ""


class TtyProgress:
    """An event sink that draws a live, redrawn build view on the terminal `out`."""

    def __init__(self, out: TextIO, *, color: bool | None = None, refresh: float = REFRESH_SECONDS) -> None:
        self.out = out
        self.color = (not os.environ.get("NO_COLOR")) if color is None else color
        self.refresh = refresh
        self._lock = threading.RLock()
        self._steps: dict[str, _StepView] = {}
        self._warnings: list[str] = []
        self._total = 0
        self._began = time.monotonic()
        self._drawn = 0
        self._last_frame: list[str] = []
        self._last_draw = 0.0
        self._finished: bool | None = None
        self._final_seconds: float | None = None
        self._closed = False
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    # -- events -----------------------------------------------------------------------------------

    def __call__(self, event: ev.Event) -> None:
        with self._lock:
            if self._closed:
                return
            self._apply(event)
            finished = False
            if isinstance(event, ev.BuildFinished):
                finished = True
                self._finished = event.ok
                self._final_seconds = event.seconds
            elif self._ticker is None:
                self._start_ticker()
        if finished:
            # Outside the lock: close() joins the ticker, which may be waiting for it.
            self.close()

    def _apply(self, event: ev.Event) -> None:
        now = time.monotonic()
        if isinstance(event, ev.BuildStarted):
            self._total = event.steps
            self._began = now
        elif isinstance(event, ev.StepStarted):
            view = self._view(event.step, "running", now)
            view.state, view.started, view.reason = "running", now, event.reason
        elif isinstance(event, ev.StepCached):
            self._view(event.step, "cached", now).state = "cached"
        elif isinstance(event, ev.StepLog):
            view = self._view(event.step, "running", now)
            data = view.partial + event.data
            *lines, rest = data.split(b"\n")
            # A progress bar redraws one line with \r and may never end it: keep only its end.
            view.partial = rest[-_PARTIAL_MAX:]
            view.tail.extend(_printable(line.decode("utf-8", "replace")) for line in lines)
        elif isinstance(event, ev.StepFinished):
            view = self._view(event.step, "done", now)
            view.seconds = event.seconds
            if view.partial:
                view.tail.append(_printable(view.partial.decode("utf-8", "replace")))
                view.partial = b""
            view.state = "cached" if event.cached else "done"
        elif isinstance(event, ev.StepFailed):
            view = self._view(event.step, "error", now)
            view.state, view.seconds = "error", event.seconds
            view.error = event.error
            if view.partial:
                view.tail.append(_printable(view.partial.decode("utf-8", "replace")))
                view.partial = b""
        elif isinstance(event, ev.Warning):
            self._warnings.append(format_warning(event))

    def _view(self, step: ev.Step, state: str, now: float) -> _StepView:
        view = self._steps.get(step.id)
        if view is None:
            view = self._steps[step.id] = _StepView(step, state, now)
        return view

    # -- the ticker -------------------------------------------------------------------------------

    def _start_ticker(self) -> None:
        self._ticker = threading.Thread(target=self._tick, name="pybuild-tty", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(self.refresh):
            with self._lock:
                if self._closed:
                    return
                self._redraw()

    def close(self) -> None:
        """Stop the ticker and leave the full list of steps on the screen (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop.set()
            if self._steps or self._warnings:
                self._write(self._clear_previous() + "".join(line + "\n" for line in self._final_lines()))
            self._drawn = 0
        ticker = self._ticker
        if ticker is not None and ticker is not threading.current_thread():
            ticker.join(timeout=1.0)

    # -- drawing ----------------------------------------------------------------------------------

    def _size(self) -> tuple[int, int]:
        try:
            columns, lines = os.get_terminal_size(self.out.fileno())
        except (AttributeError, OSError, ValueError):
            columns = lines = 0
        if columns <= 0 or lines <= 0:
            # A pseudo-terminal nobody sized reports 0x0: use $COLUMNS/$LINES or 80x24.
            columns, lines = shutil.get_terminal_size((80, 24))
        return max(columns, 20), max(lines, 5)

    def _paint(self, text: str, style: str) -> str:
        if not self.color or not style:
            return text
        return f"\x1b[{style}m{text}\x1b[0m"

    def _step_line(self, view: _StepView, width: int, now: float) -> str:
        """` => [stage 2/5] RUN make     1.2s`, the time right-aligned, the name cut to fit."""
        if view.state == "running":
            seconds, mark, style = now - view.started, "=> ", "34"
        elif view.state == "cached":
            seconds, mark, style = view.seconds, "=> CACHED ", "34"
        elif view.state == "error":
            seconds, mark, style = view.seconds, "=> ERROR ", "31"
        elif view.state == "canceled":
            seconds, mark, style = view.seconds, "=> CANCELED ", "33"
        else:
            seconds, mark, style = view.seconds, "=> ", "34"
        clock = f"{seconds:.1f}s"
        name = f" {mark}{view.step.label}"
        room = width - len(clock) - 2
        if len(name) > room:
            name = name[: max(room - 3, 0)] + "..."
        return self._paint(name.ljust(room) + "  " + clock, style if view.state != "running" else "")

    def _header(self, now: float, done: bool = False) -> str:
        finished = sum(1 for v in self._steps.values() if v.state in ("done", "cached"))
        total = max(self._total, len(self._steps))
        seconds = self._final_seconds if done and self._final_seconds is not None else now - self._began
        state = "" if not done else (" FINISHED" if self._finished else " FAILED")
        return f"[+] Building {seconds:.1f}s ({finished}/{total}){state}"

    def _frame(self, now: float) -> list[str]:
        width, height = self._size()
        running = [v for v in self._steps.values() if v.state == "running"]
        settled = [v for v in self._steps.values() if v.state != "running"]
        stages = len({v.step.stage for v in running})
        blocks: list[list[str]] = []
        for view in running:
            block = [self._step_line(view, width, now)]
            if view.reason:
                block.append(self._paint(_cut(f"     cache miss: {view.reason}", width), "2"))
            label = f"{view.step.stage} | " if stages > 1 else ""
            shown = list(view.tail)
            current = _printable(view.partial.decode("utf-8", "replace")) if view.partial else ""
            if current:
                shown = shown[1 - TAIL_LINES :] + [current] if len(shown) >= TAIL_LINES else shown + [current]
            block.extend(_cut(f" => => {label}{line}", width) for line in shown)
            blocks.append(block)
        room = height - 2 - sum(len(b) for b in blocks)
        if room < 0:
            # Too many running steps for the screen: keep each running step's own line first.
            blocks = [b[:1] for b in blocks][: height - 2]
            room = height - 2 - len(blocks)
        shown = settled[-room:] if room > 0 else []
        lines = [self._header(now)] + [self._step_line(v, width, now) for v in shown]
        for block in blocks:
            lines.extend(block)
        return lines

    def _clear_previous(self) -> str:
        if not self._drawn:
            return ""
        return f"\r\x1b[{self._drawn}A\x1b[J"

    def _redraw(self) -> None:
        now = time.monotonic()
        if now - self._last_draw < self.refresh * 0.9:
            return
        frame = self._frame(now)
        if frame == self._last_frame:
            return
        up = f"\r\x1b[{self._drawn}A" if self._drawn else ""
        body = "".join("\x1b[2K" + line + "\n" for line in frame)
        self._write(up + body + "\x1b[J")
        self._drawn = len(frame)
        self._last_frame = frame
        self._last_draw = now

    def _final_lines(self) -> list[str]:
        """Every step in the order it appeared, the errors with their output, then the warnings."""
        width, _ = self._size()
        now = time.monotonic()
        lines = [self._header(now, done=True)]
        for view in self._steps.values():
            if view.state == "running":
                view.seconds = now - view.started
                view.state = "canceled"
            lines.append(self._step_line(view, width, now))
            if view.state == "error":
                for text in view.tail:
                    lines.append(_cut(f" => => {text}", width))
                if view.error:
                    lines.append(self._paint(_cut(f"     {view.error.splitlines()[0]}", width), "31"))
        lines.extend(self._paint(w, "33") for w in self._warnings)
        return lines

    def _write(self, text: str) -> None:
        try:
            self.out.write(text)
            self.out.flush()
        except (OSError, ValueError):
            # The terminal went away (closed pty, broken pipe): the build itself must go on.
            self._closed = True
            self._stop.set()


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
