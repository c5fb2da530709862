"""How long does a RUN of `true` cost in the sandbox? Median of many runs, as root.

Cases: the sandbox on a plain directory; on an overlay mounted (and unmounted) around each run, as
a RUN step does; with `network="none"` (a network namespace is the costly one); with `init=True`;
and the floor of a plain fork+exec of /bin/true without any namespace.

    .venv/bin/python benchmarks/sandbox_bench.py [--runs 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pybuildkit.sandbox import SandboxSpec, libc, run  # noqa: E402
from tests.support.rootfs import make_busybox_rootfs  # noqa: E402

__all__ = ["main", "measure"]


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(action: Callable[[], object], runs: int) -> dict[str, float]:
    """Wall-clock median and 90th percentile in milliseconds, after a few warm-up runs, plus the
    mean CPU time per run (builder + sandbox processes), which a busy machine does not inflate."""
    for _ in range(min(5, runs)):
        action()
    samples = []
    cpu_before = _cpu_seconds()
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    cpu_ms = (_cpu_seconds() - cpu_before) * 1000 / runs
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p90_ms": round(samples[int(len(samples) * 0.9)], 2),
        "cpu_ms": round(cpu_ms, 2),
    }


def _overlay_run(lower: Path, scratch: Path) -> Callable[[], object]:
    counter = iter(range(10**9))

    def action() -> None:
        base = scratch / str(next(counter))
        upper, work, merged = base / "upper", base / "work", base / "merged"
        for path in (upper, work, merged):
            path.mkdir(parents=True)
        libc.mount("overlay", str(merged), "overlay", 0, f"lowerdir={lower},upperdir={upper},workdir={work}")
        try:
            status = run(SandboxSpec(merged, ["true"]))
        finally:
            libc.umount2(str(merged), libc.MNT_DETACH)
        assert status == 0

    return action


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("sandbox_bench needs root", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as tmp:
        rootfs = make_busybox_rootfs(Path(tmp) / "rootfs")
        scratch = Path(tmp) / "overlays"
        cases = {
            "floor: fork+exec /bin/true (no namespaces)": lambda: subprocess.run(["/bin/true"], check=True),
            "sandbox: true": lambda: run(SandboxSpec(rootfs, ["true"])),
            "sandbox: true on a fresh overlay (mount+run+umount)": _overlay_run(rootfs, scratch),
            "sandbox: true, network none": lambda: run(SandboxSpec(rootfs, ["true"], network="none")),
            "sandbox: true, init mode": lambda: run(SandboxSpec(rootfs, ["true"], init=True)),
        }
        results = {name: measure(action, args.runs) for name, action in cases.items()}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name, figures in results.items():
            print(
                f"{name:<55} median {figures['median_ms']:7.2f} ms   p90 {figures['p90_ms']:7.2f} ms"
                f"   cpu {figures['cpu_ms']:6.2f} ms/run"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
