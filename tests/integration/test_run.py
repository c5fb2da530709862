"""`pybuild run` for real: namespaces, overlay, volumes, a pseudo-terminal, signals, limits."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import attrs
import pytest

from pybuildkit.store import Store
from tests.support.images import install_busybox

EP_IMAGE = "ep:latest"
CONFIGURED_IMAGE = "configured:latest"


def make_store(root: Path, workdir: Path) -> Path:
    """busybox, `ep` (ENTRYPOINT echo ep, CMD default) and `configured` (WORKDIR, ENV, VOLUME,
    STOPSIGNAL SIGUSR1) in a store at `root`."""
    with Store(root) as store:
        digest = install_busybox(store, workdir)
        base = store.image(digest)
        variants = {
            EP_IMAGE: {"entrypoint": ("echo", "ep"), "cmd": ("default",)},
            CONFIGURED_IMAGE: {
                "working_dir": "/tmp",
                "env": (*base.config.config.env, "A=from-image", "B=image"),
                "volumes": ("/etc",),
                "stop_signal": "SIGUSR1",
            },
        }
        for tag, fields in variants.items():
            config = attrs.evolve(base.config, config=attrs.evolve(base.config.config, **fields))
            store.put_image(config, list(base.layers), tags=[tag])
    return root


def pybuild(root: Path, *args: str, input: bytes | None = None, timeout: float = 30) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI against the store at `root`; stdout and stderr captured."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, "-m", "pybuildkit.cli.main", "--root", str(root), *args],
        input=input,
        capture_output=True,
        timeout=timeout,
        env=env,
    )


pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="containers need root (namespaces, overlayfs, cgroups)"),
]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("run")
    return make_store(work / "store", work)


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "containers").iterdir() if not p.name.startswith("."))


@pytest.mark.parametrize("status", [0, 3])
def test_exit_status_is_the_containers(root: Path, status: int) -> None:
    done = pybuild(root, "run", "--rm", "--name", f"exit{status}", "busybox", "sh", "-c", f"echo out; exit {status}")
    assert (done.returncode, done.stdout) == (status, b"out\n"), done.stderr
    assert f"exit{status}" not in pybuild(root, "ps", "-a").stdout.decode()


@pytest.mark.parametrize(
    "image, flags, command, expected",
    [
        (EP_IMAGE, [], [], "ep default"),
        (EP_IMAGE, [], ["x", "y"], "ep x y"),
        (EP_IMAGE, ["--entrypoint", "echo"], [], ""),
        (EP_IMAGE, ["--entrypoint", "echo"], ["only"], "only"),
        (CONFIGURED_IMAGE, [], ["sh", "-c", 'echo "$PWD $A $B"'], "/tmp from-image image"),
        (CONFIGURED_IMAGE, ["-w", "/etc", "-e", "A=flag"], ["sh", "-c", 'echo "$PWD $A $B"'], "/etc flag image"),
        ("busybox", ["-u", "65534:65534"], ["id", "-u"], "65534"),
        ("busybox", ["--hostname", "box"], ["hostname"], "box"),
        ("busybox", ["--network", "none"], ["ls", "/sys/class/net"], "lo"),
        ("busybox", ["--read-only"], ["sh", "-c", "touch /x 2>/dev/null || echo refused"], "refused"),
    ],
)
def test_override_rules(root: Path, image: str, flags: list[str], command: list[str], expected: str) -> None:
    done = pybuild(root, "run", "--rm", *flags, image, *command)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().rstrip("\n") == expected


def test_env_flags_and_env_file(root: Path, tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("# settings\nFROM_FILE=file value\nA=file\n")
    done = pybuild(root, "run", "--rm", "--env-file", str(env_file), "-e", "A=flag", "-e", "EMPTY=", CONFIGURED_IMAGE, "sh", "-c", 'echo "$FROM_FILE|$A|$B|${EMPTY-unset}"')
    assert done.stdout == b"file value|flag|image|\n", done.stderr


def test_bind_mount_and_named_volume_survive(root: Path, tmp_path: Path) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "in").write_text("from host\n")
    done = pybuild(root, "run", "--rm", "-v", f"{host}:/h", "-v", "keep:/data", "busybox", "sh", "-c", "cat /h/in; echo kept > /data/f; echo back > /h/out")
    assert done.stdout == b"from host\n", done.stderr
    assert (host / "out").read_text() == "back\n"
    done = pybuild(root, "run", "--rm", "-v", f"{host}:/h:ro", "-v", "keep:/data", "busybox", "sh", "-c", "cat /data/f; touch /h/x")
    assert done.stdout.startswith(b"kept\n") and done.returncode != 0  # read-only bind refuses the write
    assert b"keep" in pybuild(root, "volume", "ls").stdout
    assert pybuild(root, "volume", "rm", "keep").returncode == 0
    assert b"keep" not in pybuild(root, "volume", "ls").stdout


def test_rm_leaves_nothing_in_the_store(root: Path) -> None:
    volumes_before = sorted(os.listdir(root / "volumes"))
    containers_before = _leftovers(root)
    done = pybuild(root, "run", "--rm", "--tmpfs", "/scratch", CONFIGURED_IMAGE, "sh", "-c", "test -s /etc/passwd && touch /scratch/t /made && echo ok")
    assert done.stdout == b"ok\n", done.stderr  # the anonymous /etc volume was filled from the image
    assert _leftovers(root) == containers_before
    assert sorted(os.listdir(root / "volumes")) == volumes_before
    active = [line for line in Path("/proc/self/mounts").read_text().splitlines() if str(root) in line]
    assert active == []


def _read_until(fd: int, needle: bytes, timeout: float = 10.0) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while needle not in data and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
    return data


def test_tty_session(root: Path) -> None:
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the CLI under a terminal
        os.execv(sys.executable, [sys.executable, "-m", "pybuildkit.cli.main", "--root", str(root), "run", "--rm", "-i", "-t", "busybox", "sh"])
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        _read_until(fd, b"# ")
        os.write(fd, b"stty size\n")
        first = _read_until(fd, b"24 80\r\n")
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))  # SIGWINCH to the CLI
        time.sleep(0.2)
        os.write(fd, b"stty size; tty; echo h''i; exit 5\n")
        out = _read_until(fd, b"hi\r\n")
        _read_until(fd, b"\x00", timeout=2)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert b"24 80\r\n" in first
    assert b"30 100\r\n" in out and b"/dev/pts/0\r\n" in out and b"hi\r\n" in out
    assert os.waitstatus_to_exitcode(status) == 5


@pytest.mark.parametrize("flags, expected", [(["-i"], b"piped\n"), ([], b"")])
def test_stdin_only_with_interactive(root: Path, flags: list[str], expected: bytes) -> None:
    done = pybuild(root, "run", "--rm", *flags, "busybox", "cat", input=b"piped\n")
    assert (done.returncode, done.stdout) == (0, expected), done.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signals_to_the_cli_reach_the_container(root: Path, tmp_path: Path, signum: int) -> None:
    host = tmp_path / "sig"
    host.mkdir()
    name = signal.Signals(signum).name.removeprefix("SIG")
    script = f'trap "echo got-{name} > /h/term; exit 7" {name}; echo ready; while :; do sleep 0.05; done'
    proc = subprocess.Popen(
        [sys.executable, "-m", "pybuildkit.cli.main", "--root", str(root), "run", "--rm", "-v", f"{host}:/h", "busybox", "sh", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        proc.send_signal(signum)
        assert proc.wait(timeout=15) == 7
    finally:
        proc.kill()
        proc.wait()
    assert (host / "term").read_text() == f"got-{name}\n"


def test_pids_limit_bounds_a_fork_bomb(root: Path) -> None:
    # busybox sh gives up at the first fork the pids controller refuses ("can't fork").
    script = "for i in $(seq 40); do sleep 5 & echo started; done"
    done = pybuild(root, "run", "--rm", "--pids-limit", "12", "--memory", "64m", "busybox", "sh", "-c", script)
    if b"limit not applied" in done.stderr:
        assert b"pids" in done.stderr or b"memory" in done.stderr  # the clear warning, never silence
        pytest.skip(f"this machine refuses the limits: {done.stderr.decode().strip()}")
    assert done.returncode != 0 and b"can't fork" in done.stdout
    assert 0 < done.stdout.split().count(b"started") < 12
    unlimited = pybuild(root, "run", "--rm", "busybox", "sh", "-c", script)
    assert (unlimited.returncode, unlimited.stdout.split().count(b"started")) == (0, 40)


def test_memory_limit_stops_a_hungry_process(root: Path) -> None:
    script = 'x=$(head -c 40000000 /dev/zero | tr "\\0" a); echo survived ${#x}'
    done = pybuild(root, "run", "--rm", "--memory", "16m", "busybox", "sh", "-c", script)
    if b"limit not applied" in done.stderr:
        assert b"memory" in done.stderr
        pytest.skip(f"this machine refuses the memory limit: {done.stderr.decode().strip()}")
    assert done.returncode == 137 and b"survived" not in done.stdout  # the OOM killer, inside the group
    assert pybuild(root, "run", "--rm", "busybox", "sh", "-c", script).stdout == b"survived 40000000\n"


def test_limits_are_written_to_the_containers_cgroups_and_removed_after(root: Path) -> None:
    done = pybuild(root, "run", "-d", "--name", "limited", "--cpus", "0.5", "--memory", "32m", "--pids-limit", "50", "busybox", "sleep", "60")
    assert done.returncode == 0, done.stderr
    if b"limit not applied" in done.stderr:
        pytest.skip(f"this machine refuses some limits: {done.stderr.decode().strip()}")
    cid = done.stdout.decode().strip()
    try:
        state = json.loads((root / "containers" / cid / "state.json").read_text())
        values = {}
        for group in state["cgroups"]:
            for name in ("memory.limit_in_bytes", "cpu.cfs_quota_us", "cpu.cfs_period_us", "pids.max"):
                if os.path.exists(os.path.join(group, name)):
                    values[name] = Path(group, name).read_text().strip()
            procs = Path(group, "cgroup.procs").read_text().split()
            assert str(state["init_pid"]) in procs  # PID 1 itself is inside every group
        assert values == {"memory.limit_in_bytes": str(32 << 20), "cpu.cfs_quota_us": "50000", "cpu.cfs_period_us": "100000", "pids.max": "50"}
    finally:
        assert pybuild(root, "rm", "-f", "limited").returncode == 0
    assert not any(os.path.exists(group) for group in state["cgroups"])
