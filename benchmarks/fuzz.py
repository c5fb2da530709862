"""Bounded coverage-guided fuzzing (atheris/libFuzzer) of what reads untrusted bytes.

Targets: the Dockerfile parser (syntax + model), the .dockerignore matcher, and the layer tar
reader + unpacker. Each target's property lives beside its hypothesis test in tests/unit
(`check_dockerfile`, `check_dockerignore`, `check_tar`): any exception other than a project
error is a finding. Each target runs in its own process (libFuzzer runs once per process) for
`--seconds` (default 60, or $FUZZ_SECONDS), starting from the same seeds the tests use; a crashing
input is written to `--artifacts` (default .fuzz/). Prints iterations and findings per target and
exits 1 if anything was found.

    make fuzz                                   # pip install atheris, then all targets, 60 s each
    .venv/bin/python benchmarks/fuzz.py --seconds 10 --target tar
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["TARGETS", "main"]

REPO = Path(__file__).resolve().parents[1]
TARGETS = ("parser", "dockerignore", "tar")


def _property(target: str):  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(REPO))
    if target == "parser":
        from tests.unit.test_fuzz_parser import SEEDS, check_dockerfile

        return check_dockerfile, list(SEEDS)
    if target == "dockerignore":
        from tests.unit.test_fuzz_dockerignore import check_dockerignore

        return check_dockerignore, [b"*.md\n!README.md\n**/tmp\n\0README.md\na/tmp/x\n", b"[a-\0a"]
    from tests.unit.test_fuzz_tar import SEEDS as TAR_SEEDS, check_tar

    return check_tar, list(TAR_SEEDS)


def _child(target: str, seconds: int, artifacts: Path) -> None:
    """Runs inside the per-target process: hand the property to libFuzzer until time is up."""
    import atheris

    with atheris.instrument_imports(include=["pybuildkit"]):  # coverage feedback from our code only
        import pybuildkit.api
        import pybuildkit.context.dockerignore
        import pybuildkit.model
        import pybuildkit.snapshot.unpack  # noqa: F401

        check, seeds = _property(target)
    corpus = Path(tempfile.mkdtemp(prefix=f"fuzz-{target}-"))
    for i, seed in enumerate(seeds):
        (corpus / f"seed-{i}").write_bytes(seed)
    artifacts.mkdir(parents=True, exist_ok=True)
    args = [sys.argv[0], f"-max_total_time={seconds}", f"-artifact_prefix={artifacts}/{target}-", "-rss_limit_mb=2048", str(corpus)]
    atheris.Setup(args, check)
    atheris.Fuzz()


def _run(target: str, seconds: int, artifacts: Path) -> tuple[int, int, str]:
    """(iterations, findings, last stderr line) of one target's bounded run."""
    before = set(artifacts.glob(f"{target}-*")) if artifacts.is_dir() else set()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", target, "--seconds", str(seconds), "--artifacts", str(artifacts)],
        capture_output=True, text=True, timeout=seconds * 3 + 120,
    )
    runs = [int(m) for m in re.findall(r"Done (\d+) runs", proc.stderr)] or [int(m) for m in re.findall(r"#(\d+)\s", proc.stderr)]
    after = set(artifacts.glob(f"{target}-*")) if artifacts.is_dir() else set()
    found = len(after - before) or (1 if proc.returncode not in (0,) else 0)
    tail = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    return (max(runs) if runs else 0), found, tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "60")))
    parser.add_argument("--target", choices=TARGETS, action="append", help="fuzz only this target (repeatable)")
    parser.add_argument("--artifacts", type=Path, default=REPO / ".fuzz")
    parser.add_argument("--child", choices=TARGETS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.seconds, args.artifacts)
        return 0
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("atheris is not installed: `make fuzz` installs it (pip install atheris)", file=sys.stderr)
        return 2
    total_found = 0
    for target in args.target or TARGETS:
        runs, found, tail = _run(target, args.seconds, args.artifacts)
        total_found += found
        print(f"{target:13s} {args.seconds:4d}s  {runs:9d} iterations  {found} finding(s)" + (f"  [{tail}]" if found else ""))
    if total_found:
        print(f"crashing inputs are in {args.artifacts}/", file=sys.stderr)
    return 1 if total_found else 0


if __name__ == "__main__":
    sys.exit(main())
