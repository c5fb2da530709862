"""`pybuild parse`: readable view, --dump, stdin, and errors rendered without a traceback."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from pybuildkit.cli.main import main

DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM $BASE AS build
RUN echo one \\
    two
COPY <<EOF /greeting
hello
EOF
FROM build
CMD ["sh"]
"""


@pytest.fixture
def dockerfile(tmp_path: Path) -> Path:
    path = tmp_path / "Dockerfile"
    path.write_text(DOCKERFILE)
    return path


def test_readable_view_shows_stages_and_lines(dockerfile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(dockerfile)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "# syntax=docker/dockerfile:1",
        "global:",
        "      2  ARG BASE=busybox",
        "",
        "stage 0 'build' from $BASE",
        "      3  FROM $BASE AS build",
        "    4-5  RUN echo one     two",
        "    6-8  COPY <<EOF /greeting",
        "           <<EOF (1 line)",
        "",
        "stage 1 from build",
        "      9  FROM build",
        "     10  CMD [\"sh\"]",
    ]


def test_dump(dockerfile: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["parse", "--dump", str(dockerfile)]) == 0
    assert capsysbinary.readouterr().out.decode() == (
        '(arg "BASE=busybox")\n(from "$BASE" "AS" "build")\n(run "echo one     two")\n'
        '(copy "<<EOF" "/greeting")\n(from "build")\n(cmd "sh")\n'
    )


def test_directory_means_its_dockerfile(dockerfile: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["parse", "--dump", str(dockerfile.parent)]) == 0
    assert capsysbinary.readouterr().out.startswith(b'(arg "BASE=busybox")\n')


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"FROM a\nRUN caf\xe9\n")))
    assert main(["parse", "--dump", "-"]) == 0
    assert capsysbinary.readouterr().out == b'(from "a")\n(run "caf\\xe9")\n'


def test_syntax_error_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM a\nENV lonely\n")
    assert main(["parse", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:2:1: ENV must have two arguments\n")
    assert "   2 | ENV lonely\n       ^" in err


def test_warnings_go_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM a\nRUN a \\\n\n b\n")
    assert main(["parse", str(path)]) == 0
    assert "warning: Empty continuation line found in: RUN a  b" in capsys.readouterr().err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(tmp_path / "nope")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_real_command_fails_cleanly_and_imports_lark_lazily(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b'FROM a\nRUN ["\xff", 1]\n')
    done = subprocess.run(
        [sys.executable, "-m", "pybuildkit.cli.main", "parse", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"{path}:2:1: when using JSON array syntax" in done.stderr
    probe = "import sys, pybuildkit.syntax; print('lark' in sys.modules)"
    lazy = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert lazy.stdout.strip() == "False"
