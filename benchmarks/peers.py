"""Drivers for the builders we race: pybuild itself, dockerd with BuildKit, buildah with runc.

One small interface (`setup`, `reset`, `build`, `teardown`) so the harness can alternate tools
within one run. Every driver keeps all its state in its own directory under the scratch dir:
nothing touches the machine's default stores, and `teardown` stops what `setup` started (by PID).

Facts about this machine that shaped the drivers: the newer docker CLI on PATH needs a buildx
plugin that is missing, so the docker.io package's own CLI is used; dockerd runs without a bridge
or iptables, so builds use `--network none`; crun refuses the hybrid cgroup layout, so buildah
runs RUN steps with runc.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import attrs

__all__ = [
    "Measurement",
    "ToolUnavailable",
    "Tool",
    "Pybuild",
    "DockerBuildKit",
    "Buildah",
    "ensure_debian_packages",
    "make_tool",
    "PEER_PACKAGES",
]

PEER_PACKAGES = {"docker": ("docker.io",), "buildah": ("buildah", "runc")}


class ToolUnavailable(Exception):
    """A peer cannot run on this machine; the harness skips it and says why."""


@attrs.frozen
class Measurement:
    """One timed build: wall seconds and the peak resident set of the client process tree."""

    seconds: float
    max_rss_kb: int
    image_id: str = ""


def _run_timed(argv: list[str], *, log: Path, iidfile: Path, env: dict[str, str] | None = None) -> Measurement:
    """Run `argv`, time it, and read its peak RSS from wait4 (the child and what it waited for).

    The log is appended to, never kept in memory: a failed build shows its tail in the error."""
    with open(log, "ab") as out:
        out.write(("\n$ " + " ".join(argv) + "\n").encode())
        out.flush()
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise RuntimeError(f"{argv[0]} failed ({proc.returncode}):\n" + "\n".join(tail))
    image_id = iidfile.read_text().strip() if iidfile.exists() else ""
    return Measurement(seconds=seconds, max_rss_kb=usage.ru_maxrss, image_id=image_id)


def _quiet(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]


def ensure_debian_packages(packages: tuple[str, ...], *, updated: list[bool]) -> str | None:
    """Install missing Debian packages when root; return None when all are present, else why not.

    `updated` is a one-element flag shared across calls so apt-get update runs at most once."""
    missing = [p for p in packages if _quiet(["dpkg", "-s", p]).returncode != 0]
    if not missing:
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return f"missing Debian packages {' '.join(missing)} (run as root to install them)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not updated[0]:
        print("apt-get update", file=sys.stderr)
        _quiet(["apt-get", "update", "-qq"], env=env)
        updated[0] = True
    print(f"apt-get install {' '.join(missing)}", file=sys.stderr)
    done = _quiet(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)
    if done.returncode != 0:
        return f"apt-get install {' '.join(missing)} failed: {done.stderr.strip()[-300:]}"
    return None


class Tool:
    """The driver interface. `name` appears in results; `version` in the machine description."""

    name = "tool"

    def __init__(self, state: Path) -> None:
        self.state = state
        self.log = state / "build.log"

    def version(self) -> str:
        raise NotImplementedError

    def setup(self, busybox_oci: Path, busybox_docker: Path) -> None:
        """Fresh storage holding only the busybox base image as busybox:latest."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget every build result and cache, keeping the base image: the next build is cold."""
        raise NotImplementedError

    def build(self, ctx: Path, tag: str) -> Measurement:
        """Build `ctx` as `tag`; the result carries the image ID the tool wrote to its iidfile."""
        raise NotImplementedError

    def _iidfile(self) -> Path:
        path = self.state / "iid"
        path.unlink(missing_ok=True)
        return path

    def teardown(self) -> None:
        """Stop what setup started and unmount what builds left; never raises."""


