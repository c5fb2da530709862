"""The sandbox for real: namespaces, pivot_root, mounts and users on a busybox rootfs, as root."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from pybuildkit.errors import SandboxError
from pybuildkit.sandbox import Mount, SandboxSpec, resolve_user, run, start
from tests.support.rootfs import (  # noqa: F401 - fixtures
    TEST_GID,
    TEST_GROUPS,
    TEST_UID,
    busybox_rootfs,
    busybox_template,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="sandbox integration tests need root (namespaces, mounts)"),
]


def sh(rootfs: Path, script: str, **kwargs: object) -> tuple[int, str]:
    chunks: list[bytes] = []
    status = run(SandboxSpec(rootfs, ["/bin/sh", "-c", script], **kwargs), chunks.append)
    return status, b"".join(chunks).decode()


def test_command_is_pid_1(busybox_template: Path) -> None:
    script = "echo $$; tr '\\0' ' ' < /proc/1/cmdline; echo"
    status, out = sh(busybox_template, script)
    assert status == 0
    assert out.splitlines() == ["1", f"/bin/sh -c {script} "]


def test_init_mode_runs_command_as_child_of_pid_1(busybox_template: Path) -> None:
    status, out = sh(busybox_template, "echo $$", init=True)
    assert (status, out) == (0, "2\n")


def test_hostname_is_the_sandbox_s(busybox_template: Path) -> None:
    status, out = sh(busybox_template, "hostname; cat /etc/hostname; grep -c step-42 /etc/hosts", hostname="step-42")
    assert (status, out.split()) == (0, ["step-42", "step-42", "1"])


def test_network_none_has_only_loopback_up(busybox_template: Path) -> None:
    status, out = sh(busybox_template, "ls /sys/class/net; ip -o link", network="none")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "lo"
    links = [line for line in lines[1:] if line.strip()]
    assert len(links) == 1 and links[0].startswith("1: lo:") and ",UP" in links[0]


def test_network_host_sees_host_interfaces(busybox_template: Path) -> None:
    host = sorted(os.listdir("/sys/class/net"))
    status, out = sh(busybox_template, "ls /sys/class/net")
    assert status == 0 and out.split() == host


def test_host_files_outside_rootfs_are_invisible(busybox_template: Path) -> None:
    marker = Path("/tmp") / f"pybuild-sandbox-marker-{uuid.uuid4().hex}"
    marker.write_text("host secret")
    try:
        status, out = sh(
            busybox_template,
            f"ls /work >/dev/null 2>&1 && echo work-visible; test -e {marker} && echo tmp-visible;"
            " grep -q ' /work' /proc/self/mountinfo && echo host-mounts-visible; echo done",
        )
    finally:
        marker.unlink()
    assert (status, out) == (0, "done\n")


def _host_processes_with(needle: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if needle.encode() in cmdline:
                found.append(int(entry))
    return found


@pytest.mark.parametrize("init", [False, True])
def test_background_processes_die_with_the_command(busybox_template: Path, init: bool) -> None:
    seconds = str(900000 + uuid.uuid4().int % 99999)
    status, out = sh(busybox_template, f"sleep {seconds} & sleep {seconds} & echo started", init=init)
    assert (status, out) == (0, "started\n")
    assert _host_processes_with(f"sleep\0{seconds}") == []


@pytest.mark.parametrize(
    ("script", "init", "expected"),
    [
        ("exit 0", False, 0),
        ("exit 3", False, 3),
        ("exit 255", False, 255),
        ("sh -c 'kill -9 $$'; exit $?", False, 137),
        ("kill -TERM $$", True, 143),
        ("kill -9 $$", True, 137),
        ("nosuchcommand", False, 127),
    ],
)
def test_exit_status_propagates(busybox_template: Path, script: str, init: bool, expected: int) -> None:
    status, _ = sh(busybox_template, script, init=init)
    assert status == expected


@pytest.mark.parametrize(
    ("argv", "env", "status", "message"),
    [
        (["no-such-binary", "x"], {}, 127, b"exec no-such-binary: not found"),
        (["/no/such/path"], {}, 127, b"exec /no/such/path: not found"),
        (["group"], {"PATH": "/nonexistent::/etc"}, 126, b"exec group: Permission denied"),
        (["busybox", "true"], {"PATH": "/nonexistent:/bin"}, 0, b""),
    ],
)
def test_exec_failures_are_shell_like(
    busybox_template: Path, argv: list[str], env: dict, status: int, message: bytes
) -> None:
    chunks: list[bytes] = []
    assert run(SandboxSpec(busybox_template, argv, env=env), chunks.append) == status
    assert message in b"".join(chunks)


def test_env_cwd_and_user_apply(busybox_rootfs: Path) -> None:
    uid, gid, groups = resolve_user(busybox_rootfs, "tester")
    status, out = sh(
        busybox_rootfs,
        'echo "$GREETING"; echo "$PATH"; pwd; id',
        env={"GREETING": "hello world"},
        cwd="/srv/app/../app",
        uid=uid,
        gid=gid,
        groups=groups,
    )
    assert status == 0
    greeting, path, cwd, ids = out.splitlines()
    assert greeting == "hello world"
    assert path == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert cwd == "/srv/app"
    assert ids == (
        f"uid={TEST_UID}(tester) gid={TEST_GID}(tester) "
        f"groups={TEST_GID}(tester),{TEST_GROUPS[0]}(audio),{TEST_GROUPS[1]}(video)"
    )
    assert (busybox_rootfs / "srv" / "app").is_dir()


def test_numeric_user_not_in_passwd(busybox_template: Path) -> None:
    status, out = sh(busybox_template, "id -u; id -g; id -G", uid=4242, gid=0)
    assert (status, out.split()) == (0, ["4242", "0", "0"])


def test_output_is_streamed_while_running(busybox_template: Path) -> None:
    arrivals: list[tuple[float, bytes]] = []
    status = run(
        SandboxSpec(busybox_template, ["/bin/sh", "-c", "echo first; sleep 0.6; echo second >&2"]),
        lambda chunk: arrivals.append((time.monotonic(), chunk)),
    )
    finished = time.monotonic()
    assert status == 0
    assert b"".join(c for _, c in arrivals) == b"first\nsecond\n"
    assert finished - arrivals[0][0] >= 0.3


def test_no_builder_fd_leaks_into_the_sandbox(busybox_template: Path, tmp_path: Path) -> None:
    leaky = os.open(tmp_path / "leak", os.O_CREAT | os.O_RDWR)
    os.set_inheritable(leaky, True)
    try:
        status, out = sh(busybox_template, "ls -l /proc/self/fd")
    finally:
        os.close(leaky)
    assert status == 0
    fds = dict(re.findall(r" (\d+) -> (\S+)", out))
    extra = {fd: target for fd, target in fds.items() if fd not in ("0", "1", "2")}
    # the only other descriptor is the one `ls` opened to read /proc/self/fd itself
    assert all(re.fullmatch(r"/proc/\d+/fd", target) for target in extra.values()), out
    assert fds["0"] == "/dev/null"


def test_stdin_is_passed_when_given(busybox_template: Path) -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"piped input\n")
    os.close(write_end)
    chunks: list[bytes] = []
    try:
        status = run(SandboxSpec(busybox_template, ["cat"], stdin=read_end), chunks.append)
    finally:
        os.close(read_end)
    assert (status, b"".join(chunks)) == (0, b"piped input\n")


def test_etc_files_present_inside_and_gone_afterwards(busybox_rootfs: Path) -> None:
    etc = busybox_rootfs / "etc"
    before = os.lstat(etc).st_mtime_ns
    status, out = sh(
        busybox_rootfs,
        "cat /etc/hosts /etc/resolv.conf /etc/hostname; echo x >> /etc/hosts || echo readonly",
        hostname="h1",
        extra_hosts={"db.internal": "10.1.2.3"},
    )
    assert status == 0
    assert "127.0.0.1\tlocalhost h1" in out and "10.1.2.3\tdb.internal" in out
    assert "nameserver" in out and out.rstrip().endswith("readonly")
    assert sorted(p.name for p in etc.iterdir()) == ["group", "passwd"]
    assert os.lstat(etc).st_mtime_ns == before


def test_missing_mount_point_directories_are_removed_afterwards(busybox_rootfs: Path, tmp_path: Path) -> None:
    for name in ("etc/passwd", "etc/group"):
        (busybox_rootfs / name).unlink()
    (busybox_rootfs / "etc").rmdir()
    cache = tmp_path / "cache"
    cache.mkdir()
    status, out = sh(
        busybox_rootfs,
        "cat /etc/hostname; echo data > /root/.cache/pip/f",
        mounts=[Mount("bind", "/root/.cache/pip", str(cache))],
    )
    assert (status, out) == (0, "sandbox\n")
    assert not (busybox_rootfs / "etc").exists()
    assert not (busybox_rootfs / "root" / ".cache").exists()
    assert (cache / "f").read_text() == "data\n"


def test_mounts_bind_readonly_and_tmpfs(busybox_rootfs: Path, tmp_path: Path) -> None:
    source = tmp_path / "ctx"
    source.mkdir()
    (source / "in.txt").write_text("from host\n")
    status, out = sh(
        busybox_rootfs,
        "cat /ctx/in.txt; touch /ctx/new 2>/dev/null || echo ro; echo t > /scratch/t && cat /scratch/t",
        mounts=[Mount("bind", "/ctx", str(source), readonly=True), Mount("tmpfs", "/scratch", options=("size=1m",))],
    )
    assert (status, out) == (0, "from host\nro\nt\n")
    assert sorted(os.listdir(source)) == ["in.txt"]
    assert not (busybox_rootfs / "ctx").exists() and not (busybox_rootfs / "scratch").exists()


def test_readonly_rootfs(busybox_template: Path) -> None:
    status, out = sh(busybox_template, "touch /newfile 2>/dev/null || echo ro; echo ok > /dev/shm/x && echo shm", readonly_rootfs=True)
    assert (status, out) == (0, "ro\nshm\n")


def test_capabilities_are_reduced_unless_privileged(busybox_template: Path) -> None:
    script = "mknod /dev/shm/disk b 7 0 2>/dev/null && echo mknod-ok; grep CapBnd /proc/self/status"
    status, out = sh(busybox_template, script)
    assert status == 0 and "mknod-ok" not in out
    host = int(re.search(r"CapBnd:\s*(\w+)", Path("/proc/self/status").read_text()).group(1), 16)
    docker_default_without_mknod = 0xA80425FB & ~(1 << 27)
    assert int(out.split()[-1], 16) == host & docker_default_without_mknod
    status, out = sh(busybox_template, "grep CapBnd /proc/self/status", privileged=True)
    assert int(out.split()[-1], 16) == host


def test_proc_is_masked(busybox_template: Path) -> None:
    status, out = sh(busybox_template, "{ echo 1 > /proc/sys/kernel/ns_last_pid; } 2>/dev/null || echo sys-ro; echo end")
    assert (status, out) == (0, "sys-ro\nend\n")


def test_kill_tears_down_the_sandbox(busybox_template: Path) -> None:
    process = start(SandboxSpec(busybox_template, ["sleep", "60"]))
    started = time.monotonic()
    process.kill()
    assert process.wait() == 137
    assert time.monotonic() - started < 5


def test_signals_are_forwarded_to_pid_1(busybox_template: Path) -> None:
    script = "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done"
    with start(SandboxSpec(busybox_template, ["/bin/sh", "-c", script])) as process:
        assert process.read() == b"ready\n"
        process.send_signal(signal.SIGTERM)
        rest = []
        process.stream(rest.append)
        assert process.wait() == 7
    assert b"got-term" in b"".join(rest)


def test_concurrent_runs_from_threads(busybox_template: Path) -> None:
    results: dict[int, tuple[int, str]] = {}

    def work(n: int) -> None:
        results[n] = sh(busybox_template, f"echo {n}; hostname", hostname=f"t{n}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == {n: (0, f"{n}\nt{n}\n") for n in range(6)}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rootfs": "/nonexistent/rootfs"}, "does not exist"),
        ({"mounts": [Mount("bind", "/x", "/nonexistent/source")]}, "/nonexistent/source"),
        ({"hostname": "h" * 100}, "sethostname: Invalid argument"),
        ({"cwd": "/etc/passwd/sub"}, "workdir /etc/passwd/sub"),
    ],
)
def test_setup_errors_are_sandbox_errors(busybox_template: Path, kwargs: dict, message: str) -> None:
    spec_kwargs = {"rootfs": busybox_template, "argv": ["true"], **kwargs}
    with pytest.raises(SandboxError, match=message):
        run(SandboxSpec(**spec_kwargs))


def test_mount_on_a_file_that_is_a_dir_in_the_image_fails_cleanly(busybox_rootfs: Path, tmp_path: Path) -> None:
    source = tmp_path / "f"
    source.write_text("x")
    with pytest.raises(SandboxError, match="/bin"):
        run(SandboxSpec(busybox_rootfs, ["true"], mounts=[Mount("bind", "/bin", str(source))]))
    assert sorted(p.name for p in (busybox_rootfs / "etc").iterdir()) == ["group", "passwd"]


def test_callback_failure_kills_the_sandbox_and_cleans_up(busybox_rootfs: Path) -> None:
    def boom(chunk: bytes) -> None:
        raise RuntimeError("consumer gave up")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="consumer gave up"):
        run(SandboxSpec(busybox_rootfs, ["/bin/sh", "-c", "echo x; sleep 30"]), boom)
    assert time.monotonic() - started < 5
    assert sorted(p.name for p in (busybox_rootfs / "etc").iterdir()) == ["group", "passwd"]


def test_output_remains_readable_after_poll(busybox_template: Path) -> None:
    with start(SandboxSpec(busybox_template, ["echo", "late reader"])) as process:
        deadline = time.monotonic() + 5
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process.returncode == 0
        assert process.read() == b"late reader\n"
        assert process.read() == b""


def test_builder_thread_pid_namespace_is_restored(busybox_template: Path) -> None:
    def namespaces() -> tuple[str, str]:
        return os.readlink("/proc/thread-self/ns/pid"), os.readlink("/proc/thread-self/ns/pid_for_children")

    seen: list[tuple[str, str]] = []

    def work() -> None:
        assert run(SandboxSpec(busybox_template, ["true"])) == 0
        seen.append(namespaces())
        assert subprocess.run(["true"], check=False).returncode == 0

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)
    assert run(SandboxSpec(busybox_template, ["true"])) == 0
    own, for_children = namespaces()
    assert own == for_children
    assert seen == [(own, own)]
