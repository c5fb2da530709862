"""`pybuild graph [-f Dockerfile] [--target T] [--format dot|svg|png] [-o FILE] [CONTEXT]`.

Draws the stage graph of a Dockerfile: one node per stage the target needs (its name and step
count, the target drawn bold), one node per outside image and for the build context, and an
edge for every way a stage reads another (`FROM`, `COPY --from`, `RUN --mount from=`), labelled.
A multi-stage Dockerfile is easier to reason about as a picture: which stages run in parallel,
which one the target waits for.

Drawing needs no store and no network: base images are not looked up, every non-scratch base is
planned as an image with an empty config. So the graph is exact about stages and edges; it does
not see a base image's ONBUILD triggers. DOT is written by us; SVG and PNG go through Graphviz's
`dot` when it is installed.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:  # pragma: no cover
    from pybuildkit.oci.config import Image
    from pybuildkit.oci.descriptor import Platform
    from pybuildkit.plan import BuildPlan

__all__ = ["register", "run", "GraphNode", "GraphEdge", "StageGraph", "stage_graph", "render_dot", "FORMATS", "DrawingResolver"]

FORMATS = ("dot", "svg", "png")
_SUFFIXES = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png"}


@attrs.frozen
class GraphNode:
    """A node: `kind` is `stage`, `image` or `context`; `label` is what the picture shows."""

    id: str
    kind: str
    label: str
    steps: int = 0
    target: bool = False


@attrs.frozen
class GraphEdge:
    """`source` feeds `dest` the way `label` says (`FROM`, `COPY --from`, `RUN --mount`, `COPY`)."""

    source: str
    dest: str
    label: str


@attrs.frozen
class StageGraph:
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]


@attrs.frozen
class DrawingResolver:
    """A BaseResolver that looks nothing up: every non-scratch base is an empty image config.

    Enough to plan for drawing (stages and their references do not depend on base configs), and it
    keeps `pybuild graph` free of the store and the network.
    """

    def config_of(self, ref: str, platform: Platform) -> Image | None:
        from pybuildkit.oci.config import Image

        if ref == "scratch":
            return None
        return Image(architecture=platform.architecture, os=platform.os, variant=platform.variant)


def stage_graph(plan: BuildPlan) -> StageGraph:
    """The nodes and labelled edges of `plan`'s stages, in stage order, edges without repeats."""
    from pybuildkit.plan import CONTEXT_ID, ExecOp, FileOp, SourceOp

    owner: dict[str, str] = {}
    for stage in plan.stages:
        for op in stage.ops:
            owner[op.id] = f"stage{stage.index}"
    nodes: dict[str, GraphNode] = {}
    for stage in plan.stages:
        steps = 1 + sum(1 for op in stage.ops if isinstance(op, (ExecOp, FileOp)))
        node_id = f"stage{stage.index}"
        nodes[node_id] = GraphNode(node_id, "stage", stage.name, steps=steps, target=stage.index == plan.target)
    edges: list[GraphEdge] = []

    def add(source: str, dest: str, label: str) -> None:
        edge = GraphEdge(source, dest, label)
        if edge not in edges:
            edges.append(edge)

    def image(ref: str) -> str:
        node_id = f"image:{ref}"
        nodes.setdefault(node_id, GraphNode(node_id, "image", ref))
        return node_id

    def origin(op_id: str, here: str) -> str | None:
        """The node an input op comes from: another stage, an outside image, or the context."""
        if op_id == CONTEXT_ID:
            nodes.setdefault("context", GraphNode("context", "context", "build context"))
            return "context"
        op = plan.op(op_id)
        if isinstance(op, SourceOp) and op.kind == "image" and op.ref:
            return image(op.ref)
        if isinstance(op, SourceOp) and op.kind == "stage" and op.inputs:
            return owner.get(op.inputs[0])
        found = owner.get(op_id)
        return None if found == here else found

    for stage in plan.stages:
        here = f"stage{stage.index}"
        first = stage.ops[0]
        if isinstance(first, SourceOp) and first.kind == "image" and first.ref:
            add(image(first.ref), here, "FROM")
        elif isinstance(first, SourceOp) and first.kind == "stage" and first.inputs:
            add(owner[first.inputs[0]], here, "FROM")
        for op in stage.ops[1:]:
            if isinstance(op, FileOp):
                for src in op.sources:
                    if src.input is None or src.input == op.parent:
                        continue
                    node = origin(src.input, here)
                    verb = op.action.upper()
                    if node is not None:
                        add(node, here, verb if node == "context" else f"{verb} --from")
            elif isinstance(op, ExecOp):
                for mount in op.mounts:
                    if mount.input is None:
                        continue
                    node = origin(mount.input, here)
                    if node is not None:
                        add(node, here, f"RUN --mount type={mount.type}")
    ordered = sorted(nodes.values(), key=lambda n: (n.kind != "stage", n.kind, n.id))
    return StageGraph(nodes=tuple(ordered), edges=tuple(edges))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render_dot(graph: StageGraph, *, title: str = "Dockerfile") -> str:
    """Graphviz DOT text for `graph`: stages as rounded boxes, images dashed, the context a folder."""
    lines = [
        "digraph build {",
        f"  label={_quote(title)};",
        "  labelloc=t;",
        '  fontname="Helvetica";',
        "  rankdir=LR;",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for node in graph.nodes:
        if node.kind == "stage":
            noun = "step" if node.steps == 1 else "steps"
            style = ', style="rounded,bold", penwidth=2' if node.target else ""
            label = _quote(f"{node.label}\n{node.steps} {noun}")
            lines.append(f"  {_quote(node.id)} [label={label}{style}];")
        elif node.kind == "image":
            lines.append(f'  {_quote(node.id)} [label={_quote(node.label)}, style="rounded,dashed"];')
        else:
            lines.append(f"  {_quote(node.id)} [label={_quote(node.label)}, shape=folder];")
    for edge in graph.edges:
        lines.append(f"  {_quote(edge.source)} -> {_quote(edge.dest)} [label={_quote(edge.label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if args.output:
        return _SUFFIXES.get(os.path.splitext(args.output)[1].lower(), "dot")
    return "dot"


def _dockerfile(args: argparse.Namespace) -> tuple[str, str]:
    from pybuildkit.errors import UsageError

    if args.file == "-":
        return sys.stdin.read(), "<stdin>"
    path = args.file or os.path.join(args.context, "Dockerfile")
    if os.path.isdir(path):
        path = os.path.join(path, "Dockerfile")
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            return handle.read(), path
    except OSError as exc:
        raise UsageError(f"cannot read Dockerfile {path}: {exc.strerror}") from None


def _graphviz(dot: str, fmt: str) -> bytes:
    import shutil
    import subprocess

    from pybuildkit.errors import PybuildkitError

    exe = shutil.which("dot")
    if exe is None:
        raise PybuildkitError(
            f"--format {fmt} needs Graphviz's `dot`, which is not installed",
            hint="install Graphviz (apt-get install graphviz), or use --format dot",
        )
    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=dot.encode(), capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PybuildkitError(f"Graphviz's dot failed: {exc}") from None
    if done.returncode != 0:
        raise PybuildkitError(f"Graphviz's dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _write(path: str, data: bytes) -> None:
    """Write next to `path` and rename into place: no half-written picture is ever left."""
    from pybuildkit.atomicfile import atomic_write
    from pybuildkit.errors import UsageError

    try:
        # 0600 as this command always wrote (mkstemp's mode).
        atomic_write(os.path.abspath(path), data)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def run(args: argparse.Namespace) -> int:
    from pybuildkit.api import parse
    from pybuildkit.cli.cmd_build import _key_values
    from pybuildkit.plan import PlanOptions, plan

    fmt = _format(args)
    text, path = _dockerfile(args)
    options = PlanOptions(
        build_args=_key_values(args.build_arg, "--build-arg"),
        target=args.target,
        **({"platform": args.platform} if args.platform else {}),
    )
    the_plan = plan(parse(text, path), options, DrawingResolver())
    dot = render_dot(stage_graph(the_plan), title=path)
    data = dot.encode() if fmt == "dot" else _graphviz(dot, fmt)
    if args.output and args.output != "-":
        _write(args.output, data)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "graph",
        help="draw the stage graph of a Dockerfile (DOT, SVG or PNG)",
        description=(
            "Draw the stages a build needs and how they read each other (FROM, COPY --from, RUN --mount from=) "
            "as Graphviz DOT; SVG and PNG need Graphviz's dot. Base images are not looked up."
        ),
    )
    p.add_argument("context", nargs="?", default=".", metavar="CONTEXT", help="the build context directory (default .)")
    p.add_argument("-f", "--file", metavar="PATH", help="the Dockerfile (default: CONTEXT/Dockerfile; - reads stdin)")
    p.add_argument("--target", metavar="STAGE", help="draw this stage and what it needs (default: the last stage)")
    p.add_argument("--build-arg", action="append", metavar="KEY=VALUE", help="set a build-time variable used in FROM (repeatable)")
    p.add_argument("--platform", metavar="OS/ARCH", help="target platform (default linux/amd64)")
    p.add_argument("--format", choices=FORMATS, help="dot (default), svg or png; inferred from -o FILE's suffix when not given")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=run)
