"""Several `pybuild` processes on one store at once: builds of related Dockerfiles (a shared base
stage), and `pybuild run` while `store gc` and `cache prune` run beside it.

Everything is a real subprocess of the CLI with a timeout (a deadlock fails the test instead of
hanging it). Afterwards every build succeeded with its own content, every tag is there, a rebuild
is a full cache hit, the store passes a deep check, and no mount or scratch dir is left.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pybuildkit.store import Store
from tests.integration.test_crash_kill import mounts_under, scratch_left
from tests.support.build import Builder, builder, requires_root  # noqa: F401

pytestmark = [pytest.mark.integration, requires_root]

BASE = """FROM busybox AS base
RUN dd if=/dev/urandom of=/base bs=1M count=4 2>/dev/null && mkdir -p /shared && echo base > /shared/mark
"""


def app(i: int) -> str:
    return BASE + f"""FROM base AS app
COPY many /many
RUN echo {i} > /id && cat /shared/mark >> /id
"""


def pybuild(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "pybuildkit.cli.main", "--root", str(root), *args]


def run_all(commands: list[list[str]], timeout: float = 180) -> list[subprocess.CompletedProcess[str]]:
    """Start every command at once; wait for all (killing stragglers past `timeout`)."""
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands]
    deadline = time.monotonic() + timeout
    done = []
    for cmd, proc in zip(commands, procs):
        try:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            pytest.fail(f"deadlock or hang: {cmd} still running after {timeout}s")
        done.append(subprocess.CompletedProcess(cmd, proc.returncode, out, err))
    return done


@pytest.fixture
def ctx(builder: Builder) -> Builder:
    builder.write({f"many/f{i:03d}": f"{i}\n" for i in range(100)})
    return builder


@pytest.mark.parametrize("count", [2, 4])
def test_related_builds_at_once_share_one_store(ctx: Builder, tmp_path: Path, count: int, request: pytest.FixtureRequest) -> None:
    for i in range(count):
        ctx.write({f"Dockerfile.{i}": app(i)})
    commands = [
        pybuild(ctx.root, "build", "-f", str(ctx.context / f"Dockerfile.{i}"), "-t", f"app:{i}", "--output", f"type=local,dest={tmp_path / f'out{i}'}", str(ctx.context))
        for i in range(count)
    ]
    results = run_all(commands)
    for r in results:
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    for i in range(count):
        out = tmp_path / f"out{i}"
        assert (out / "id").read_text() == f"{i}\nbase\n"
        assert (out / "base").stat().st_size == 4 << 20
        assert len(os.listdir(out / "many")) == 100
    with Store(ctx.root) as store:
        assert {f"docker.io/library/app:{i}" for i in range(count)} <= set(store.tags())
        report = store.check(deep=True)
        assert report.ok, report.problems
    # The records the racing builds filed are consistent: a rebuild of each runs nothing.
    again = run_all([pybuild(ctx.root, "build", "-f", str(ctx.context / f"Dockerfile.{i}"), "-t", f"app:{i}", str(ctx.context)) for i in range(count)])
    for r in again:
        assert r.returncode == 0, r.stderr
        assert re.search(r": 0 of \d+ steps run", r.stderr), r.stderr[-600:]
    assert mounts_under(ctx.root) == [] and scratch_left(ctx.root) == []
    request.node.user_properties.append(("concurrent_builds", count * 2))
    print(f"\n{count} concurrent builds, twice: all succeeded")


def test_run_while_gc_and_cache_prune(ctx: Builder) -> None:
    ctx.write({"Dockerfile": app(7)})
    first = subprocess.run(pybuild(ctx.root, "build", "-t", "app:7", str(ctx.context)), capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    script = "sleep 1.5; wc -c < /base; ls /many | wc -l; cat /id"
    runner = subprocess.Popen(pybuild(ctx.root, "run", "--rm", "app:7", "sh", "-c", script), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sweeps = 0
    while runner.poll() is None and sweeps < 20:
        for argv in (("cache", "prune", "-a", "-f"), ("store", "gc", "--grace", "0")):
            done = subprocess.run(pybuild(ctx.root, *argv), capture_output=True, text=True, timeout=60)
            assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        sweeps += 1
    out, err = runner.communicate(timeout=60)
    assert runner.returncode == 0, err
    assert out.split() == [str(4 << 20), "100", "7", "base"]
    assert sweeps >= 1
    with Store(ctx.root) as store:
        assert store.has_image("app:7")
        report = store.check(deep=True)
        assert report.ok, report.problems
    again = subprocess.run(pybuild(ctx.root, "run", "--rm", "app:7", "cat", "/id"), capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and again.stdout == "7\nbase\n", again.stderr
    rebuilt = subprocess.run(pybuild(ctx.root, "build", "-t", "app:7b", str(ctx.context)), capture_output=True, text=True, timeout=120)
    assert rebuilt.returncode == 0, rebuilt.stderr
