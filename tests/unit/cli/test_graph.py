"""`pybuild graph`: the stage graph's nodes and labelled edges, DOT text, Graphviz output, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pybuildkit.api import parse
from pybuildkit.cli.cmd_graph import DrawingResolver, render_dot, stage_graph
from pybuildkit.cli.main import main
from pybuildkit.plan import PlanOptions, plan

MULTI = """\
ARG BASE=alpine
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache go build
FROM $BASE AS tools
RUN echo hi
FROM build AS test
RUN --mount=type=bind,from=tools,target=/t ls /t
FROM scratch
COPY --from=build /out /app
COPY --from=nginx:latest /etc/nginx /etc/nginx
COPY --from=test /x /y
"""


def edges(text: str, **options: object) -> set[tuple[str, str, str]]:
    graph = stage_graph(plan(parse(text), PlanOptions(**options), DrawingResolver()))
    labels = {n.id: n.label for n in graph.nodes}
    return {(labels[e.source], labels[e.dest], e.label) for e in graph.edges}


@pytest.mark.parametrize(
    ("dockerfile", "options", "expected"),
    [
        ("FROM scratch\nCOPY a /a\n", {}, {("build context", "stage-0", "COPY")}),
        ("FROM busybox\nRUN true\n", {}, {("busybox", "stage-0", "FROM")}),
        (
            MULTI,
            {},
            {
                ("golang:1.22", "build", "FROM"),
                ("build context", "build", "COPY"),
                ("alpine", "tools", "FROM"),
                ("build", "test", "FROM"),
                ("tools", "test", "RUN --mount type=bind"),
                ("build", "stage-3", "COPY --from"),
                ("nginx:latest", "stage-3", "COPY --from"),
                ("test", "stage-3", "COPY --from"),
            },
        ),
        (MULTI, {"target": "tools"}, {("alpine", "tools", "FROM")}),
        (MULTI, {"target": "tools", "build_args": {"BASE": "debian:12"}}, {("debian:12", "tools", "FROM")}),
        ("FROM busybox AS a\nADD --checksum=sha256:" + "0" * 64 + " https://example.com/x /x\nFROM a\n", {}, {("busybox", "a", "FROM"), ("a", "stage-1", "FROM")}),
    ],
)
def test_edges(dockerfile: str, options: dict[str, object], expected: set[tuple[str, str, str]]) -> None:
    assert edges(dockerfile, **options) == expected


def test_stage_nodes_carry_step_counts_and_the_target() -> None:
    graph = stage_graph(plan(parse(MULTI), PlanOptions(), DrawingResolver()))
    stages = {n.label: (n.steps, n.target) for n in graph.nodes if n.kind == "stage"}
    assert stages == {"build": (4, False), "tools": (2, False), "test": (2, False), "stage-3": (4, True)}


def test_dot_text() -> None:
    dot = render_dot(stage_graph(plan(parse("FROM busybox AS b\nRUN x\nFROM scratch\nCOPY --from=b / /\n"), PlanOptions(), DrawingResolver())), title='my "app"')
    assert dot == (
        "digraph build {\n"
        '  label="my \\"app\\"";\n'
        "  labelloc=t;\n"
        '  fontname="Helvetica";\n'
        "  rankdir=LR;\n"
        '  node [shape=box, style=rounded, fontname="Helvetica"];\n'
        '  edge [fontname="Helvetica", fontsize=10];\n'
        '  "stage0" [label="b\\n2 steps"];\n'
        '  "stage1" [label="stage-1\\n2 steps", style="rounded,bold", penwidth=2];\n'
        '  "image:busybox" [label="busybox", style="rounded,dashed"];\n'
        '  "image:busybox" -> "stage0" [label="FROM"];\n'
        '  "stage0" -> "stage1" [label="COPY --from"];\n'
        "}\n"
    )


def test_cli_writes_dot_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "Dockerfile").write_text(MULTI)
    assert main(["graph", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("digraph build {") and '"stage1" -> "stage2" [label="RUN --mount type=bind"];' in out


@pytest.mark.parametrize(("name", "magic"), [("g.svg", b"<?xml"), ("g.png", b"\x89PNG"), ("g.dot", b"digraph")])
def test_cli_output_file_format_from_its_suffix(name: str, magic: bytes, tmp_path: Path) -> None:
    if not name.endswith(".dot") and shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    (tmp_path / "Dockerfile").write_text(MULTI)
    out = tmp_path / name
    assert main(["graph", "-o", str(out), str(tmp_path)]) == 0
    assert out.read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["Dockerfile", name])


def test_svg_without_graphviz_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    (tmp_path / "Dockerfile").write_text(MULTI)
    assert main(["graph", "--format", "svg", "-o", str(tmp_path / "g.svg"), str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "Graphviz" in err and "--format dot" in err and "Traceback" not in err
    assert not (tmp_path / "g.svg").exists()


@pytest.mark.parametrize(
    ("files", "argv", "code", "message"),
    [
        ({}, ["graph", "{ctx}"], 2, "cannot read Dockerfile"),
        ({"Dockerfile": "FROM busybox\nRUN true\n"}, ["graph", "--target", "nope", "{ctx}"], 1, "nope"),
        ({"Dockerfile": "FROM busybox\nCOPY --from=missing / /\nFROM\n"}, ["graph", "{ctx}"], 1, "Dockerfile:3"),
        ({"Dockerfile": "FROM busybox\n"}, ["graph", "-o", "{ctx}/no/such/dir/g.dot", "{ctx}"], 2, "cannot write"),
    ],
)
def test_cli_errors(files: dict[str, str], argv: list[str], code: int, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert main([a.replace("{ctx}", str(tmp_path)) for a in argv]) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
