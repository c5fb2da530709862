"""`make bench`: race pybuild against dockerd+BuildKit and buildah on generated workloads.

    benchmarks/run.py [--workloads w1,w2,...] [--scenarios cold,nochange,onefile,ignored]
                      [--runs N] [--peers docker,buildah] [--quick] [--scratch DIR] [--keep]

Short builds are noisy on a shared 2-core machine, so every tool builds the same context state
in the same run, the order of tools alternates from run to run, and what we report is medians,
min-max and the ratio of medians pybuild/peer. Each workload's figures go to
results/<workload>.json (replaced by the latest run of that workload); RESULTS.md and
results/ratios.png are then regenerated from every results/*.json present, so workloads can be
measured in separate invocations.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import baseimage  # noqa: E402
import peers  # noqa: E402
import plot  # noqa: E402
import workloads  # noqa: E402

__all__ = ["main", "SCENARIOS", "TARGETS", "summarise", "write_results_md"]

SCENARIOS = ("cold", "nochange", "onefile", "ignored")
SCENARIO_TITLES = {
    "cold": "cold build",
    "nochange": "no-change rebuild",
    "onefile": "one-file-change rebuild",
    "ignored": "ignored-file change",
}
# ratio pybuild/docker (BuildKit) that counts as a win, per scenario; w3 cold has its own
TARGETS = {"cold": 1.0, "nochange": 0.7, "onefile": 0.8}
W3_COLD_TARGET = 0.7
MEMORY_TARGET_MB = 250.0
W5_NOCHANGE_TARGET_S = 2.0
RESULTS = HERE / "results"
_EXPECT_SAME_IMAGE = {"nochange": True, "onefile": False, "ignored": True}
_NOTES_MARKER = "<!-- notes below are hand-written; run.py keeps them -->"


def _machine(tools: list[peers.Tool]) -> dict[str, object]:
    mem_kb = 0
    cpu = ""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "tools": {t.name: t.version() for t in tools},
    }


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise(samples: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, dict[str, float]]]:
    """scenario -> tool -> {median, min, max, n} of the seconds measured."""
    return {
        scenario: {
            tool: {"median": _median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}
            for tool, xs in per_tool.items()
            if xs
        }
        for scenario, per_tool in samples.items()
    }


def _bench_workload(
    workload: workloads.Workload,
    tools: list[peers.Tool],
    scenarios: list[str],
    runs: int,
    scratch: Path,
) -> dict[str, object]:
    print(f"== {workload.name}: generating context", file=sys.stderr)
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    ctx = workloads.generate(workload, scratch / "ctx" / workload.name)
    gen_seconds = time.perf_counter() - t0
    tag = f"bench/{workload.name}:latest"
    scenarios = [s for s in scenarios if s != "ignored" or workload.ignored_file]
    samples: dict[str, dict[str, list[float]]] = {s: {t.name: [] for t in tools} for s in scenarios}
    rss: dict[str, int] = {t.name: 0 for t in tools}
    # does each rebuild give the image it should? same ID unless a used file changed
    checks: dict[str, dict[str, list[bool]]] = {t.name: {} for t in tools}
    last_id: dict[str, str] = {}
    counter = 0

    def timed(tool: peers.Tool, scenario: str | None) -> None:
        m = tool.build(ctx, tag)
        rss[tool.name] = max(rss[tool.name], m.max_rss_kb)
        if scenario in _EXPECT_SAME_IMAGE and tool.name in last_id:
            same = bool(m.image_id) and m.image_id == last_id[tool.name]
            checks[tool.name].setdefault(scenario, []).append(same == _EXPECT_SAME_IMAGE[scenario])
        last_id[tool.name] = m.image_id
        if scenario is not None:
            samples[scenario][tool.name].append(m.seconds)
            print(f"   {scenario:9} {tool.name:8} {m.seconds:7.3f} s  {m.max_rss_kb / 1024:6.1f} MB", file=sys.stderr)

    if "cold" not in scenarios:
        for tool in tools:
            timed(tool, None)
    for run in range(runs):
        order = tools if run % 2 == 0 else list(reversed(tools))
        print(f"-- {workload.name} run {run + 1}/{runs} ({', '.join(t.name for t in order)})", file=sys.stderr)
        for scenario in scenarios:
            if scenario in ("onefile", "ignored"):
                counter += 1
                workloads.mutate(workload, ctx, counter, ignored=scenario == "ignored")
            for tool in order:
                if scenario == "cold":
                    tool.reset()
                timed(tool, scenario)
    return {
        "workload": workload.name,
        "title": workload.title,
        "context_files": sum(len(f) for _, _, f in os.walk(ctx)),
        "generate_seconds": round(gen_seconds, 2),
        "runs": runs,
        "scenarios": scenarios,
        "samples": samples,
        "summary": summarise(samples),
        "max_rss_mb": {name: round(kb / 1024, 1) for name, kb in rss.items()},
        "image_id_checks": checks,
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def _write_json(path: Path, value: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as out:
        json.dump(value, out, indent=1, sort_keys=True)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _fmt(stats: dict[str, float] | None) -> str:
    if not stats:
        return "—"
    return f"{stats['median']:.2f} ({stats['min']:.2f}–{stats['max']:.2f})"


def _target(workload: str, scenario: str) -> float | None:
    if workload == "w3" and scenario == "cold":
        return W3_COLD_TARGET
    return TARGETS.get(scenario)


def ratio(result: dict, scenario: str, peer: str) -> float | None:  # type: ignore[type-arg]
    """Median pybuild seconds over median `peer` seconds, or None when either is missing."""
    per_tool = result["summary"].get(scenario, {})
    if "pybuild" not in per_tool or peer not in per_tool or per_tool[peer]["median"] <= 0:
        return None
    return float(per_tool["pybuild"]["median"] / per_tool[peer]["median"])


def load_results(*, variants: bool = False) -> list[dict]:  # type: ignore[type-arg]
    """Every workload's latest results with pybuild's default gzip layers (or, with
    `variants`, the what-if runs with other layer compression), in workload order."""
    found = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("w*.json")) if ("-" in p.stem) == variants]
    return sorted(found, key=lambda r: (r["workload"], r.get("pybuild_compression", "gzip")))


def _variant_lines(variants: list[dict]) -> list[str]:  # type: ignore[type-arg]
    if not variants:
        return []
    lines = [
        "",
        "## What if pybuild's store kept other layer compression? (not counted against targets)",
        "",
        "The same harness with `pybuild build --compression X`; peers unchanged.",
        "",
        "| workload | pybuild layers | scenario | pybuild s | docker s | ratio vs docker |",
        "|---|---|---|---|---|---|",
    ]
    for r in variants:
        for scenario in r["scenarios"]:
            stats = r["summary"].get(scenario, {})
            x = ratio(r, scenario, "docker")
            lines.append(
                f"| {r['workload']} (n={r['runs']}) | {r.get('pybuild_compression')} | {SCENARIO_TITLES[scenario]} | "
                f"{_fmt(stats.get('pybuild'))} | {_fmt(stats.get('docker'))} | {f'{x:.2f}x' if x is not None else '—'} |"
            )
    return lines


def write_results_md(results: list[dict], path: Path, variants: list[dict] | None = None) -> None:  # type: ignore[type-arg]
    """Regenerate the tables of RESULTS.md, keeping the hand-written notes below the marker."""
    notes = ""
    if path.exists():
        old = path.read_text()
        if _NOTES_MARKER in old:
            notes = old[old.index(_NOTES_MARKER) + len(_NOTES_MARKER) :]
    machine = results[-1]["machine"] if results else {}
    lines = [
        "# Benchmark results",
        "",
        "Generated by `benchmarks/run.py` (`make bench`) from `benchmarks/results/*.json`; do not edit",
        "above the notes marker. Seconds are wall-clock medians (min–max) of each tool's builds; the",
        "ratio is median pybuild / median peer (lower is better for pybuild). Every tool builds the",
        "same generated context in the same run, tools alternate order from run to run.",
        "",
        "## Machine",
        "",
    ]
    if machine:
        lines += [
            f"- {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory_gib']} GiB memory, kernel {machine['kernel']}",
            f"- Python {machine['python']}",
        ]
        for name, version in sorted(machine["tools"].items()):
            lines.append(f"- {name}: {version}")
    lines += ["", "## Times", ""]
    seen = {t for r in results for s in r["summary"].values() for t in s}
    peers_seen = [p for p in peers.PEER_PACKAGES if p in seen]
    head = ["workload", "scenario", "pybuild s"] + [f"{p} s" for p in peers_seen] + [f"ratio vs {p}" for p in peers_seen]
    head += ["target vs docker", "met"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    verdicts: list[tuple[str, bool]] = []
    for r in results:
        for scenario in r["scenarios"]:
            stats = r["summary"].get(scenario, {})
            row = [f"{r['workload']} (n={r['runs']})", SCENARIO_TITLES[scenario], _fmt(stats.get("pybuild"))]
            row += [_fmt(stats.get(p)) for p in peers_seen]
            row += [f"{x:.2f}x" if (x := ratio(r, scenario, p)) is not None else "—" for p in peers_seen]
            target = _target(r["workload"], scenario)
            got = ratio(r, scenario, "docker")
            met = "—"
            if target is not None and got is not None:
                ok = got <= target
                met = "yes" if ok else "**no**"
                verdicts.append((f"{r['workload']} {SCENARIO_TITLES[scenario]} <= {target}x docker (got {got:.2f}x)", ok))
            if r["workload"] == "w5" and scenario == "nochange" and "pybuild" in stats:
                ok = stats["pybuild"]["median"] < W5_NOCHANGE_TARGET_S
                verdicts.append((f"w5 100,000-file no-change rebuild < {W5_NOCHANGE_TARGET_S:.0f} s (got {stats['pybuild']['median']:.2f} s)", ok))
                met = met + (" / < 2 s: yes" if ok else " / < 2 s: **no**")
            row += [f"<= {target}x" if target is not None else "—", met]
            lines.append("| " + " | ".join(row) + " |")
    lines += ["", "## Peak memory (MB, max RSS of the build client over every build of the workload)", ""]
    tools_seen = ["pybuild"] + peers_seen
    lines += ["| workload | files in context | " + " | ".join(tools_seen) + " |", "|" + "---|" * (len(tools_seen) + 2)]
    loads = ", ".join(f"{r['workload']} {r['load_average_1min'][0]}→{r['load_average_1min'][1]}" for r in results if "load_average_1min" in r)
    if loads:
        lines[lines.index("## Times") + 1 : lines.index("## Times") + 1] = [
            "",
            f"1-minute load average before→after each workload (other jobs shared the machine): {loads}.",
        ]
    for r in results:
        mem = r["max_rss_mb"]
        lines.append(f"| {r['workload']}: {r['title']} | {r['context_files']} | " + " | ".join(str(mem.get(t, "—")) for t in tools_seen) + " |")
        if "pybuild" in mem:
            verdicts.append((f"{r['workload']} pybuild peak memory < {MEMORY_TARGET_MB:.0f} MB (got {mem['pybuild']} MB)", mem["pybuild"] < MEMORY_TARGET_MB))
    lines += [
        "",
        "docker's and buildah's figures are their CLI clients only (the daemon or the storage work",
        "is elsewhere for docker); pybuild's include its whole process tree (wait4 of the process).",
        "",
        "## Did each rebuild give the right image?",
        "",
        "Builds whose image ID was as expected: the same as the build before after no change or an",
        "ignored file's change, a new one after a used file's change.",
        "",
    ]
    for r in results:
        for tool, per_scenario in r.get("image_id_checks", {}).items():
            parts = [f"{SCENARIO_TITLES[s]} {sum(v)}/{len(v)}" for s, v in per_scenario.items()]
            if parts:
                lines.append(f"- {r['workload']} {tool}: " + ", ".join(parts))
    lines += _variant_lines(variants or [])
    lines += ["", "## Targets", ""]
    for text, ok in verdicts:
        lines.append(f"- [{'x' if ok else ' '}] {text}")
    met = sum(ok for _, ok in verdicts)
    lines += ["", f"{met} of {len(verdicts)} targets met.", "", "![ratios pybuild/docker](results/ratios.png)", "", _NOTES_MARKER]
    text = "\n".join(lines) + (notes if notes else "\n")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--workloads", default=",".join(workloads.WORKLOADS), help="comma-separated (default: all)")
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated, from " + ",".join(SCENARIOS))
    p.add_argument("--runs", type=int, help="runs per scenario and tool (default 5; --quick 2)")
    p.add_argument("--peers", default="docker,buildah", help="comma-separated peers, or 'none' (default docker,buildah)")
    p.add_argument("--quick", action="store_true", help="2 runs")
    p.add_argument(
        "--compression",
        choices=("gzip", "zstd", "uncompressed"),
        default="gzip",
        help="pybuild's layer compression (default gzip, what users get); results then go to results/<workload>-<compression>.json",
    )
    p.add_argument("--scratch", type=Path, help="work dir (default: a new dir in /var/tmp, removed at the end)")
    p.add_argument("--keep", action="store_true", help="keep the scratch dir")
    p.add_argument("--no-install", action="store_true", help="never apt-get install missing peers")
    args = p.parse_args(argv)
    args.workload_list = [w for w in args.workloads.split(",") if w]
    args.scenario_list = [s for s in args.scenarios.split(",") if s]
    args.peer_list = [] if args.peers == "none" else [x for x in args.peers.split(",") if x]
    for w in args.workload_list:
        if w not in workloads.WORKLOADS:
            p.error(f"unknown workload {w!r} (known: {', '.join(workloads.WORKLOADS)})")
    for s in args.scenario_list:
        if s not in SCENARIOS:
            p.error(f"unknown scenario {s!r} (known: {', '.join(SCENARIOS)})")
    for x in args.peer_list:
        if x not in peers.PEER_PACKAGES:
            p.error(f"unknown peer {x!r} (known: {', '.join(peers.PEER_PACKAGES)})")
    if args.runs is None:
        args.runs = 2 if args.quick else 5
    if args.runs < 1:
        p.error("--runs must be at least 1")
    return args


def _on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="pybuild-bench-", dir="/var/tmp"))
    scratch.mkdir(parents=True, exist_ok=True)
    scratch = scratch.resolve()
    exe = Path(sys.executable).with_name("pybuild")
    tools: list[peers.Tool] = []
    skipped: dict[str, str] = {}
    updated = [False]
    try:
        base_oci = scratch / "busybox-oci.tar"
        base_docker = scratch / "busybox-docker.tar"
        baseimage.write_busybox_oci_archive(base_oci)
        ours = peers.make_tool("pybuild", scratch, exe, compression=args.compression)
        assert isinstance(ours, peers.Pybuild)
        ours.setup(base_oci, base_docker)
        ours.save_docker_archive("busybox:latest", base_docker)
        tools.append(ours)
        for name in args.peer_list:
            why = None if args.no_install else peers.ensure_debian_packages(peers.PEER_PACKAGES[name], updated=updated)
            tool = peers.make_tool(name, scratch, exe)
            if why is None:
                try:
                    tool.setup(base_oci, base_docker)
                except peers.ToolUnavailable as exc:
                    why = str(exc)
            if why is not None:
                tool.teardown()
                skipped[name] = why
                print(f"skipping {name}: {why}", file=sys.stderr)
                continue
            tools.append(tool)
        machine = _machine(tools)
        RESULTS.mkdir(exist_ok=True)
        failed: list[str] = []
        for name in args.workload_list:
            try:
                result = _bench_workload(workloads.WORKLOADS[name], tools, args.scenario_list, args.runs, scratch)
            except RuntimeError as exc:  # a build failed: this workload's figures would mean nothing
                print(f"{name}: {exc}\n{name}: no results written (earlier ones are kept)", file=sys.stderr)
                failed.append(name)
                for tool in tools:
                    tool.reset()
                continue
            result["machine"] = machine
            result["skipped_peers"] = skipped
            result["quick"] = args.quick
            result["pybuild_compression"] = args.compression
            result["date"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            suffix = "" if args.compression == "gzip" else f"-{args.compression}"
            _write_json(RESULTS / f"{name}{suffix}.json", result)
            subprocess.run(["rm", "-rf", str(scratch / "ctx" / name)], check=False)
        all_results = load_results()
        write_results_md(all_results, HERE / "RESULTS.md", load_results(variants=True))
        plot.write_ratio_chart(all_results, RESULTS / "ratios.png")
        print(f"wrote {RESULTS}/*.json, {HERE / 'RESULTS.md'}, {RESULTS / 'ratios.png'}", file=sys.stderr)
        if failed:
            print(f"failed workloads: {', '.join(failed)}", file=sys.stderr)
        return 1 if failed else 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        for tool in reversed(tools):
            tool.teardown()
        if not args.keep and not args.scratch:
            subprocess.run(["rm", "-rf", str(scratch)], check=False)


if __name__ == "__main__":
    sys.exit(main())
