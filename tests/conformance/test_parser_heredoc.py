"""Parser-level heredoc cases of `conformance/heredoc/cases.json` (README section 4.1).

`instruction_*` cases belong to the typed-instruction layer; the parser part of them (the node's
arguments and heredoc bodies that the layer builds on) is checked here too.
"""

from __future__ import annotations

import json

import pytest

from pybuildkit.errors import ParseError
from tests.conftest import conformance_root

SKIP: dict[str, str] = {
    "instruction_error-001": "typed-instruction layer (pybuildkit.model) rejects a heredoc COPY destination",
}

_ROOT = conformance_root()
_CASES = json.loads((_ROOT / "heredoc/cases.json").read_text(encoding="utf-8"))["cases"] if _ROOT else []


def _params(*kinds: str) -> list:
    out = []
    for case in _CASES:
        if case["kind"] in kinds:
            marks = [pytest.mark.skip(reason=SKIP[case["id"]])] if case["id"] in SKIP else []
            out.append(pytest.param(case, id=case["id"], marks=marks))
    return out


def _as_dict(heredoc) -> dict:
    return {
        "name": heredoc.name,
        "file_descriptor": heredoc.file_descriptor,
        "expand": heredoc.expand,
        "chomp": heredoc.chomp,
        "content": heredoc.content,
    }


@pytest.mark.parametrize("case", _params("parse_extract"))
def test_parse_extract(case: dict) -> None:
    from pybuildkit.syntax import parse

    nodes = parse(case["dockerfile"]).nodes
    first = case["first_child_index"]
    for offset, expected in enumerate(case["expect_heredocs"]):
        got = [_as_dict(h) for h in nodes[first + offset].heredocs]
        assert got == (expected or []), f"instruction {first + offset}: {nodes[first + offset].original}"


@pytest.mark.parametrize("case", _params("chomp_content"))
def test_chomp_content(case: dict) -> None:
    from pybuildkit.syntax.heredoc import chomp_heredoc_content

    assert chomp_heredoc_content(case["input"]) == case["expect"]


@pytest.mark.parametrize("case", _params("parse_heredoc_word"))
def test_parse_heredoc_word(case: dict) -> None:
    from pybuildkit.syntax.heredoc import parse_heredoc_word

    if case["expect_error"]:
        with pytest.raises(ParseError):
            parse_heredoc_word(case["input"])
        return
    heredoc = parse_heredoc_word(case["input"])
    if case["expect_not_heredoc"]:
        assert heredoc is None
    else:
        assert heredoc is not None and heredoc.name == case["expect"]["name"]


@pytest.mark.parametrize("case", _params("heredocs_from_line"))
def test_heredocs_from_line(case: dict) -> None:
    from pybuildkit.syntax.heredoc import heredocs_from_line

    names = [h.name for h in heredocs_from_line(case["line"])]
    assert case["match"] == "prefix"
    assert names == case["expect_names"][: len(names)]


@pytest.mark.parametrize("case", _params("instruction_run"))
def test_run_node_carries_what_the_instruction_needs(case: dict) -> None:
    from pybuildkit.syntax import parse

    node = parse(case["dockerfile"]).nodes[0]
    expect = case["expect"]
    assert list(node.args) == expect["cmd_line"]
    assert node.json is (not expect["prepend_shell"])
    files = [{"name": h.name, "data": h.content, "chomp": h.chomp} for h in node.heredocs]
    assert files == (expect["files"] or [])


@pytest.mark.parametrize("case", _params("instruction_copy", "instruction_error"))
def test_copy_node_carries_what_the_instruction_needs(case: dict) -> None:
    from pybuildkit.syntax import parse
    from pybuildkit.syntax.heredoc import chomp_heredoc_content, parse_heredoc_word

    node = parse(case["dockerfile"]).nodes[0]
    expect = case["expect"]
    *sources, dest = node.args
    assert dest == expect["dest_path"]
    bodies = {h.name: h for h in node.heredocs}
    contents, paths = [], []
    for source in sources:
        opened = parse_heredoc_word(source)
        if opened is None:
            paths.append(source)
            continue
        body = bodies[opened.name]
        data = chomp_heredoc_content(body.content) if body.chomp else body.content
        contents.append({"path": opened.name, "data": data, "expand": opened.expand})
    assert paths == (expect["source_paths"] or [])
    assert contents == (expect["source_contents"] or [])
