"""The store commands end to end through `pybuild`'s own entry point, on real stores and archives."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pybuildkit.cli.main import main
from pybuildkit.exporters import export_oci_archive
from pybuildkit.store import Store, StoredImage
from tests.unit.store.imagefactory import make_image

pytestmark = pytest.mark.integration


@pytest.fixture
def archive(tmp_path: Path) -> tuple[Path, StoredImage]:
    with Store(tmp_path / "origin") as store:
        image = make_image(store, [{"hello.txt": b"hi\n"}], tags=("example/app:1.0",))
        export_oci_archive(store, "example/app:1.0", tmp_path / "app.tar")
    return tmp_path / "app.tar", image


@pytest.fixture
def pybuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PYBUILDKIT_ROOT", str(tmp_path / "unused"))  # main() overwrites it; restored after

    def call(*argv: str, root: Path | None = None) -> tuple[int, str, str]:
        code = main(["--root", str(root or tmp_path / "root"), *argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return call


def test_load_images_inspect_tag_rmi(pybuild, archive) -> None:  # type: ignore[no-untyped-def]
    path, image = archive
    assert pybuild("load", "-i", str(path)) == (0, "Loaded image: example/app:1.0\n", "")
    code, out, _ = pybuild("images")
    assert code == 0 and "example/app" in out and image.config_digest[7:19] in out
    assert pybuild("images", "-q")[1].split() == [image.config_digest[7:19]]
    assert pybuild("tag", "example/app:1.0", "other")[0] == 0
    code, out, _ = pybuild("inspect", "other")
    (info,) = json.loads(out)
    assert info["Id"] == image.digest and info["ConfigDigest"] == image.config_digest
    assert info["RepoTags"] == ["example/app:1.0", "other:latest"]
    assert [layer["digest"] for layer in info["Layers"]] == [layer.digest for layer in image.layers]
    assert info["Config"]["config"]["Cmd"] == ["/bin/sh"]
    assert pybuild("rmi", "other") == (0, "Untagged: other:latest\n", "")
    code, out, _ = pybuild("rmi", "example/app:1.0", "--prune")
    assert code == 0 and f"Deleted: {image.digest}" in out
    assert pybuild("images", "-q")[1] == ""


@pytest.mark.parametrize("fmt", ["oci-archive", "docker-archive", "oci"])
def test_save_then_load_elsewhere(tmp_path: Path, pybuild, archive, fmt: str) -> None:  # type: ignore[no-untyped-def]
    path, image = archive
    pybuild("load", "-i", str(path))
    out_path = tmp_path / f"saved-{fmt}"
    assert pybuild("save", "--format", fmt, "-o", str(out_path), "example/app:1.0")[0] == 0
    if fmt == "oci":
        assert (out_path / "index.json").is_file()
        return
    code, out, _ = pybuild("load", "-i", str(out_path), root=tmp_path / "elsewhere")
    assert code == 0 and out == "Loaded image: example/app:1.0\n"
    with Store(tmp_path / "elsewhere") as store:
        loaded = store.image("example/app:1.0")
    assert loaded.config_digest == image.config_digest
    if fmt == "oci-archive":
        assert loaded.digest == image.digest


def test_store_check_and_gc(tmp_path: Path, pybuild, archive) -> None:  # type: ignore[no-untyped-def]
    path, image = archive
    pybuild("load", "-i", str(path))
    code, out, _ = pybuild("store", "check", "--deep")
    assert code == 0 and out.endswith(": ok\n")
    blob = tmp_path / "root" / "blobs" / "sha256" / image.config_digest[7:]
    os.chmod(blob, 0o644)
    blob.write_bytes(blob.read_bytes() + b" ")
    code, out, _ = pybuild("store", "check")
    assert code == 1 and "problem: " in out
    assert pybuild("store", "gc", "--grace", "0")[0] == 0
    code, out, _ = pybuild("store", "info")
    assert code == 0 and "images: 1" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("load", "-i", "/nonexistent/x.tar"), "no such file"),
        (("load", "-i", "JUNK"), "not a readable tar"),
        (("inspect", "nothing"), "no such image"),
        (("rmi", "nothing"), "no such image"),
        (("tag", "nothing", "x"), "no such image"),
        (("save", "-o", "OUT", "nothing"), "no such image"),
        (("inspect", "Bad Ref"), "invalid image reference"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path: Path, pybuild, argv: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "junk").write_bytes(b"this is not a tar archive\n" * 40)
    argv = tuple({"OUT": str(tmp_path / "out.tar"), "JUNK": str(tmp_path / "junk")}.get(a, a) for a in argv)
    code, _, err = pybuild(*argv)
    assert code == 1 and err.startswith("error: ") and message in err
    assert not (tmp_path / "out.tar").exists()


@pytest.mark.parametrize(
    ("size", "text"), [(0, "0B"), (999, "999B"), (1000, "1kB"), (1_234_567, "1.23MB"), (5_000_000_000, "5GB")]
)
def test_human_size(size: int, text: str) -> None:
    from pybuildkit.cli.cmd_images import human_size

    assert human_size(size) == text


@pytest.mark.parametrize(
    ("created", "text"),
    [(None, "N/A"), ("garbage", "N/A"), ("1970-01-01T01:59:30Z", "Less than a minute ago"), ("1970-01-01T00:00:30Z", "1 hour ago"), ("1970-01-01T00:00:00Z", "2 hours ago")],
)
def test_human_age(created: str | None, text: str) -> None:
    from pybuildkit.cli.cmd_images import human_age

    assert human_age(created, now=7200.0) == text
