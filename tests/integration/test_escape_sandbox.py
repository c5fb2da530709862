"""Sandbox escapes modelled on the 2024 "Leaky Vessels" runc/BuildKit CVEs, and /proc/self/exe.

- CVE-2024-21626: a WORKDIR of /proc/self/fd/N reached the host through a leaked builder fd. Here
  no fd but 0-2 exists inside a RUN, so such a WORKDIR fails or stays in the container.
- CVE-2024-23651: symlinks planted in a cache mount by one build, followed by a later build's
  mounts and writes. Here mount targets and writes resolve inside the container.
- CVE-2024-23652: mount points made (and removed) through symlinks to host paths. Here targets
  resolve inside the rootfs, so nothing on the host is created or deleted.
- CVE-2024-23653: `RUN --security=insecure` without the entitlement. Here it is refused.
- runc CVE-2019-5736 style: a RUN writing to /proc/self/exe or /proc/1/exe. Here no host binary
  runs inside the sandbox, and the host's python, busybox and the base snapshot stay unchanged.

Each case builds for real (namespaces, overlay mounts) against a host dir named by absolute path
in the Dockerfile; afterwards the host dir is unchanged and no layer holds its canary.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from pybuildkit.errors import PybuildkitError
from tests.integration.test_hostile_context import SECRET, fingerprint, layer_payloads
from tests.support.build import Builder, builder, requires_root  # noqa: F401

pytestmark = [pytest.mark.integration, requires_root]

HOST_BINARIES = (Path(os.path.realpath(sys.executable)), Path("/bin/busybox"))

# name -> Dockerfile lines after FROM busybox; HOST is the host dir's absolute path. A case may
# fail with a project error (None in the image); what it may never do is reach HOST.
CASES = {
    "workdir-proc-self-fd-3": "WORKDIR /proc/self/fd/3\nRUN cat ../../../../../../../..HOST/canary > /leak; echo pwned > ../../../../../../..HOST/victim",
    "workdir-proc-self-fd-5": "WORKDIR /proc/self/fd/5\nRUN cat ../../../../../../../..HOST/canary > /leak",
    "workdir-proc-self-fd-7": "WORKDIR /proc/self/fd/7\nRUN ls -la .. > /leak",
    "workdir-proc-self-fd-9": "WORKDIR /proc/self/fd/9\nRUN ls -la > /leak",
    "workdir-proc-1-cwd": "WORKDIR /proc/1/cwd\nRUN cat ../../../../../..HOST/canary > /leak; echo pwned > ../../../../../../..HOST/victim",
    "cache-link-then-write": (
        "RUN --mount=type=cache,id=race,target=/c ln -sf HOST /c/link\n"
        "RUN --mount=type=cache,id=race,target=/c echo pwned > /c/link/victim; cat /c/link/canary > /leak; true"
    ),
    "cache-link-then-nested-mount": (
        "RUN --mount=type=cache,id=race2,target=/c ln -sf HOST /c/link\n"
        "RUN --mount=type=cache,id=race2,target=/c --mount=type=tmpfs,target=/c/link/sub true"
    ),
    "cache-link-as-target": (
        "RUN --mount=type=cache,id=race3,target=/c ln -sf HOST /c/link\n"
        "RUN --mount=type=cache,id=race3,target=/c/link echo pwned > /c/link/victim"
    ),
    "cache-dir-replaced-by-link": (
        "RUN --mount=type=cache,id=race4,target=/c sh -c 'mkdir -p /c/sub; rm -rf /c/sub; ln -s HOST /c/sub'\n"
        "RUN --mount=type=cache,id=race4,target=/c,source=sub echo pwned > /c/victim; true"
    ),
    "mount-target-through-link": "RUN ln -s HOST /t\nRUN --mount=type=tmpfs,target=/t/newdir touch /t/newdir/x",
    "cache-target-through-link": "RUN ln -s HOST /t\nRUN --mount=type=cache,id=tl,target=/t/made true",
    "bind-target-is-link-to-host-file": "RUN ln -s HOST/victim /v\nRUN --mount=type=bind,source=Dockerfile,target=/v cat /v > /dev/null",
    "bind-target-link-dir-removed": "RUN ln -s HOST /t\nRUN --mount=type=bind,source=Dockerfile,target=/t/victim true",
    "secret-target-through-link": "RUN ln -s HOST /s\nRUN --mount=type=secret,id=none,target=/s/victim,required=false true",
    "bind-from-stage-link": (
        "RUN true\nFROM busybox AS s\nRUN ln -s HOST/canary /l\n"
        "FROM busybox\nRUN --mount=type=bind,from=s,source=/l,target=/m cat /m > /leak; true"
    ),
    "proc-self-exe-write": "RUN echo pwned > /proc/self/exe; cat /bin/busybox > /proc/self/exe; true",
    "proc-1-exe-write": "RUN sh -c 'echo pwned > /proc/1/exe; exec 3</proc/1/exe; sleep 0.1; echo pwned >&3; true'",
    "proc-1-exe-via-fd": "RUN sh -c 'exec 4</proc/self/exe; (sleep 0.2; echo pwned > /proc/$$/fd/4) & wait; true'",
    "bin-busybox-overwrite": "RUN cp /bin/busybox /bin/bb2 && /bin/bb2 sh -c 'echo pwned >> /bin/busybox; cat /bin/bb2 > /bin/busybox'; true",
    "proc-sysrq-and-mounts": "RUN echo pwned > /proc/sysrq-trigger; mount -t proc proc /mnt; umount /proc; true",
}


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def host(tmp_path: Path) -> Path:
    where = tmp_path / "host"
    where.mkdir()
    (where / "canary").write_bytes(SECRET)
    (where / "victim").write_bytes(b"untouched\n")
    return where


@pytest.mark.parametrize("case", sorted(CASES))
def test_escape_attempt_stays_in_the_sandbox(builder: Builder, host: Path, case: str) -> None:  # noqa: F811
    binaries = {p: _hash(p) for p in HOST_BINARIES if p.exists()}
    snapshots = builder.root / "fs" / "snapshots"
    base = fingerprint(snapshots) if snapshots.exists() else None
    before = fingerprint(host)
    dockerfile = "FROM busybox\n" + CASES[case].replace("HOST", str(host)) + "\n"
    try:
        digest: str | None = builder.build(dockerfile).result.digest
    except PybuildkitError as exc:
        assert "Traceback" not in exc.render()
        digest = None
    assert fingerprint(host) == before, f"{case}: the host dir changed"
    assert {p: _hash(p) for p in binaries} == binaries, f"{case}: a host binary changed"
    if base is not None:
        now = fingerprint(snapshots)
        assert {k: v for k, v in now.items() if k in base} == base, f"{case}: a published snapshot changed"
    if digest is not None:
        for name, data in layer_payloads(builder.root, digest):
            assert SECRET not in data, f"{case}: {name} carries the host canary"


def test_only_stdio_is_open_inside_a_run(builder: Builder) -> None:  # noqa: F811
    digest = builder.build("FROM busybox\nRUN ls /proc/self/fd > /fds; ls /proc/1/fd > /fds1\n").result.digest
    files = dict(layer_payloads(builder.root, digest))
    # `ls` itself holds one descriptor (3) on the directory it lists.
    assert set(files["fds"].split()) <= {b"0", b"1", b"2", b"3"}
    assert set(files["fds1"].split()) <= {b"0", b"1", b"2", b"3", b"255"}


@pytest.mark.parametrize("allow", [frozenset(), frozenset({"network.host"})])
def test_security_insecure_needs_the_entitlement(builder: Builder, allow: frozenset[str]) -> None:  # noqa: F811
    with pytest.raises(PybuildkitError, match="security=insecure is not allowed") as caught:
        builder.build("FROM busybox\nRUN --security=insecure cat /proc/self/status\n", allow=allow)
    assert "--allow security.insecure" in caught.value.render()


def test_security_insecure_with_the_entitlement_runs(builder: Builder) -> None:  # noqa: F811
    built = builder.build("FROM busybox\nRUN --security=insecure grep CapEff /proc/self/status\n", allow={"security.insecure"})
    assert "CapEff" in built.log


def test_run_init_pid_1_is_out_of_the_command_s_reach(builder: Builder) -> None:  # noqa: F811
    """`pybuild run` keeps a forked builder process as PID 1 (the init): its exe is the host's
    python. The command has fewer capabilities, so the kernel's ptrace access check refuses it
    /proc/1/exe, /proc/1/mem, /proc/1/environ and /proc/1/cwd; and the init holds no fd."""
    import subprocess

    binaries = {p: _hash(p) for p in HOST_BINARIES if p.exists()}
    script = (
        "readlink /proc/1/exe && echo EXE-READABLE; echo pwned >> /proc/1/exe && echo EXE-WRITTEN;"
        " head -c 1 /proc/1/mem > /dev/null 2>&1 && echo MEM-READABLE; ls /proc/1/fd 2>/dev/null | grep -q . && echo FD-LISTED;"
        " cat /proc/1/environ > /dev/null 2>&1 && echo ENV-READABLE; ls /proc/1/cwd/ > /dev/null 2>&1 && echo CWD-READABLE; true"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pybuildkit.cli.main", "--root", str(builder.root), "run", "--rm", "busybox", "sh", "-c", script],
        capture_output=True, text=True, timeout=60,
    )
    if done.returncode != 0 and "no such command" in done.stderr.lower():
        pytest.skip("pybuild run is not available")
    assert done.returncode == 0, done.stderr
    for word in ("EXE-READABLE", "EXE-WRITTEN", "MEM-READABLE", "FD-LISTED", "ENV-READABLE", "CWD-READABLE"):
        assert word not in done.stdout, done.stdout
    assert {p: _hash(p) for p in binaries} == binaries
