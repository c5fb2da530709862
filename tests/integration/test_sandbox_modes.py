"""Sandbox modes beyond a plain RUN: overlay rootfs, rootless (user namespace), tty, init, log fd."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pybuildkit.sandbox import Mount, SandboxSpec, run
from tests.support.rootfs import busybox_rootfs, busybox_template  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="sandbox integration tests need root (namespaces, mounts)"),
]


def _capture(spec: SandboxSpec) -> tuple[int, bytes]:
    chunks: list[bytes] = []
    status = run(spec, chunks.append)
    return status, b"".join(chunks)


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): os.lstat(p).st_mtime_ns for p in sorted(root.rglob("*"))}


def test_overlay_upper_holds_only_what_the_command_did(busybox_template: Path, tmp_path: Path) -> None:
    if shutil.which("mount") is None:
        pytest.skip("mount(8) not installed")
    upper, work, merged, cache = (tmp_path / name for name in ("upper", "work", "merged", "cache"))
    for path in (upper, work, merged, cache):
        path.mkdir()
    options = f"lowerdir={busybox_template},upperdir={upper},workdir={work}"
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(merged)], check=True)
    try:
        status, out = _capture(
            SandboxSpec(
                merged,
                ["/bin/sh", "-c", "cat /etc/hostname; echo made > /made; echo c > /var/cache/pkg/c"],
                mounts=[Mount("bind", "/var/cache/pkg", str(cache))],
            )
        )
    finally:
        subprocess.run(["umount", str(merged)], check=True)
    assert (status, out) == (0, b"sandbox\n")
    tree = _tree(upper)
    # /etc and /var were copied up to hold the stubs; the stubs are gone and the times restored.
    assert sorted(tree) == ["etc", "made", "var"]
    for name in ("etc", "var"):
        assert tree[name] == os.lstat(busybox_template / name).st_mtime_ns
    assert (cache / "c").read_text() == "c\n"


@pytest.fixture()
def rootless_rootfs(busybox_template: Path) -> Path:
    """A rootfs owned by nobody, in a directory nobody can reach (tmp_path is root-only)."""
    base = Path(tempfile.mkdtemp(prefix="pybuild-rootless-"))
    os.chmod(base, 0o755)
    rootfs = base / "rootfs"
    shutil.copytree(busybox_template, rootfs, symlinks=True)
    for path in [rootfs, *rootfs.rglob("*")]:
        os.lchown(path, 65534, 65534)
    yield rootfs
    shutil.rmtree(base)


def test_rootless_user_namespace(rootless_rootfs: Path) -> None:
    script = (
        "import json, sys\n"
        "from pybuildkit.sandbox import SandboxSpec, run\n"
        "chunks = []\n"
        f"spec = SandboxSpec({str(rootless_rootfs)!r}, ['/bin/sh', '-c', 'id -u; echo $$; hostname; touch /made'],"
        " hostname='rootless', network='none')\n"
        "status = run(spec, chunks.append)\n"
        "print(json.dumps([status, b''.join(chunks).decode()]))\n"
    )
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) not installed: cannot drop to an unprivileged user")
    proc = subprocess.run(
        [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", script],
        capture_output=True, text=True, cwd="/", timeout=60,
    )
    if proc.returncode != 0 and "Operation not permitted" in proc.stderr:
        pytest.skip(f"unprivileged user namespaces unavailable: {proc.stderr.strip().splitlines()[-1]}")
    assert proc.returncode == 0, proc.stderr
    status, out = json.loads(proc.stdout)
    assert (status, out) == (0, "0\n1\nrootless\n")
    assert os.lstat(rootless_rootfs / "made").st_uid == 65534
    assert sorted(os.listdir(rootless_rootfs / "etc")) == ["group", "passwd"]


def test_tty_mode_gives_a_terminal(busybox_template: Path) -> None:
    status, out = _capture(SandboxSpec(busybox_template, ["/bin/sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo is-a-tty"], tty=True))
    assert status == 0 and out.replace(b"\r", b"") == b"is-a-tty\n"


@pytest.mark.parametrize(("init", "zombies"), [(True, b"0\n"), (False, b"1\n")])
def test_init_mode_reaps_orphans(busybox_template: Path, init: bool, zombies: bytes) -> None:
    # The orphaned sleep is reparented to PID 1: our init reaps it; a command that became PID 1
    # (here `sleep`, exec'd by the shell) does not, so a zombie shows up without init.
    script = "(sleep 0.4; ps -o stat,comm | grep -c ^Z) & sh -c 'sleep 0.05 &'; exec sleep 0.8"
    status, out = _capture(SandboxSpec(busybox_template, ["/bin/sh", "-c", script], init=init))
    assert (status, out) == (0, zombies)


def test_output_to_a_log_file(busybox_template: Path, tmp_path: Path) -> None:
    log = tmp_path / "container.log"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        status = run(SandboxSpec(busybox_template, ["/bin/sh", "-c", "echo out; echo err >&2; exit 4"]), output=fd)
    finally:
        os.close(fd)
    assert status == 4 and log.read_text() == "out\nerr\n"


@pytest.mark.parametrize("network", ["host", "none"])
def test_keeper_mode_with_forced_user_namespace(busybox_rootfs: Path, network: str) -> None:
    script = "echo $$; id -u; cat /proc/self/uid_map | tr -s ' '; ls /sys | head -1"
    status, out = _capture(SandboxSpec(busybox_rootfs, ["/bin/sh", "-c", script], userns=True, network=network))
    assert status == 0
    pid, uid, uid_map, sys_first = out.decode().splitlines()
    assert (pid, uid, uid_map.split()) == ("1", "0", ["0", "0", "1"])
    assert sys_first == "block"
