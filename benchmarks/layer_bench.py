"""How fast layers are written: ours (none/gzip/zstd) against GNU tar and Python's tarfile.

Workloads: 2,000 files, 100,000 small files, one 200 MiB file. Reports seconds and MB/s of
uncompressed tar. Our figures include computing the digest and diff_id (sha256) on the way;
GNU tar's and tarfile's include no hashing at all, so the comparison flatters them.
Run: `.venv/bin/python benchmarks/layer_bench.py [--quick] [--json OUT]`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from pybuildkit.snapshot import apply_layer, write_tree_layer

__all__ = ["main"]


class _Null(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[no-untyped-def]
        return len(b)


def _populate(root: Path, files: int, size: int) -> None:
    per_dir = 100
    payload = os.urandom(size // 2) + bytes(size - size // 2)  # half random, half compressible
    for i in range(files):
        d = root / f"d{i // per_dir:04d}"
        if i % per_dir == 0:
            d.mkdir(parents=True)
        (d / f"file-{i:06d}.txt").write_bytes(payload)


def _big(root: Path, mib: int) -> None:
    root.mkdir(parents=True)
    chunk = os.urandom(1 << 20)
    with open(root / "big.bin", "wb") as f:
        for i in range(mib):
            f.write(chunk if i % 2 else bytes(1 << 20))


def _time(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _tarfile_baseline(root: Path) -> None:
    with tarfile.open(fileobj=_Null(), mode="w|", format=tarfile.PAX_FORMAT) as tf:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(dirnames + filenames):
                path = os.path.join(dirpath, name)
                tf.add(path, arcname=os.path.relpath(path, root), recursive=False)


def _gnu_tar(root: Path, compression: str, out: Path) -> None:
    """GNU tar in its most reproducible spelling, piped through the same compressor and level."""
    tar = ["tar", "--format=posix", "--sort=name", "--mtime=@0", "--numeric-owner", "-cf", "-", "-C", str(root), "."]
    # Into a real file, not /dev/null: GNU tar notices /dev/null and skips reading file contents.
    with open(out, "wb") as sink:
        if compression == "none":
            subprocess.run(tar, stdout=sink, check=True)
            return
        comp = {"gzip": ["gzip", "-6", "-n"], "zstd": ["zstd", "-3", "-q", "-c"]}[compression]
        producer = subprocess.Popen(tar, stdout=subprocess.PIPE)
        subprocess.run(comp, stdin=producer.stdout, stdout=sink, check=True)
        producer.stdout.close()  # type: ignore[union-attr]
        producer.wait()


def run(quick: bool) -> list[dict[str, object]]:
    work = Path(tempfile.mkdtemp(prefix="layer-bench-"))
    results: list[dict[str, object]] = []
    try:
        workloads = {
            "2k-files": lambda p: _populate(p, 2_000, 4096),
            "100k-small-files": lambda p: _populate(p, 10_000 if quick else 100_000, 512),
            "200MiB-file": lambda p: _big(p, 20 if quick else 200),
        }
        for name, make in workloads.items():
            src = work / name
            make(src)
            tar_bytes = io.BytesIO()
            write_tree_layer(src, tar_bytes, compression="none")
            mb = tar_bytes.tell() / 1e6
            for compression in ("none", "gzip", "zstd"):
                out = work / "out.layer"
                with open(out, "wb") as f:
                    secs = _time(lambda: write_tree_layer(src, f, compression=compression))
                results.append({"workload": name, "tool": "pybuildkit", "compression": compression,
                                "seconds": round(secs, 3), "MB/s": round(mb / secs, 1)})
                if shutil.which("tar") and shutil.which({"none": "tar", "gzip": "gzip", "zstd": "zstd"}[compression]):
                    secs = _time(lambda: _gnu_tar(src, compression, out))
                    results.append({"workload": name, "tool": "gnu-tar", "compression": compression,
                                    "seconds": round(secs, 3), "MB/s": round(mb / secs, 1)})
            secs = _time(lambda: _tarfile_baseline(src))
            results.append({"workload": name, "tool": "python-tarfile", "compression": "none",
                            "seconds": round(secs, 3), "MB/s": round(mb / secs, 1)})
            dest = work / "unpacked"
            dest.mkdir()
            tar_bytes.seek(0)
            secs = _time(lambda: apply_layer(tar_bytes, dest))
            results.append({"workload": name, "tool": "pybuildkit-unpack", "compression": "none",
                            "seconds": round(secs, 3), "MB/s": round(mb / secs, 1)})
            shutil.rmtree(dest)
            shutil.rmtree(src)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k small files and a 20 MiB file")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = run(args.quick)
    print(f"{'workload':<18} {'tool':<18} {'comp':<5} {'seconds':>8} {'MB/s':>8}")
    for r in results:
        print(f"{r['workload']:<18} {r['tool']:<18} {r['compression']:<5} {r['seconds']:>8} {r['MB/s']:>8}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
