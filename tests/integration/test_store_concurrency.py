"""Several processes on one store: concurrent writers and a concurrent GC corrupt nothing, and a
writer killed mid-ingest leaves no blob."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pybuildkit.store import Store
from pybuildkit.store.lock import FileLock
from tests.conftest import REPO

pytestmark = pytest.mark.integration

WRITER = r"""
import sys
from pybuildkit.store import CacheRecord, Store
from tests.unit.store.imagefactory import make_image
root, who, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = Store(root)
for i in range(count):
    with store.lease():  # a build holds a lease so GC never takes its fresh blobs
        image = make_image(store, [{f"{who}-{i}.txt": who.encode() * 100}], tags=(f"{who}/img:{i}", "shared:latest"), label=f"{who}{i}")
        store.tag(image.digest, f"{who}/alias:{i}")
        store.put_cache(CacheRecord(key=f"{who}-{i}", layer=image.layers[0], metadata={"i": i}))
print("done", flush=True)
"""

COLLECTOR = r"""
import sys, time
from pybuildkit.store import Store
store = Store(sys.argv[1])
runs = 0
deadline = time.time() + 20
while time.time() < deadline and runs < int(sys.argv[2]):
    store.gc(grace_seconds=0)
    runs += 1
    time.sleep(0.01)
print("gc", runs, flush=True)
"""

INGESTER = r"""
import sys, time
from pybuildkit.store import Store
store = Store(sys.argv[1])
ingest = store.open_ingest()
ingest.write(b"x" * (1 << 20))
print("ready", flush=True)
time.sleep(60)
"""


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_writers_and_a_collector(tmp_path: Path) -> None:
    root = tmp_path / "store"
    Store(root).close()
    count = 12
    procs = [_spawn(WRITER, str(root), who, str(count)) for who in ("alpha", "beta")]
    procs.append(_spawn(COLLECTOR, str(root), "30"))
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    with Store(root) as store:
        assert len(store.images()) == 2 * count
        for who in ("alpha", "beta"):
            for i in range(count):
                image = store.image(f"{who}/img:{i}")
                assert store.resolve(f"{who}/alias:{i}") == image.digest
                record = store.get_cache(f"{who}-{i}")
                assert record is not None and record.layer == image.layers[0]
        assert store.resolve("shared") in {s.digest for s in store.images()}
        report = store.check(deep=True)
        assert report.ok, report.problems
        assert report.tags == 4 * count + 1


def test_killed_ingest_leaves_no_blob(tmp_path: Path) -> None:
    root = tmp_path / "store"
    Store(root).close()
    proc = _spawn(INGESTER, str(root))
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    with Store(root) as store:
        assert list(store.blobs.iter_digests()) == []
        assert len(os.listdir(root / "ingest")) == 1  # the dead writer's temp file, not a blob
        report = store.gc(grace_seconds=0)
        assert report.removed_temp_files == 1 and os.listdir(root / "ingest") == []
        assert store.check().ok


def test_gc_waits_for_an_open_ingest(tmp_path: Path) -> None:
    with Store(tmp_path / "store") as store:
        ingest = store.open_ingest()
        ingest.write(b"in flight")
        with pytest.raises(Exception, match="busy"):
            FileLock(store.lock_path, exclusive=True, blocking=False)
        done = threading.Event()
        thread = threading.Thread(target=lambda: (store.gc(), done.set()))
        thread.start()
        time.sleep(0.2)
        assert not done.is_set()  # GC is blocked on the ingest's shared lock
        desc = ingest.commit()
        thread.join(timeout=10)
        assert done.is_set() and store.has_blob(desc.digest)
