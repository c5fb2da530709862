"""heredoc/cases.json, kinds instruction_copy / instruction_run / instruction_error / chomp_content.

The other kinds (heredoc detection and bodies in the parser) belong to the parser's tests.
COPY applies `<<-` tab stripping to its data; RUN keeps the raw body and reports `chomp`; the
shell-form RUN command is the whole argument text, markers included. No case is skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pybuildkit.errors import PybuildkitError
from pybuildkit.model import Copy, Run, chomp_heredoc_content, from_node

from pybuildkit import syntax  # noqa: E402
from tests.support.conformance import load_cases

if not hasattr(syntax, "parse"):
    pytest.skip("the parser (pybuildkit.syntax.parse) is not available", allow_module_level=True)


_CASES = load_cases("heredoc/cases.json")


def _params(kind: str) -> list[Any]:
    return [pytest.param(case, id=case["id"]) for case in _CASES if case["kind"] == kind]


def _first(dockerfile: str) -> Any:
    return from_node(syntax.parse(dockerfile).nodes[0])


@pytest.mark.parametrize("case", _params("instruction_copy"))
def test_instruction_copy(case: dict[str, Any], conformance: Path) -> None:
    copy = _first(case["dockerfile"])
    assert isinstance(copy, Copy)
    expect = case["expect"]
    assert copy.dest == expect["dest_path"]
    assert list(copy.sources) == (expect["source_paths"] or [])
    contents = [{"path": f.name, "data": f.data, "expand": f.expand} for f in copy.contents]
    assert contents == (expect["source_contents"] or [])


@pytest.mark.parametrize("case", _params("instruction_run"))
def test_instruction_run(case: dict[str, Any], conformance: Path) -> None:
    run = _first(case["dockerfile"])
    assert isinstance(run, Run)
    expect = case["expect"]
    assert run.prepend_shell is expect["prepend_shell"]
    assert list(run.cmd) == expect["cmd_line"]
    files = [{"name": f.name, "data": f.data, "chomp": f.chomp} for f in run.files]
    assert files == (expect["files"] or [])


@pytest.mark.parametrize("case", _params("instruction_error"))
def test_instruction_error(case: dict[str, Any], conformance: Path) -> None:
    with pytest.raises(PybuildkitError) as info:
        _first(case["dockerfile"])
    assert case["expect_error"] in info.value.message


@pytest.mark.parametrize("case", _params("chomp_content"))
def test_chomp_content(case: dict[str, Any], conformance: Path) -> None:
    assert chomp_heredoc_content(case["input"]) == case["expect"]