class Pybuild(Tool):
    """pybuild as users run it: the console script, a fresh process per build, its own --root."""

    name = "pybuild"

    def __init__(self, state: Path, exe: Path, compression: str = "gzip") -> None:
        super().__init__(state)
        self.exe = exe
        self.compression = compression
        self.root = state / "root"
        self.template = state / "root-template"

    def version(self) -> str:
        return _quiet([str(self.exe), "--version"]).stdout.strip()

    def setup(self, busybox_oci: Path, busybox_docker: Path) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        done = _quiet([str(self.exe), "--root", str(self.template), "load", "-q", "--name", "busybox", "-i", str(busybox_oci)], env=self._env())
        if done.returncode != 0:
            raise ToolUnavailable(f"pybuild load failed: {done.stderr.strip()}")
        self.reset()

    def reset(self) -> None:
        if self.root.exists():
            shutil.rmtree(self.root)
        shutil.copytree(self.template, self.root, symlinks=True)

    def build(self, ctx: Path, tag: str) -> Measurement:
        iid = self._iidfile()
        argv = [str(self.exe), "--root", str(self.root), "build", "--progress", "quiet", "--iidfile", str(iid), "-t", tag, str(ctx)]
        if self.compression != "gzip":
            argv[4:4] = ["--compression", self.compression]
        return _run_timed(argv, log=self.log, iidfile=iid, env=self._env())

    def _env(self) -> dict[str, str]:
        """Users run pybuild with cached bytecode: an environment that forbids writing it
        (PYTHONDONTWRITEBYTECODE) would make every build compile ~140 modules from source,
        a third of a no-change rebuild. The cache goes to our state dir, not the source tree."""
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(self.state / "pycache")
        return env

    def save_docker_archive(self, ref: str, dest: Path) -> None:
        """The peers' base image, written by pybuild from the very image it builds on."""
        done = _quiet([str(self.exe), "--root", str(self.template), "save", "--format", "docker-archive", "-o", str(dest), ref], env=self._env())
        if done.returncode != 0:
            raise RuntimeError(f"pybuild save failed: {done.stderr.strip()}")

    def teardown(self) -> None:
        _unmount_under(self.state)


def _docker_cli() -> str | None:
    listed = _quiet(["dpkg", "-L", "docker.io"]).stdout.split()
    for path in listed:
        if path.endswith("/bin/docker") and os.access(path, os.X_OK):
            return path
    return None


class DockerBuildKit(Tool):
    """dockerd (Debian's docker.io) started here on a private socket; DOCKER_BUILDKIT=1 builds."""

    name = "docker"

    def __init__(self, state: Path) -> None:
        super().__init__(state)
        self.cli = _docker_cli()
        self.sock = state / "docker.sock"
        self.daemon: subprocess.Popen[bytes] | None = None

    def _dk(self, *args: str) -> list[str]:
        assert self.cli
        return [self.cli, "-H", f"unix://{self.sock}", *args]

    def version(self) -> str:
        server = _quiet(self._dk("version", "--format", "{{.Server.Version}}")).stdout.strip()
        return f"dockerd {server} (BuildKit, docker.io package)"

    def setup(self, busybox_oci: Path, busybox_docker: Path) -> None:
        if not self.cli or not shutil.which("dockerd"):
            raise ToolUnavailable("docker.io is not installed")
        self.state.mkdir(parents=True, exist_ok=True)
        (self.state / "daemon.json").write_text("{}\n")
        argv = [
            "dockerd", "--data-root", str(self.state / "data"), "--exec-root", str(self.state / "exec"),
            "--pidfile", str(self.state / "dockerd.pid"), "-H", f"unix://{self.sock}",
            "--config-file", str(self.state / "daemon.json"), "--bridge=none", "--iptables=false",
            "--ip-masq=false", "--ip-forward=false", "--userland-proxy=false",
        ]  # fmt: skip
        with open(self.state / "dockerd.log", "ab") as log:
            self.daemon = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        for _ in range(150):
            if self.daemon.poll() is not None:
                break
            if _quiet(self._dk("version")).returncode == 0:
                break
            time.sleep(0.2)
        else:
            self.teardown()
            raise ToolUnavailable("dockerd did not answer within 30 s")
        if self.daemon.poll() is not None:
            tail = (self.state / "dockerd.log").read_text(errors="replace")[-500:]
            raise ToolUnavailable(f"dockerd exited: {tail}")
        done = _quiet(self._dk("load", "-q", "-i", str(busybox_docker)))
        if done.returncode != 0:
            raise ToolUnavailable(f"docker load failed: {done.stderr.strip()}")

    def reset(self) -> None:
        images = _quiet(self._dk("images", "-q", "--filter", "reference=bench/*")).stdout.split()
        if images:
            _quiet(self._dk("rmi", "-f", *sorted(set(images))))
        _quiet(self._dk("builder", "prune", "-af"))
        _quiet(self._dk("image", "prune", "-f"))

    def build(self, ctx: Path, tag: str) -> Measurement:
        env = {**os.environ, "DOCKER_BUILDKIT": "1"}
        iid = self._iidfile()
        argv = self._dk("build", "--network", "none", "--progress", "plain", "--iidfile", str(iid), "-t", tag, str(ctx))
        return _run_timed(argv, log=self.log, iidfile=iid, env=env)

    def teardown(self) -> None:
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        self.daemon = None
        _unmount_under(self.state)


