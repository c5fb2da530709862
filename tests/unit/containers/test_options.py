"""Docker's rules for `pybuild run` flags and overrides, as tables."""

from __future__ import annotations

import signal

import pytest

from pybuildkit.containers import (
    Limits,
    VolumeSpec,
    merge_env,
    parse_cpus,
    parse_env_file,
    parse_memory,
    parse_signal,
    parse_volume,
    resolve_process,
)
from pybuildkit.containers.cgroups import plan_cgroups
from pybuildkit.errors import UsageError

IMAGE = dict(image_entrypoint=("/ep",), image_cmd=("default", "arg"), image_env=("PATH=/bin", "A=1"), image_workdir="/srv", image_user="nobody")


@pytest.mark.parametrize(
    "overrides, argv",
    [
        ({}, ("/ep", "default", "arg")),
        ({"command": ("x", "y")}, ("/ep", "x", "y")),
        ({"entrypoint": "/other"}, ("/other",)),
        ({"entrypoint": "/other", "command": ("z",)}, ("/other", "z")),
        ({"entrypoint": "", "command": ("sh",)}, ("sh",)),
    ],
)
def test_entrypoint_and_cmd(overrides: dict, argv: tuple) -> None:
    assert resolve_process(**IMAGE, **overrides).argv == argv


@pytest.mark.parametrize(
    "overrides, env, cwd, user",
    [
        ({}, ("PATH=/bin", "A=1"), "/srv", "nobody"),
        ({"env": ("A=2", "B=3"), "workdir": "/tmp", "user": "0:0"}, ("PATH=/bin", "A=2", "B=3"), "/tmp", "0:0"),
        ({"user": ""}, ("PATH=/bin", "A=1"), "/srv", ""),
    ],
)
def test_env_workdir_user(overrides: dict, env: tuple, cwd: str, user: str) -> None:
    process = resolve_process(**IMAGE, **overrides)
    assert (process.env, process.cwd, process.user) == (env, cwd, user)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"image_entrypoint": None, "image_cmd": None}, "no command specified"),
        ({"workdir": "relative"}, "absolute path"),
    ],
)
def test_process_errors(overrides: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        resolve_process(**{**IMAGE, **overrides})


def test_env_file_rules() -> None:
    text = "# comment\n\nA=1\n  B=two words \nFROM_HOST\nMISSING\nC=\n"
    assert parse_env_file(text, {"FROM_HOST": "h"}) == ("A=1", "B=two words ", "FROM_HOST=h", "C=")
    with pytest.raises(UsageError, match="whitespace"):
        parse_env_file("BAD KEY=1\n", {})


def test_merge_env_keeps_first_position() -> None:
    assert merge_env(["A=1", "B=2"], ["A=3"]) == ("A=3", "B=2")


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("/host:/ctr", VolumeSpec("bind", "/ctr", "/host")),
        ("/host:/ctr:ro", VolumeSpec("bind", "/ctr", "/host", readonly=True)),
        ("data:/var/lib/x/", VolumeSpec("volume", "/var/lib/x", "data")),
        ("/anon", VolumeSpec("volume", "/anon", None, anonymous=True)),
    ],
)
def test_parse_volume(spec: str, expected: VolumeSpec) -> None:
    assert parse_volume(spec) == expected


@pytest.mark.parametrize("spec", ["rel/path:/x", "./x:/y", "name:relative", "/a:/b:xx", "name:/", "bad name:/x"])
def test_parse_volume_errors(spec: str) -> None:
    with pytest.raises(UsageError):
        parse_volume(spec)


@pytest.mark.parametrize("text, value", [("64m", 64 << 20), ("1g", 1 << 30), ("10485760", 10 << 20), ("512MB", 512 << 20)])
def test_parse_memory(text: str, value: int) -> None:
    assert parse_memory(text) == value


@pytest.mark.parametrize("text", ["lots", "1m", "-5m"])
def test_parse_memory_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_memory(text)


@pytest.mark.parametrize("text, quota", [("1", 100_000), ("0.5", 50_000), ("2.25", 225_000)])
def test_parse_cpus(text: str, quota: int) -> None:
    assert parse_cpus(text) == quota


@pytest.mark.parametrize("text, number", [("SIGTERM", signal.SIGTERM), ("term", signal.SIGTERM), ("9", 9), ("SIGUSR1", signal.SIGUSR1)])
def test_parse_signal(text: str, number: int) -> None:
    assert parse_signal(text) == number


@pytest.mark.parametrize("text", ["SIGNOPE", "0", "999"])
def test_parse_signal_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_signal(text)


MIXED_MOUNTS = """cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0
"""
OWN = "4:memory:/outer\n8:pids:/\n0::/\n"


def test_cgroup_plan_v1_with_unavailable_cpu() -> None:
    plan = plan_cgroups("c1", Limits(memory=64 << 20, cpu_quota=50_000, pids=10), mounts=MIXED_MOUNTS, own=OWN, read=lambda p: "")
    assert plan.writes == (
        ("/sys/fs/cgroup/memory/outer/c1", "memory.limit_in_bytes", str(64 << 20)),
        ("/sys/fs/cgroup/pids/c1", "pids.max", "10"),
    )
    assert len(plan.unsupported) == 1 and "--cpus" in plan.unsupported[0]


def test_cgroup_plan_v2() -> None:
    mounts = "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n"
    read = lambda p: "cpu memory pids" if p.endswith("cgroup.controllers") else ""  # noqa: E731
    plan = plan_cgroups("c1", Limits(memory=1 << 30, cpu_quota=50_000, pids=5), mounts=mounts, own="0::/user\n", read=read)
    assert plan.writes == (
        ("/sys/fs/cgroup/user/c1", "memory.max", str(1 << 30)),
        ("/sys/fs/cgroup/user/c1", "cpu.max", "50000 100000"),
        ("/sys/fs/cgroup/user/c1", "pids.max", "5"),
    )
    assert plan.unsupported == ()
