"""Unpacking and writing layers as an unprivileged user: what root-only content becomes.

Runs the real code in a child process that has dropped to uid/gid 65534, on a real directory.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Imported here, by root: the child, once it is nobody, may not be able to read the stdlib.
from pybuildkit.errors import PybuildkitError
from pybuildkit.snapshot import apply_layer, write_tree_layer

pytestmark = pytest.mark.integration

NOBODY = 65534

def _child(layer: Path, target: Path) -> dict:
    """What an unprivileged process gets: unpack, then write the result back as a layer."""
    try:
        with open(layer, "rb") as f:
            result = apply_layer(f, target)
    except PybuildkitError as exc:
        return {"error": exc.message}
    info = write_tree_layer(target, io.BytesIO(), compression="gzip")
    return {"entries": result.entries, "names": sorted(os.listdir(target)), "diff_id": info.diff_id}


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to another user")
    path = Path(tempfile.mkdtemp(prefix="pybuildkit-rootless-"))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run_as_nobody(layer: Path, target: Path) -> dict:
    """Fork, drop to nobody for good, run `_child`, report through a pipe (no exec: the venv
    interpreter may not be readable by nobody)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 0
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(write_end, json.dumps(_child(layer, target)).encode())
        except BaseException as exc:  # noqa: BLE001 - report anything to the parent
            os.write(write_end, json.dumps({"crash": repr(exc)}).encode())
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    got = json.loads(data)
    assert "crash" not in got, got
    return got


def test_rootless_unpack_skips_devices_and_keeps_the_rest(shared_dir: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, extra in [("null", tarfile.CHRTYPE, {}), ("owned", tarfile.REGTYPE, {"uid": 0, "gid": 0}),
                                  ("ro", tarfile.DIRTYPE, {"mode": 0o555}), ("ro/inside", tarfile.REGTYPE, {}),
                                  ("pipe", tarfile.FIFOTYPE, {})]:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.mode = extra.get("mode", 0o644)
            info.devmajor, info.devminor = 1, 3
            tf.addfile(info, io.BytesIO(b""))
    layer = shared_dir / "layer.tar"
    layer.write_bytes(buf.getvalue())
    target = shared_dir / "target"
    target.mkdir()
    os.chown(target, NOBODY, NOBODY)
    got = run_as_nobody(layer, target)
    assert got.get("error") is None, got
    assert got["names"] == ["owned", "pipe", "ro"]  # the device node needs root: skipped
    assert os.stat(target / "owned").st_uid == NOBODY
    assert oct(os.stat(target / "ro").st_mode & 0o777) == oct(0o555)
    assert (target / "ro" / "inside").exists()


def test_rootless_hostile_layer_is_still_refused(shared_dir: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("../escape")
        tf.addfile(info, io.BytesIO(b""))
    layer = shared_dir / "evil.tar"
    layer.write_bytes(buf.getvalue())
    target = shared_dir / "target"
    target.mkdir()
    os.chown(target, NOBODY, NOBODY)
    got = run_as_nobody(layer, target)
    assert "climbs out" in got["error"]
    assert not (shared_dir / "escape").exists()
