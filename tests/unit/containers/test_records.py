"""Container records and volumes on disk: round trips, unique names, lookups by prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybuildkit.containers import ContainerConfig, ContainerRecords, Limits, VolumeSpec, Volumes
from pybuildkit.containers.records import new_id
from pybuildkit.errors import StoreError, UsageError


def _config(name: str = "") -> ContainerConfig:
    return ContainerConfig(
        id=new_id(), name=name, image="busybox", image_digest="sha256:" + "0" * 64, argv=("sh",), env=("A=1",),
        volumes=(VolumeSpec("bind", "/x", "/host", readonly=True),), limits=Limits(pids=3),
    )


def test_round_trip_and_lookup(tmp_path: Path) -> None:
    records = ContainerRecords(tmp_path)
    made = records.create(_config("one"))
    assert len(made.id) == 64 and all(c in "0123456789abcdef" for c in made.id)
    for ref in ("one", made.id, made.id[:12]):
        assert records.get(ref).config == made.config
    updated = records.set_state(made, status="exited", exit_code=3)
    assert records.get("one").state == updated.state
    records.delete(made)
    with pytest.raises(StoreError, match="No such container"):
        records.get("one")


def test_names_are_unique_and_generated(tmp_path: Path) -> None:
    records = ContainerRecords(tmp_path)
    records.create(_config("dup"))
    with pytest.raises(UsageError, match="already in use"):
        records.create(_config("dup"))
    with pytest.raises(UsageError, match="invalid container name"):
        records.create(_config("bad/name"))
    assert records.create(_config()).name


def test_volumes_create_populate_remove(tmp_path: Path) -> None:
    volumes = Volumes(tmp_path)
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "f").write_text("x")
    volume, fresh = volumes.create("data")
    assert fresh and volumes.create("data") == (volume, False)
    volumes.populate("data", source)
    assert (volume.mountpoint / "sub" / "f").read_text() == "x"
    (volume.mountpoint / "sub" / "f").unlink()
    volumes.populate("data", source)  # filled once only, like Docker
    assert not (volume.mountpoint / "sub" / "f").exists()
    assert [v.name for v in volumes.list()] == ["data"]
    volumes.remove("data")
    with pytest.raises(StoreError):
        volumes.get("data")
