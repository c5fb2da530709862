"""SandboxSpec and Mount validate what they are given and normalise it to frozen values."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from pybuildkit.errors import SandboxError
from pybuildkit.sandbox.spec import DEFAULT_PATH, Mount, SandboxSpec


def test_spec_normalises_to_frozen_values() -> None:
    spec = SandboxSpec("/r", ["sh", "-c", "x"], env={"A": "1"}, mounts=[Mount("tmpfs", "/t")], cwd="/a/../b")
    assert spec.rootfs == Path("/r") and spec.argv == ("sh", "-c", "x")
    assert spec.env == (("A", "1"),) and isinstance(spec.mounts, tuple)
    assert spec.environ == {"A": "1", "PATH": DEFAULT_PATH}
    assert spec.normalized_cwd == "/b"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        spec.cwd = "/"  # type: ignore[misc]


def test_mount_options_accept_one_string() -> None:
    assert Mount("tmpfs", "/t", options="size=1m").options == ("size=1m",)


def test_explicit_path_is_kept() -> None:
    assert SandboxSpec("/r", ["x"], env=[("PATH", "/bin")]).environ["PATH"] == "/bin"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"argv": []}, "argv must not be empty"),
        ({"network": "bridge"}, "network must be"),
        ({"cwd": "relative"}, "cwd must be absolute"),
        ({"capabilities": {"CAP_BOGUS"}}, "unknown capabilities"),
    ],
)
def test_spec_rejects(kwargs: dict, message: str) -> None:
    with pytest.raises(SandboxError, match=message):
        SandboxSpec(**{"rootfs": "/r", "argv": ["x"], **kwargs})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("bind", "/t"), "needs a source"),
        (("tmpfs", "t"), "must be absolute"),
        (("volume", "/t"), "unknown mount type"),
    ],
)
def test_mount_rejects(args: tuple, message: str) -> None:
    with pytest.raises(SandboxError, match=message):
        Mount(*args)
