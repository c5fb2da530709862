"""SIGKILL `pybuild` at random points, many times over, and prove the store stays sound.

Each test runs the real CLI as a subprocess and kills it after a seeded random delay: while a RUN
writes a big file into its layer, while a COPY of hundreds of files is snapshotted, while cache
records and image records land, while an OCI archive is exported, while blobs are pulled from a
real registry. After every kill the store must pass a deep check (every blob's digest, every
record's references, every layer's diff_id); after the series a normal build must succeed, use
nothing half-written, and find no leftover mounts or scratch dirs of the dead processes.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from pybuildkit.store import Store
from tests.support.build import Builder, builder, requires_root  # noqa: F401
from tests.support.registry import RegistryServer, registry  # noqa: F401
from tests.unit.store.imagefactory import make_image

pytestmark = [pytest.mark.integration, requires_root]

BIG_MB = 24
FILES = 300
DOCKERFILE = f"""FROM busybox
ARG N
RUN dd if=/dev/urandom of=/big bs=1M count={BIG_MB} 2>/dev/null && echo "$N" > /n
COPY many /many
RUN ls /many | wc -l > /count
"""


def pybuild(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "pybuildkit.cli.main", "--root", str(root), *args]


def run_and_kill(argv: list[str], delay: float, env: dict[str, str] | None = None) -> bool:
    """Start `argv`, SIGKILL it after `delay` seconds; True if it was killed (not already done)."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err, err.decode(errors="replace")
    assert proc.returncode in (0, -signal.SIGKILL), err.decode(errors="replace")
    return proc.returncode == -signal.SIGKILL


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Run `argv` to completion (it must succeed); how long it took, to aim the kills within it."""
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return time.monotonic() - started


def assert_sound(root: Path) -> None:
    with Store(root) as store:
        report = store.check(deep=True)
    assert report.ok, report.problems


def cli_check(root: Path) -> None:
    out = subprocess.run(pybuild(root, "store", "check", "--deep"), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.endswith(": ok\n"), out.stdout + out.stderr


def mounts_under(path: Path) -> list[str]:
    prefix = os.path.realpath(path) + "/"
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(prefix)]


def scratch_left(root: Path) -> list[str]:
    fs = root / "fs"
    return [f"{sub}/{name}" for sub in ("active", "tmp") if (fs / sub).is_dir() for name in os.listdir(fs / sub)]


def report(request: pytest.FixtureRequest, what: str, kills: int, finished: int) -> None:
    request.node.user_properties.append((what, kills))
    print(f"\n{request.node.name}: {kills} kills ({what}), {finished} runs finished before their kill")


@pytest.fixture
def crash_context(builder: Builder) -> Builder:
    builder.write({f"many/f{i:03d}": f"file {i}\n" for i in range(FILES)})
    builder.write({"Dockerfile": DOCKERFILE})
    return builder


def test_killed_builds_leave_a_sound_store(crash_context: Builder, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    b = crash_context
    rng = random.Random(20240131)
    whole = timed(pybuild(b.root, "build", "--build-arg", "N=first", str(b.context)))
    kills = finished = 0
    deadline = time.monotonic() + 35
    for i in range(24):
        if kills >= 10 or time.monotonic() > deadline:
            break
        # Half the runs rebuild a value seen before, so later runs meet records earlier kills left.
        n = rng.choice([i, i % 3])
        argv = pybuild(b.root, "build", "--build-arg", f"N={n}", "-t", f"crash:{n}", str(b.context))
        if run_and_kill(argv, rng.uniform(0.3, 0.9 * whole)):
            kills += 1
        else:
            finished += 1
        assert_sound(b.root)
    report(request, "build: RUN layer, COPY of many files, cache and image records", kills, finished)
    assert kills >= 6

    # The active views of the killed builds are still mounted until someone reaps them.
    out = tmp_path / "rootfs"
    done = subprocess.run(
        pybuild(b.root, "build", "--build-arg", "N=1", "-t", "crash:after", "--output", f"type=local,dest={out}", str(b.context)),
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "big").stat().st_size == BIG_MB << 20
    assert (out / "n").read_text() == "1\n"
    assert (out / "count").read_text().strip() == str(FILES)
    assert sorted(os.listdir(out / "many")) == [f"f{i:03d}" for i in range(FILES)]
    assert all((out / "many" / f"f{i:03d}").read_text() == f"file {i}\n" for i in range(FILES))
    assert mounts_under(b.root) == []
    assert scratch_left(b.root) == []
    cli_check(b.root)
    with Store(b.root) as store:
        assert store.has_image("crash:after")
        store.gc(grace_seconds=0)
        assert os.listdir(b.root / "ingest") == []
    cli_check(b.root)


def test_killed_exports_never_leave_a_partial_archive(crash_context: Builder, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    b = crash_context
    rng = random.Random(7)
    dest = tmp_path / "out" / "image.tar"
    dest.parent.mkdir()
    timed(pybuild(b.root, "build", "--build-arg", "N=x", "-t", "export:1", str(b.context)))
    whole = timed(pybuild(b.root, "build", "--build-arg", "N=x", "--output", f"type=oci,dest={dest}", str(b.context)))
    dest.unlink()
    kills = finished = 0
    latest = 0.9 * whole
    for _ in range(20):
        if kills >= 6:
            break
        argv = pybuild(b.root, "build", "--build-arg", "N=x", "--output", f"type=oci,dest={dest}", str(b.context))
        if run_and_kill(argv, rng.uniform(min(0.3, latest / 2), latest)):
            kills += 1
        else:
            finished += 1
            latest *= 0.7  # a build that beat the kill: aim earlier next time
        if dest.exists():  # only ever a whole archive: written beside, renamed into place
            with tarfile.open(dest) as tar:
                names = tar.getnames()
            assert "index.json" in names and "oci-layout" in names
            dest.unlink()
        assert [n for n in os.listdir(dest.parent) if not n.startswith(".")] == []
        assert_sound(b.root)
    report(request, "build with an OCI archive export", kills, finished)
    assert kills >= 2
    done = subprocess.run(pybuild(b.root, "build", "--build-arg", "N=x", "--output", f"type=oci,dest={dest}", str(b.context)), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    if os.path.exists("/usr/bin/skopeo"):
        inspected = subprocess.run(["skopeo", "inspect", f"oci-archive:{dest}"], capture_output=True, text=True, timeout=60)
        assert inspected.returncode == 0, inspected.stderr
    assert mounts_under(b.root) == [] and scratch_left(b.root) == []
    cli_check(b.root)


def test_killed_pulls_leave_a_sound_store(tmp_path: Path, registry: RegistryServer, request: pytest.FixtureRequest) -> None:  # noqa: F811
    pytest.importorskip("httpx", reason="pybuildkit.registry needs httpx")
    from pybuildkit.registry import push

    name = f"{registry.host}/crash/app:v1"
    rng = random.Random(99)
    layers = [{f"data/{i}.bin": rng.randbytes(3 << 20)} for i in range(4)]
    with Store(tmp_path / "source") as source:
        image = make_image(source, layers, tags=(name,), compression="none")
        push(source, name)
    root = tmp_path / "store"
    env = dict(os.environ, PYBUILDKIT_CONFIG=str(tmp_path / "cfg.json"), DOCKER_CONFIG=str(tmp_path / "docker"))
    whole = timed(pybuild(root, "pull", "-q", name), env)
    with Store(root) as store:
        store.remove_image(name, force=True)
        store.gc(grace_seconds=0)
    kills = finished = 0
    latest = 0.9 * whole
    for _ in range(20):
        if kills >= 6:
            break
        # On a quiet machine a warm pull can finish sooner than the first, timed one: aim earlier
        # after every pull that finished, so the kills keep landing inside the transfer.
        if run_and_kill(pybuild(root, "pull", "-q", name), rng.uniform(min(0.3, latest / 2), latest), env):
            kills += 1
        else:
            finished += 1
            latest *= 0.7
            with Store(root) as store:
                store.remove_image(name, force=True)
                store.gc(grace_seconds=0)
        assert_sound(root)
    report(request, "pull from a registry", kills, finished)
    assert kills >= 2
    done = subprocess.run(pybuild(root, "pull", name), capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    with Store(root) as store:
        assert store.resolve(name) == image.digest
    cli_check(root)


HOLDER = """
import sys, time
from pathlib import Path
from pybuildkit.snapshot import Snapshots
snaps = Snapshots(Path(sys.argv[1]))
with snaps.active([]) as view:
    (view.merged / "alive").write_text("yes")
    print(view.merged, flush=True)
    time.sleep(60)
"""


def test_reaper_spares_live_owners_and_clears_dead_ones(tmp_path: Path) -> None:
    from pybuildkit.snapshot import Snapshots

    root = tmp_path / "fs"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(root)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        merged = Path(holder.stdout.readline().strip())
        Snapshots(root)  # another process starting up reaps: the holder is alive, so nothing goes
        assert (merged / "alive").read_text() == "yes"
    finally:
        holder.kill()
        holder.wait()
    assert merged.exists()  # SIGKILL left it, mounted
    Snapshots(root)
    assert not merged.exists()
    assert mounts_under(root) == [] and os.listdir(root / "active") == [] and os.listdir(root / "owners") == []
