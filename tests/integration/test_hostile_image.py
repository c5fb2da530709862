"""Hostile images end to end: crafted oci-/docker-archives through `pybuild load`, then used as a
FROM base by `pybuild build`.

The layers are the unpacker's hostile corpus (`..` and absolute paths, symlinks followed by writes,
hardlinks out, symlink loops, enormous headers, truncated and corrupt streams) plus content that is
legal but dangerous (device nodes for the host's disk and memory, setuid files, duplicate entries).
The first kind must fail with a clear error at `pybuild build` (exit 1, `error:`, no traceback),
publish no snapshot, leave no temp dir, and leave the store sound; the second must build, and a
RUN must not be able to open the host devices its image carries.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import attrs
import pytest

from pybuildkit.cli.main import main
from pybuildkit.exporters import export_docker_archive, export_oci_archive
from pybuildkit.oci.config import History, RootFS
from pybuildkit.store import Store
from tests.integration.test_hostile_context import fingerprint
from tests.support.build import requires_root
from tests.support.images import install_busybox
from tests.unit.snapshot.test_unpack import HOSTILE
from tests.unit.store.imagefactory import put_layer

pytestmark = [pytest.mark.integration, requires_root]


def _device_layer(_: Path) -> bytes:
    root_dev = os.stat("/").st_dev
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, major, minor in [
            ("hostdisk", tarfile.BLKTYPE, os.major(root_dev), os.minor(root_dev)),
            ("mem", tarfile.CHRTYPE, 1, 1),
            ("kmsg", tarfile.CHRTYPE, 1, 11),
        ]:
            info = tarfile.TarInfo(name)
            info.type, info.devmajor, info.devminor, info.mode = kind, major, minor, 0o666
            tar.addfile(info)
        for name, mode, data in [("suid", 0o4755, b"#!/bin/sh\nid\n"), ("dup", 0o644, b"first"), ("dup", 0o644, b"second")]:
            info = tarfile.TarInfo(name)
            info.mode, info.size = mode, len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture(scope="session")
def busybox_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("busybox")


def make_archive(tmp_path: Path, busybox_dir: Path, layer: bytes, fmt: str) -> Path:
    """busybox plus `layer` on top, tagged hostile:1, exported without unpacking anything."""
    with Store(tmp_path / "origin") as origin:
        install_busybox(origin, busybox_dir)
        base = origin.image("busybox")
        desc, diff_id = put_layer(origin, layer)
        config = attrs.evolve(
            base.config,
            rootfs=RootFS(diff_ids=(*base.config.rootfs.diff_ids, diff_id)),
            history=(*base.config.history, History(created_by="hostile layer")),
        )
        origin.put_image(config, [*base.manifest.layers, desc], tags=["hostile:1"])
        archive = tmp_path / f"hostile-{fmt}.tar"
        (export_oci_archive if fmt == "oci" else export_docker_archive)(origin, "hostile:1", archive)
    return archive


def pybuild(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> tuple[int, str]:
    code = main(["--root", str(root), *argv])
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, err


def published(root: Path) -> set[str]:
    snaps = root / "fs" / "snapshots"
    return set(os.listdir(snaps)) if snaps.is_dir() else set()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    where = tmp_path / "outside"
    where.mkdir()
    (where / "secret").write_bytes(b"keep me")
    return where


@pytest.mark.parametrize("fmt", ["oci", "docker"])
@pytest.mark.parametrize("make", [m for _, m in HOSTILE], ids=[n for n, _ in HOSTILE])
def test_hostile_base_fails_cleanly(tmp_path: Path, busybox_dir: Path, outside: Path, capsys: pytest.CaptureFixture[str], make, fmt: str) -> None:  # type: ignore[no-untyped-def]
    archive = make_archive(tmp_path, busybox_dir, make(outside), fmt)
    root = tmp_path / "store"
    before = fingerprint(outside)
    code, err = pybuild(capsys, root, "load", "-i", str(archive))
    if code == 0:  # a loader need not unpack: the layer is refused when it is
        (tmp_path / "ctx").mkdir()
        (tmp_path / "ctx" / "Dockerfile").write_text("FROM hostile:1\nRUN echo ran > /ran\n")
        code, err = pybuild(capsys, root, "build", str(tmp_path / "ctx"))
        assert len(published(root)) <= 1, "the hostile layer was published"  # busybox's own only
    assert code == 1 and "error:" in err, err
    assert fingerprint(outside) == before
    assert not Path("/etc/evil").exists() and not Path("/tmp/evil").exists()
    with Store(root) as store:
        assert store.check(deep=True).ok
    for sub in ("active", "tmp"):
        where = root / "fs" / sub
        assert not where.is_dir() or os.listdir(where) == [], f"{sub} left behind"


def test_devices_setuid_and_duplicates_stay_inside(tmp_path: Path, busybox_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = make_archive(tmp_path, busybox_dir, _device_layer(tmp_path), "oci")
    root = tmp_path / "store"
    assert pybuild(capsys, root, "load", "-i", str(archive))[0] == 0
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        "FROM hostile:1\n"
        "RUN for d in /hostdisk /mem /kmsg; do head -c 16 $d > /dev/null 2>&1 && echo OPENED $d; done > /opened; cat /dup > /dupseen\n"
        "RUN awk '$5 == \"/\" {print $6}' /proc/self/mountinfo > /rootopts\n"
    )
    out = tmp_path / "rootfs"
    code, err = pybuild(capsys, root, "build", "--output", f"type=local,dest={out}", str(ctx))
    assert code == 0, err
    assert (out / "opened").read_text() == ""
    assert "nodev" in (out / "rootopts").read_text().split(",")  # not just this host's device cgroup
    assert (out / "dupseen").read_text() == "second"
    assert (out / "suid").stat().st_mode & 0o7777 == 0o4755
    with Store(root) as store:
        assert store.check(deep=True).ok