class Buildah(Tool):
    """buildah bud with layer caching, overlay storage in our dir, RUN steps under runc."""

    name = "buildah"

    def _global(self) -> list[str]:
        return ["buildah", "--root", str(self.state / "root"), "--runroot", str(self.state / "run"), "--storage-driver", "overlay"]

    def version(self) -> str:
        return _quiet(["buildah", "--version"]).stdout.strip() + " (runc " + _quiet(["runc", "--version"]).stdout.split()[2] + ")"

    def setup(self, busybox_oci: Path, busybox_docker: Path) -> None:
        if not shutil.which("buildah") or not shutil.which("runc"):
            raise ToolUnavailable("buildah or runc is not installed")
        self.state.mkdir(parents=True, exist_ok=True)
        pulled = _quiet([*self._global(), "pull", "-q", f"docker-archive:{busybox_docker}"])
        if pulled.returncode != 0:
            raise ToolUnavailable(f"buildah pull docker-archive: failed: {pulled.stderr.strip()}")
        image = pulled.stdout.strip().splitlines()[-1]
        tagged = _quiet([*self._global(), "tag", image, "docker.io/library/busybox:latest"])
        if tagged.returncode != 0:
            raise ToolUnavailable(f"buildah tag failed: {tagged.stderr.strip()}")

    def reset(self) -> None:
        _quiet([*self._global(), "rm", "-a"])
        images = _quiet([*self._global(), "images", "-q", "--filter", "reference=localhost/bench/*"]).stdout.split()
        if images:
            _quiet([*self._global(), "rmi", "-f", *sorted(set(images))])
        _quiet([*self._global(), "rmi", "--prune"])

    def build(self, ctx: Path, tag: str) -> Measurement:
        iid = self._iidfile()
        argv = [
            *self._global(), "bud", "--layers", "--pull=never", "--isolation", "oci", "--runtime", "runc",
            "--network", "none", "--iidfile", str(iid), "-t", tag, "-f", str(ctx / "Dockerfile"), str(ctx),
        ]  # fmt: skip
        return _run_timed(argv, log=self.log, iidfile=iid)

    def teardown(self) -> None:
        _quiet([*self._global(), "rm", "-a"])
        _unmount_under(self.state)


def _unmount_under(directory: Path) -> None:
    """Lazily unmount whatever a tool left mounted below `directory`, deepest first."""
    prefix = str(directory.resolve())
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return
    points = [line.split()[4] for line in lines]
    for point in sorted((p for p in points if p == prefix or p.startswith(prefix + "/")), reverse=True):
        _quiet(["umount", "-l", point])


def make_tool(name: str, scratch: Path, pybuild_exe: Path, *, compression: str = "gzip") -> Tool:
    """The driver for `name` (pybuild, docker, buildah), keeping its state under `scratch`."""
    if name == "pybuild":
        return Pybuild(scratch / "pybuild", pybuild_exe, compression)
    if name == "docker":
        return DockerBuildKit(scratch / "docker")
    if name == "buildah":
        return Buildah(scratch / "buildah")
    raise ValueError(f"unknown tool {name!r} (known: pybuild, docker, buildah)")
