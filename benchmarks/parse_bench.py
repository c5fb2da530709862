"""How fast Dockerfiles are parsed: the real-world corpus in one process, and `pybuild parse` cold.

Two figures with targets: parsing the 47 real-world files of the conformance corpus in one process
(< 0.5 s, grammar already loaded), and `pybuild parse` of a small file as a whole process
(< 0.25 s median, interpreter start-up and grammar load included). Also reports the one-off
grammar load, cached and uncached, and CPU times, which stay meaningful on a busy machine where
wall-clock figures do not.

Run: `.venv/bin/python benchmarks/parse_bench.py [--runs N] [--json OUT]`.
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
from pathlib import Path

__all__ = ["main"]

REPO = Path(__file__).resolve().parents[1]
SMALL = """\
# syntax=docker/dockerfile:1
FROM busybox AS build
RUN --mount=type=cache,target=/cache echo building > /out
COPY <<EOF /etc/motd
hello
EOF
FROM scratch
COPY --from=build /out /out
CMD ["/out"]
"""


def _corpus() -> list[Path]:
    root = Path(os.environ.get("PYBUILDKIT_CONFORMANCE", REPO.parent / "shared" / "conformance"))
    files = sorted((root / "real-world").glob("*.Dockerfile"))
    if not files:
        sys.exit(f"no real-world Dockerfiles under {root}: set $PYBUILDKIT_CONFORMANCE")
    return files


def bench_corpus(runs: int) -> dict[str, float]:
    from pybuildkit.syntax import parse
    from pybuildkit.syntax.grammar import parser

    started = time.perf_counter()
    parser()
    grammar_load = time.perf_counter() - started
    datas = [(p.name, p.read_bytes()) for p in _corpus()]
    timings, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        nodes = sum(len(parse(data, path=name).nodes) for name, data in datas)
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return {
        "files": len(datas),
        "instructions": nodes,
        "grammar_load_s": grammar_load,
        "corpus_first_s": timings[0],
        "corpus_median_s": statistics.median(timings),
        "corpus_cpu_median_s": statistics.median(cpu),
    }


def bench_command(runs: int) -> dict[str, float]:
    pybuild = Path(sys.executable).with_name("pybuild")
    command = [str(pybuild)] if pybuild.exists() else [sys.executable, "-m", "pybuildkit.cli.main"]
    with tempfile.TemporaryDirectory() as tmp:
        dockerfile = Path(tmp) / "Dockerfile"
        dockerfile.write_text(SMALL)
        subprocess.run([*command, "parse", str(dockerfile)], check=True, capture_output=True)
        timings, cpu = [], []
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run([*command, "parse", str(dockerfile)], check=True, capture_output=True)
            timings.append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare = time.perf_counter() - started
    return {
        "command_median_s": statistics.median(timings),
        "command_min_s": min(timings),
        "command_cpu_median_s": statistics.median(cpu),
        "python_startup_s": bare,
    }


def bench_uncached_grammar() -> float:
    """Grammar compile without Lark's cache, in a fresh process (what the very first run pays)."""
    code = (
        "import time; from lark import Lark; from pybuildkit.syntax.grammar import grammar_text, START_RULES;"
        "t=time.perf_counter(); Lark(grammar_text(), parser='lalr', lexer='contextual', "
        "start=list(START_RULES), propagate_positions=True); print(time.perf_counter()-t)"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(done.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=7, help="repetitions per measurement")
    options.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    args = options.parse_args(argv)
    figures = {
        **bench_corpus(args.runs),
        **bench_command(args.runs),
        "grammar_uncached_s": bench_uncached_grammar(),
    }
    print(f"corpus: {figures['files']} files, {figures['instructions']} instructions")
    print(f"  parse (first run)     {figures['corpus_first_s'] * 1000:7.1f} ms   target < 500 ms")
    print(f"  parse (median)        {figures['corpus_median_s'] * 1000:7.1f} ms")
    print(f"  parse CPU (median)    {figures['corpus_cpu_median_s'] * 1000:7.1f} ms   (insensitive to other load)")
    print(f"  grammar load (cache)  {figures['grammar_load_s'] * 1000:7.1f} ms")
    print(f"  grammar compile       {figures['grammar_uncached_s'] * 1000:7.1f} ms   (no cache, once)")
    print(f"pybuild parse, small file, whole process:")
    print(f"  median                {figures['command_median_s'] * 1000:7.1f} ms   target < 250 ms")
    print(f"  min                   {figures['command_min_s'] * 1000:7.1f} ms")
    print(f"  CPU (median)          {figures['command_cpu_median_s'] * 1000:7.1f} ms   (user + system)")
    print(f"  python -c pass        {figures['python_startup_s'] * 1000:7.1f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    ok = figures["corpus_first_s"] < 0.5 and figures["command_median_s"] < 0.25
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
