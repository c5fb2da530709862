"""Checks of the bench harness's own parts (run: `.venv/bin/pytest benchmarks/test_harness.py`).

The harness's numbers are only worth something if every tool sees the same bytes, the base
image is a valid image, and the report states targets correctly; these tests pin that down
without starting any peer.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import struct
import sys
import tarfile
import zlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baseimage  # noqa: E402
import plot  # noqa: E402
import run  # noqa: E402
import workloads  # noqa: E402

__all__: list[str] = []


def _tree(root: Path) -> dict[str, tuple[bytes, int, int]]:
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            out[str(p.relative_to(root))] = (hashlib.sha256(p.read_bytes()).digest(), st.st_mode, int(st.st_mtime))
    return out


@pytest.mark.parametrize("name", ["w1", "w2", "w4"])
def test_contexts_are_byte_identical_from_run_to_run(tmp_path: Path, name: str) -> None:
    w = workloads.WORKLOADS[name]
    a = _tree(workloads.generate(w, tmp_path / "a"))
    b = _tree(workloads.generate(w, tmp_path / "b"))
    assert a == b
    assert w.changed_file in a
    assert "Dockerfile" in a
    if w.ignored_file:
        assert w.ignored_file in a


@pytest.mark.parametrize("name, ignored", [("w1", False), ("w2", False), ("w4", False), ("w4", True)])
def test_each_mutation_gives_content_never_seen_before(tmp_path: Path, name: str, ignored: bool) -> None:
    w = workloads.WORKLOADS[name]
    ctx = workloads.generate(w, tmp_path / "ctx")
    seen = {hashlib.sha256(ctx.joinpath(w.ignored_file if ignored else w.changed_file).read_bytes()).digest()}
    for counter in range(1, 4):
        path = workloads.mutate(w, ctx, counter, ignored=ignored)
        seen.add(hashlib.sha256(path.read_bytes()).digest())
    assert len(seen) == 4


def test_w5_names_a_hundred_thousand_files_and_its_changed_file_exists() -> None:
    # generating w5 takes seconds; check the layout arithmetic instead
    per_dir, dirs = 200, 25
    index = int(workloads.WORKLOADS["w5"].changed_file.rsplit("f", 1)[1].split(".")[0])
    assert index < workloads.W5_FILES
    assert workloads.WORKLOADS["w5"].changed_file == f"tree/d{index // (per_dir * dirs):02d}/s{(index // per_dir) % dirs:02d}/f{index:06d}.txt"


@pytest.mark.skipif(not os.path.exists(baseimage.BUSYBOX), reason="busybox-static is not installed")
def test_busybox_archive_is_a_valid_reproducible_oci_image(tmp_path: Path) -> None:
    first = baseimage.write_busybox_oci_archive(tmp_path / "a.tar")
    second = baseimage.write_busybox_oci_archive(tmp_path / "b.tar")
    assert first == second
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()
    with tarfile.open(tmp_path / "a.tar") as tar:
        blobs = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    for name, data in blobs.items():
        if name.startswith("blobs/sha256/"):
            assert hashlib.sha256(data).hexdigest() == name.rsplit("/", 1)[1]
    index = json.loads(blobs["index.json"])
    manifest = json.loads(blobs["blobs/sha256/" + index["manifests"][0]["digest"].split(":")[1]])
    config = json.loads(blobs["blobs/sha256/" + manifest["config"]["digest"].split(":")[1]])
    layer = gzip.decompress(blobs["blobs/sha256/" + manifest["layers"][0]["digest"].split(":")[1]])
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer).hexdigest()]
    assert index["manifests"][0]["digest"] == first


def _png_pixels(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_png_writer_round_trips_pixels(tmp_path: Path) -> None:
    c = plot.Canvas(5, 3)
    c.rect(1, 1, 3, 2, (10, 20, 30))
    plot.write_png(c, tmp_path / "x.png")
    width, height, raw = _png_pixels(tmp_path / "x.png")
    assert (width, height) == (5, 3)
    row1 = raw[1 * 16 + 1 : 2 * 16]
    assert row1[3:9] == bytes((10, 20, 30)) * 2
    assert row1[:3] == bytes(plot.WHITE)


def _result(workload: str, seconds: dict[str, dict[str, list[float]]], rss: float = 40.0) -> dict:  # type: ignore[type-arg]
    return {
        "workload": workload,
        "title": workload,
        "context_files": 3,
        "runs": 2,
        "scenarios": list(seconds),
        "summary": run.summarise(seconds),
        "max_rss_mb": {"pybuild": rss, "docker": 30.0},
        "image_id_checks": {"pybuild": {"nochange": [True, False]}},
        "machine": {"nproc": 2, "cpu": "x", "memory_gib": 1.0, "kernel": "k", "python": "3.11", "tools": {"pybuild": "0"}},
    }


def test_report_states_targets_and_keeps_hand_written_notes(tmp_path: Path) -> None:
    results = [
        _result("w1", {"cold": {"pybuild": [1.0, 3.0], "docker": [2.0, 2.0]}, "nochange": {"pybuild": [0.2, 0.2], "docker": [0.2, 0.2]}}),
        _result("w3", {"cold": {"pybuild": [0.8], "docker": [1.0]}}, rss=300.0),
        _result("w5", {"nochange": {"pybuild": [1.5], "docker": [1.0]}}),
    ]
    md = tmp_path / "RESULTS.md"
    md.write_text("old tables\n<!-- notes below are hand-written; run.py keeps them -->\n## Profiling\nmine\n")
    variant = {**_result("w3", {"cold": {"pybuild": [0.5], "docker": [1.0]}}), "pybuild_compression": "zstd"}
    run.write_results_md(results, md, [variant])
    text = md.read_text()
    assert "old tables" not in text and text.endswith("## Profiling\nmine\n")
    assert "- [x] w1 cold build <= 1.0x docker (got 1.00x)" in text
    assert "- [ ] w1 no-change rebuild <= 0.7x docker (got 1.00x)" in text
    assert "- [ ] w3 cold build <= 0.7x docker (got 0.80x)" in text
    assert "- [x] w5 100,000-file no-change rebuild < 2 s (got 1.50 s)" in text
    assert "- [ ] w3 pybuild peak memory < 250 MB (got 300.0 MB)" in text
    assert "- w1 pybuild: no-change rebuild 1/2" in text
    assert "| w3 (n=2) | zstd | cold build | 0.50 (0.50–0.50) | 1.00 (1.00–1.00) | 0.50x |" in text
    assert "got 0.50x" not in text  # a what-if run is no verdict
    plot.write_ratio_chart(results, tmp_path / "r.png")
    width, height, _ = _png_pixels(tmp_path / "r.png")
    assert width >= 640 and height == 420


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--workloads", "w9"], "unknown workload"),
        (["--scenarios", "warm"], "unknown scenario"),
        (["--peers", "podman"], "unknown peer"),
        (["--runs", "0"], "at least 1"),
    ],
)
def test_bad_arguments_are_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        run.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
