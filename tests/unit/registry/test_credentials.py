"""Credentials in config.json: Docker's file and ours, keys in every spelling, atomic 0600 writes."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

pytest.importorskip("httpx", reason="httpx is not installed: add it to pyproject dependencies (pybuildkit.registry needs it)")

from pybuildkit.errors import RegistryError
from pybuildkit.registry.credentials import (
    Credentials,
    erase_credentials,
    load_credentials,
    normalise_key,
    save_credentials,
)


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    ours = tmp_path / "ours" / "config.json"
    docker = tmp_path / "docker"
    monkeypatch.setenv("PYBUILDKIT_CONFIG", str(ours))
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    docker.mkdir()
    return ours, docker / "config.json"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("docker.io", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
        ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"),
        ("HTTPS://Reg.Example", "reg.example"),
    ],
)
def test_normalise_key(key: str, expected: str) -> None:
    assert normalise_key(key) == expected


@pytest.mark.parametrize(
    ("key", "entry", "domain"),
    [
        ("https://index.docker.io/v1/", {"auth": _auth("u", "p:w")}, "docker.io"),
        ("127.0.0.1:5000", {"auth": _auth("u", "p:w")}, "127.0.0.1:5000"),
        ("http://127.0.0.1:5000", {"username": "u", "password": "p:w"}, "127.0.0.1:5000"),
    ],
)
def test_docker_config_entries(homes: tuple[Path, Path], key: str, entry: dict[str, str], domain: str) -> None:
    _, docker = homes
    docker.write_text(json.dumps({"auths": {key: entry, "other.example": {"auth": _auth("x", "y")}}}))
    assert load_credentials(domain) == Credentials("u", "p:w")
    assert load_credentials("nowhere.example") is None


def test_ours_wins_and_round_trips(homes: tuple[Path, Path]) -> None:
    ours, docker = homes
    docker.write_text(json.dumps({"auths": {"127.0.0.1:5000": {"auth": _auth("docker", "d")}}}))
    path = save_credentials("127.0.0.1:5000", Credentials("mine", "m"))
    assert path == ours
    assert stat.S_IMODE(ours.stat().st_mode) == 0o600
    assert load_credentials("127.0.0.1:5000") == Credentials("mine", "m")
    save_credentials("docker.io", Credentials("hub", "h"))
    assert "https://index.docker.io/v1/" in json.loads(ours.read_text())["auths"]
    assert erase_credentials("127.0.0.1:5000") is True
    assert erase_credentials("127.0.0.1:5000") is False
    assert load_credentials("127.0.0.1:5000") == Credentials("docker", "d")
    assert load_credentials("docker.io") == Credentials("hub", "h")
    assert [p.name for p in ours.parent.iterdir()] == ["config.json"]


def test_save_keeps_other_keys(homes: tuple[Path, Path]) -> None:
    ours, _ = homes
    ours.parent.mkdir(parents=True)
    ours.write_text(json.dumps({"auths": {"a.example": {"auth": _auth("a", "b")}}, "proxies": {"x": 1}}))
    save_credentials("b.example", Credentials("c", "d"))
    data = json.loads(ours.read_text())
    assert data["proxies"] == {"x": 1} and set(data["auths"]) == {"a.example", "b.example"}


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "not valid JSON"),
        ("[1]", "JSON object"),
        ('{"auths": {"127.0.0.1:5000": {"auth": "!!!"}}}', "base64"),
        ('{"auths": {"127.0.0.1:5000": {"auth": "' + base64.b64encode(b"nocolon").decode() + '"}}}', "':'"),
    ],
)
def test_bad_files_are_registry_errors(homes: tuple[Path, Path], content: str, match: str) -> None:
    _, docker = homes
    docker.write_text(content)
    with pytest.raises(RegistryError, match=match):
        load_credentials("127.0.0.1:5000")


def test_repr_hides_password() -> None:
    assert "secret" not in repr(Credentials("u", "secret"))
