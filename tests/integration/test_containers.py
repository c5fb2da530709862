"""The container lifecycle for real: detached runs, ps, logs, exec, stop, start, commit, rm."""

from __future__ import annotations

import json
import os
import pty
import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_run import CONFIGURED_IMAGE, _read_until, make_store, pybuild

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="containers need root (namespaces, overlayfs, cgroups)"),
]

LOOP = "while :; do sleep 0.05; done"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("containers")
    return make_store(work / "store", work)


def _state(root: Path, name: str) -> dict:
    for line in pybuild(root, "ps", "-a", "--json").stdout.splitlines():
        row = json.loads(line)
        if row["Names"] == name:
            return row
    raise AssertionError(f"no container {name}")


def _until(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_detached_ps_logs_exec_stop_commit(root: Path) -> None:
    script = f'trap "echo got-usr1 > /stopped; exit 0" USR1; echo started; {LOOP}'
    done = pybuild(root, "run", "-d", "--name", "svc", CONFIGURED_IMAGE, "sh", "-c", script)
    assert done.returncode == 0, done.stderr
    cid = done.stdout.decode().strip()
    assert len(cid) == 64
    ps = pybuild(root, "ps").stdout.decode()
    assert cid[:12] in ps and "svc" in ps and "Up " in ps
    assert _until(lambda: pybuild(root, "logs", "svc").stdout == b"started\n")

    done = pybuild(root, "exec", "svc", "sh", "-c", 'echo "$A $PWD"; hostname; cat /proc/1/cmdline | tr "\\0" " "')
    lines = done.stdout.decode().splitlines()
    assert done.returncode == 0 and lines[0] == "from-image /tmp" and lines[1] == cid[:12], done.stderr
    assert pybuild(root, "exec", "svc", "sh", "-c", "exit 9").returncode == 9
    assert pybuild(root, "exec", "svc", "no-such-command").returncode == 127

    started = time.monotonic()
    assert pybuild(root, "stop", "-t", "20", "svc").returncode == 0
    assert time.monotonic() - started < 10  # the image's STOPSIGNAL (SIGUSR1) was trapped: no SIGKILL
    state = _state(root, "svc")
    assert (state["State"], state["ExitCode"]) == ("exited", 0)

    done = pybuild(root, "commit", "svc", "svc-image:v1")
    assert done.returncode == 0, done.stderr
    done = pybuild(root, "run", "--rm", "svc-image:v1", "cat", "/stopped")
    assert done.stdout == b"got-usr1\n", done.stderr
    image = json.loads(pybuild(root, "inspect", "svc-image:v1").stdout)
    assert "svc-image" in json.dumps(image)

    assert pybuild(root, "rm", "svc").returncode == 0
    assert "svc" not in pybuild(root, "ps", "-a").stdout.decode()


def test_start_attached_keeps_the_writable_layer(root: Path) -> None:
    done = pybuild(root, "run", "--name", "again", "busybox", "sh", "-c", "echo run >> /count; cat /count; exit 4")
    assert (done.returncode, done.stdout) == (4, b"run\n")
    done = pybuild(root, "start", "-a", "again")
    assert (done.returncode, done.stdout) == (4, b"run\nrun\n")
    assert pybuild(root, "logs", "again").stdout == b"run\nrun\nrun\n"
    assert pybuild(root, "rm", "again").returncode == 0


def test_kill_rm_force_and_anonymous_volumes(root: Path) -> None:
    done = pybuild(root, "run", "-d", "--name", "victim", CONFIGURED_IMAGE, "sh", "-c", LOOP)
    assert done.returncode == 0, done.stderr
    cid = done.stdout.decode().strip()
    config = json.loads((root / "containers" / cid / "config.json").read_text())
    anonymous = [v["source"] for v in config["volumes"] if v["anonymous"]]
    assert len(anonymous) == 1 and (root / "volumes" / anonymous[0] / "_data" / "passwd").exists()

    refused = pybuild(root, "rm", "victim")
    assert refused.returncode != 0 and b"running" in refused.stderr and b"Traceback" not in refused.stderr
    assert pybuild(root, "kill", "-s", "TERM", "victim").returncode == 0  # sh ignores nothing: TERM ends it
    assert _until(lambda: _state(root, "victim")["State"] == "exited")
    assert _state(root, "victim")["ExitCode"] == 143

    assert pybuild(root, "start", "victim").returncode == 0
    assert _state(root, "victim")["State"] == "running"
    assert pybuild(root, "rm", "-f", "-v", "victim").returncode == 0
    assert not (root / "containers" / cid).exists()
    assert not (root / "volumes" / anonymous[0]).exists()
    assert [line for line in Path("/proc/self/mounts").read_text().splitlines() if cid in line] == []


def test_exec_with_a_terminal(root: Path) -> None:
    assert pybuild(root, "run", "-d", "--name", "termbox", "busybox", "sh", "-c", LOOP).returncode == 0
    try:
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the CLI under a terminal
            os.execv(sys.executable, [sys.executable, "-m", "pybuildkit.cli.main", "--root", str(root), "exec", "-i", "-t", "termbox", "sh"])
        try:
            _read_until(fd, b"# ")
            os.write(fd, b"tty; exit 6\n")
            out = _read_until(fd, b"\x00", timeout=3)
        finally:
            _, status = os.waitpid(pid, 0)
            os.close(fd)
        assert b"/dev/pts/" in out and os.waitstatus_to_exitcode(status) == 6
    finally:
        pybuild(root, "rm", "-f", "termbox")


@pytest.mark.parametrize(
    "args, message",
    [
        (["logs", "nobody-here"], b"No such container: nobody-here"),
        (["run", "--rm", "no-such-image:v9"], b"no-such-image"),
        (["run", "--rm", "-v", "relative:dir", "busybox"], b"must be absolute"),
        (["run", "--rm", "--memory", "lots", "busybox"], b"invalid memory size"),
        (["exec", "nobody-here", "true"], b"No such container"),
        (["volume", "rm", "never-made"], b"no such volume"),
    ],
)
def test_clear_errors(root: Path, args: list[str], message: bytes) -> None:
    done = pybuild(root, *args)
    assert done.returncode != 0 and message in done.stderr and b"Traceback" not in done.stderr


def test_duplicate_names_are_refused(root: Path) -> None:
    assert pybuild(root, "run", "--name", "twice", "busybox", "true").returncode == 0
    done = pybuild(root, "run", "--name", "twice", "busybox", "true")
    assert done.returncode != 0 and b"already in use" in done.stderr
    assert pybuild(root, "rm", "twice").returncode == 0


def test_detached_rm_and_logs_follow(root: Path) -> None:
    done = pybuild(root, "run", "-d", "--rm", "--name", "brief", "busybox", "sh", "-c", "echo one; sleep 0.5; echo two; exit 3")
    assert done.returncode == 0, done.stderr
    cid = done.stdout.decode().strip()
    follow = pybuild(root, "logs", "-f", "brief")
    assert follow.stdout == b"one\ntwo\n" or follow.returncode != 0  # --rm may win the race after the exit
    assert _until(lambda: not (root / "containers" / cid).exists())
    assert "brief" not in pybuild(root, "ps", "-a").stdout.decode()


def test_logs_follow_ends_with_the_container(root: Path) -> None:
    assert pybuild(root, "run", "-d", "--name", "talker", "busybox", "sh", "-c", "echo one; sleep 0.5; echo two").returncode == 0
    follow = pybuild(root, "logs", "-f", "talker")
    assert follow.stdout == b"one\ntwo\n"
    assert pybuild(root, "rm", "talker").returncode == 0


def test_stop_kills_after_the_grace_period(root: Path) -> None:
    assert pybuild(root, "run", "-d", "--name", "stubborn", "busybox", "sh", "-c", f'trap "" TERM; {LOOP}').returncode == 0
    started = time.monotonic()
    assert pybuild(root, "stop", "-t", "1", "stubborn").returncode == 0
    assert time.monotonic() - started >= 1.0  # the grace period was waited out before SIGKILL
    assert _state(root, "stubborn")["ExitCode"] == 137
    assert pybuild(root, "rm", "stubborn").returncode == 0


def test_commit_of_a_running_container_leaves_the_runtime_stubs_out(root: Path) -> None:
    import tarfile

    from pybuildkit.store import Store

    assert pybuild(root, "run", "-d", "--name", "live", "busybox", "sh", "-c", f"echo x > /made; {LOOP}").returncode == 0
    try:
        assert _until(lambda: pybuild(root, "exec", "live", "test", "-f", "/made").returncode == 0)
        done = pybuild(root, "commit", "live", "live:snap")
        assert done.returncode == 0, done.stderr
    finally:
        pybuild(root, "rm", "-f", "live")
    with Store(root) as store:
        layer = store.image("live:snap").layers[-1]
        with store.open_blob(layer.digest) as blob, tarfile.open(fileobj=blob, mode="r:gz") as tar:
            names = sorted(name.rstrip("/") for name in tar.getnames())
    assert "made" in names and not {"etc/hosts", "etc/hostname", "etc/resolv.conf", "proc", "sys", "dev"} & set(names)


def test_a_lost_monitor_is_noticed_and_rm_cleans_up(root: Path) -> None:
    import signal

    done = pybuild(root, "run", "-d", "--name", "orphan", "busybox", "sleep", "60")
    assert done.returncode == 0, done.stderr
    cid = done.stdout.decode().strip()
    again = pybuild(root, "start", "orphan")
    assert again.returncode != 0 and b"already running" in again.stderr
    state = json.loads((root / "containers" / cid / "state.json").read_text())
    os.kill(state["monitor"], signal.SIGKILL)  # a crash: nobody records the exit
    os.kill(state["pid"], signal.SIGKILL)
    assert _until(lambda: _state(root, "orphan")["State"] == "exited")
    assert _state(root, "orphan")["ExitCode"] == 255
    assert pybuild(root, "rm", "orphan").returncode == 0
    assert [line for line in Path("/proc/self/mounts").read_text().splitlines() if cid in line] == []
    assert not any(os.path.exists(group) for group in state["cgroups"])


def test_volume_commands_and_in_use_refusal(root: Path) -> None:
    assert pybuild(root, "volume", "create", "shared").stdout == b"shared\n"
    info = json.loads(pybuild(root, "volume", "inspect", "shared").stdout)
    assert info[0]["Name"] == "shared" and info[0]["Mountpoint"].endswith("volumes/shared/_data")
    assert pybuild(root, "run", "--name", "user1", "-v", "shared:/s", "busybox", "sh", "-c", "echo v > /s/f").returncode == 0
    refused = pybuild(root, "volume", "rm", "shared")
    assert refused.returncode != 0 and b"in use" in refused.stderr
    assert pybuild(root, "rm", "-v", "user1").returncode == 0  # -v removes anonymous volumes only
    assert Path(info[0]["Mountpoint"], "f").read_text() == "v\n"
    assert b"shared" in pybuild(root, "volume", "ls", "-q").stdout
    assert pybuild(root, "volume", "rm", "shared").returncode == 0


def test_init_reaps_orphaned_zombies(root: Path) -> None:
    script = "(sleep 0.1 &); sleep 0.5; ps -o stat,comm | grep -c '^Z' || true"
    done = pybuild(root, "run", "--rm", "busybox", "sh", "-c", script)
    assert done.stdout == b"0\n", done.stderr


@pytest.mark.parametrize("command", [["stop"], ["rm", "-f"]])
def test_stop_or_rm_of_a_detached_rm_container(root: Path, command: list[str]) -> None:
    name = f"auto-{command[0]}"
    done = pybuild(root, "run", "-d", "--rm", "--name", name, "busybox", "sleep", "60")
    assert done.returncode == 0, done.stderr
    finished = pybuild(root, *command, name)
    assert finished.returncode == 0, finished.stderr
    assert _until(lambda: not (root / "containers" / done.stdout.decode().strip()).exists())
