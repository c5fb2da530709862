"""`pybuild`'s edges: every command's --help, exit codes, --debug, and no traceback without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybuildkit.cli import main as cli
from pybuildkit.cli.main import COMMANDS, build_parser, main
from pybuildkit.errors import PlanError

#: Words of docker's own one-line summary each command's --help must use (pybuild-only commands: []).
DOCKER_WORDS: dict[str, list[str]] = {
    "build": ["build an image from a dockerfile"],
    "images": ["list images"],
    "inspect": ["image"],
    "tag": ["tag", "image"],
    "rmi": ["remove", "image"],
    "load": ["load", "image", "tar"],
    "save": ["save", "image", "archive"],
    "pull": ["image", "from a registry"],
    "push": ["image", "registry"],
    "login": ["log in", "registry"],
    "logout": ["registry"],
    "run": ["run", "new container"],
    "ps": ["list containers"],
    "start": ["start", "stopped container"],
    "stop": ["stop", "running container"],
    "kill": ["running container"],
    "rm": ["remove", "container"],
    "logs": ["container"],
    "exec": ["command in a running container"],
    "commit": ["image from a container's changes"],
    "volume": ["manage volumes"],
}


def registered() -> list[str]:
    return list(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYBUILDKIT_ROOT", str(tmp_path / "root"))
    monkeypatch.delenv("PYBUILDKIT_DEBUG", raising=False)


@pytest.mark.parametrize("command", registered())
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: pybuild {command}")
    description = out.split("\n\n")[1].lower()
    assert description.strip(), f"`pybuild {command} --help` says nothing about what it does"
    for words in DOCKER_WORDS.get(command, []):
        assert words in description, f"`pybuild {command} --help` should say {words!r} as docker does: {description!r}"


def test_docker_commands_are_all_there() -> None:
    assert set(DOCKER_WORDS) <= set(registered()) | (set(DOCKER_WORDS) - set(COMMANDS))
    assert {"build", "images", "rmi", "tag", "save", "load", "pull", "push", "run"} <= set(registered())


def test_top_level_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in registered():
        assert f"    {command}" in out


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        ([], 2),
        (["no-such-dir"], 2),
        (["build", "--progress=fancy", "."], 2),
        (["build"], 2),
        (["graph", "--format", "gif"], 2),
    ],
)
def test_usage_errors_exit_2(argv: list[str], code: int, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        got = main(argv)
    except SystemExit as exc:
        got = int(exc.code or 0)
    assert got == code
    assert "Traceback" not in capsys.readouterr().err


def _failing(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    def run(args: object) -> int:
        raise error

    monkeypatch.setattr("pybuildkit.cli.cmd_graph.run", run)


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (PlanError("stage 'x' not found"), 1, "stage 'x' not found"),
        (KeyboardInterrupt(), 130, "interrupted"),
        (PermissionError(13, "Permission denied", "/some/file"), 1, "error: Permission denied: /some/file"),
        (RuntimeError("boom"), 1, "internal error: RuntimeError: boom"),
        (BrokenPipeError(32, "Broken pipe"), 141, ""),
    ],
)
def test_exit_codes_and_messages(error: BaseException, code: int, message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _failing(monkeypatch, error)
    assert main(["graph", "."]) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("how", [["--debug"], ["-D"], []])
def test_debug_shows_the_traceback(how: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    if not how:
        monkeypatch.setenv("PYBUILDKIT_DEBUG", "1")
    _failing(monkeypatch, PlanError("stage 'x' not found"))
    assert main([*how, "graph", "."]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "stage 'x' not found" in err


def test_debug_lets_an_internal_error_through(monkeypatch: pytest.MonkeyPatch) -> None:
    _failing(monkeypatch, RuntimeError("boom"))
    with pytest.raises(RuntimeError):
        main(["--debug", "graph", "."])


def test_debug_before_a_bare_context_still_means_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-D", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "missing" in err.splitlines()[-1]


def test_exit_codes_are_documented_where_they_are_made() -> None:
    assert cli.__doc__ is not None and all(code in cli.__doc__ for code in ("0", "1", "2", "125", "130", "141"))
