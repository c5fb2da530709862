"""`pybuild pull/push/login` argument handling that fails before any network request."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

pytest.importorskip("httpx", reason="httpx is not installed: add it to pyproject dependencies (pybuildkit.registry needs it)")

from pybuildkit.cli.main import main


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYBUILDKIT_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("PYBUILDKIT_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["pull", "library/UPPER"], 1, "invalid reference format"),
        (["pull", "--platform", "a/b/c/d", "127.0.0.1:1/app"], 1, "invalid platform"),
        (["push", "127.0.0.1:1/missing:v1"], 1, "no such image"),
        (["login", "127.0.0.1:1"], 2, "username required"),
        (["login", "-u", "me", "--password-stdin", "127.0.0.1:1"], 2, "standard input was empty"),
        (["login", "-u", "me", "127.0.0.1:1"], 2, "password required"),
    ],
)
def test_errors_before_the_network(argv: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("size", ["0", "-1", "lots"])
def test_bad_chunk_sizes_are_usage_errors(size: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["push", "--chunk-size", size, "x"])
    assert info.value.code == 2 and "size" in capsys.readouterr().err


def test_logout_when_not_logged_in(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["login", "--logout", "127.0.0.1:5000"]) == 0
    assert "Not logged in to 127.0.0.1:5000" in capsys.readouterr().err


def test_push_by_digest_needs_a_destination(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pybuildkit.store import Store
    from tests.unit.store.imagefactory import make_image

    with Store(tmp_path / "root") as store:
        image = make_image(store, tags=("127.0.0.1:1/app:v1",))
    for ref in (image.digest, image.digest[7:19], "127.0.0.1:1/app:other"):
        code = main(["push", ref])
        err = capsys.readouterr().err
        assert code in (1, 2) and ("give a destination" in err or "no such image" in err), err
