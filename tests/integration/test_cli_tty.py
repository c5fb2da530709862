"""`pybuild build --progress=tty` on a real pseudo-terminal: the screen a user is left with.

The build really runs (namespaces, overlay, a local busybox image); the child's stdin, stdout and
stderr are the pty's slave side, as in a terminal, and the bytes it draws are replayed through a
small terminal model to get the final screen, not just the concatenation of every frame.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.support.build import Builder, builder, requires_root  # noqa: F401 - fixture
from tests.unit.cli.screen import render_screen

pytestmark = [pytest.mark.integration, requires_root]

DOCKERFILE = """\
FROM busybox
RUN for i in 1 2 3 4 5 6 7 8 9; do echo "tick $i"; sleep 0.05; done
RUN echo second step
RUN echo third step
"""


def pybuild() -> list[str]:
    """The installed `pybuild` script beside this Python, else the module (same code either way)."""
    script = Path(sys.executable).parent / "pybuild"
    return [str(script)] if script.exists() else [sys.executable, "-m", "pybuildkit.cli.main"]


def run_on_pty(argv: list[str], env: dict[str, str], *, columns: int = 100, rows: int = 40, timeout: float = 120) -> tuple[int, str]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every slave descriptor is closed
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return code, b"".join(chunks).decode("utf-8", "replace")


def pybuild_env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    env.update({"PYBUILDKIT_ROOT": str(root), "TERM": "xterm-256color", **extra})
    return env


def test_tty_progress_leaves_every_step_and_the_summary(builder: Builder) -> None:
    (builder.context / "Dockerfile").write_text(DOCKERFILE)
    argv = [*pybuild(), "build", "--progress=tty", "-t", "tty:test", str(builder.context)]
    code, raw = run_on_pty(argv, pybuild_env(builder.root))
    screen = render_screen(raw)
    assert code == 0, screen
    lines = screen.splitlines()
    assert "\x1b[" in raw and "[+] Building" in raw, "the live view should have been drawn"
    final = lines.index(next(line for line in lines if line.startswith("[+] Building") and line.endswith("FINISHED")))
    listed = lines[final + 1 : final + 5]
    assert [line.split("]", 1)[0].strip() for line in listed] == [
        "=> CACHED [stage-0 1/4",
        "=> [stage-0 2/4",
        "=> [stage-0 3/4",
        "=> [stage-0 4/4",
    ]
    assert all(line.rstrip().endswith("s") and len(line) <= 100 for line in listed)
    summary = lines[final + 5 :]
    assert summary[0].startswith("Built in ") and "3 of 4 steps run, 1 cached" in summary[0]
    assert summary[1] == "Slowest steps:" and any("RUN for i in" in line for line in summary[2:5])
    assert any(line.startswith("Tagged ") and "tty:test" in line for line in summary)
    assert not any(line.startswith("Critical path") for line in summary), "one stage has no path to show"
    assert any(line.startswith("Image sha256:") for line in summary)
    # The live frames showed the first RUN's output; the final screen does not keep it.
    assert "=> => tick" in raw and "tick 9" not in screen


def test_tty_progress_shows_the_failed_step_with_its_output(builder: Builder) -> None:
    (builder.context / "Dockerfile").write_text("FROM busybox\nRUN echo about to fail && exit 3\n")
    argv = [*pybuild(), "build", "--progress=tty", str(builder.context)]
    code, raw = run_on_pty(argv, pybuild_env(builder.root))
    screen = render_screen(raw)
    assert code == 1, screen
    assert "FAILED" in screen and "=> ERROR [stage-0 2/2] RUN echo about to fail && exit 3" in screen
    assert "=> => about to fail" in screen and "exit code 3" in screen
    assert "Traceback" not in screen


def test_dumb_terminal_gets_plain_progress(builder: Builder) -> None:
    (builder.context / "Dockerfile").write_text("FROM busybox\nRUN echo plain please\n")
    argv = [*pybuild(), "build", str(builder.context)]
    code, raw = run_on_pty(argv, pybuild_env(builder.root, TERM="dumb"))
    assert code == 0, raw
    assert "\x1b[" not in raw
    assert "#2 [stage-0 2/2] RUN echo plain please" in raw and "plain please" in raw
