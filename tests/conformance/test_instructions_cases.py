"""instructions/cases.json, levels `instruction` and `stages` (the `convert` level is the planner's).

`instruction`: parse the Dockerfile text, type its first node with `from_node`, compare the error
(exact or substring) or the listed expectations. `stages`: `parse_dockerfile` on the whole text;
the 90 `expect_any_outcome` robustness cases may fail or succeed but only with a PybuildkitError.
No case is skipped; upstream's own recorded skips are listed in the file's `skipped` array.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pybuildkit.errors import PybuildkitError
from pybuildkit.model import Instruction, from_node, parse_dockerfile

from pybuildkit import syntax  # noqa: E402
from tests.support.conformance import load_cases

if not hasattr(syntax, "parse"):
    pytest.skip("the parser (pybuildkit.syntax.parse) is not available", allow_module_level=True)


_CASES = load_cases("instructions/cases.json")


def _params(level: str, robustness: bool = False) -> list[Any]:
    return [
        pytest.param(case, id=case["id"])
        for case in _CASES
        if case["level"] == level and bool(case.get("expect_any_outcome")) == robustness
    ]


def _check_error(case: dict[str, Any], exc: PybuildkitError) -> None:
    expected = case["expect_error"]
    assert expected is not None, f"unexpected error: {exc}"
    if case["expect_error_exact"]:
        # BuildKit's exact text; ours may add a trailing period-free hint but the message matches.
        assert exc.message == expected
    else:
        assert expected in exc.message


def _check_instruction(instruction: Instruction, expect: dict[str, Any]) -> None:
    if "command" in expect:
        assert instruction.keyword == expect["command"]
    if "health_test" in expect:
        assert list(instruction.health.test) == expect["health_test"]  # type: ignore[attr-defined]
    if "flags_used" in expect:
        assert list(instruction.flags_used) == expect["flags_used"]


@pytest.mark.parametrize("case", _params("instruction"))
def test_instruction_level(case: dict[str, Any], conformance: Path) -> None:
    try:
        document = syntax.parse(case["dockerfile"])
        instruction = from_node(document.nodes[0])
    except PybuildkitError as exc:
        _check_error(case, exc)
        return
    assert case["expect_error"] is None, f"expected error {case['expect_error']!r}, got {instruction!r}"
    _check_instruction(instruction, case["expect"] or {})


def _check_args(actual: Any, expected: list[dict[str, Any]]) -> None:
    assert len(actual.args) == len(expected)
    for arg, want in zip(actual.args, expected, strict=True):
        assert arg.key == want["key"]
        assert arg.doc_comment == want["doc_comment"]


@pytest.mark.parametrize("case", _params("stages"))
def test_stages_level(case: dict[str, Any], conformance: Path) -> None:
    try:
        dockerfile = parse_dockerfile(syntax.parse(case["dockerfile"]))
    except PybuildkitError as exc:
        _check_error(case, exc)
        return
    assert case["expect_error"] is None
    expect = case["expect"] or {}
    if "meta_arg_commands" in expect:
        assert len(dockerfile.global_args) == len(expect["meta_arg_commands"])
        for arg, want in zip(dockerfile.global_args, expect["meta_arg_commands"], strict=True):
            _check_args(arg, want["args"])
    if "stages" in expect:
        assert len(dockerfile.stages) == len(expect["stages"])
        for stage, want in zip(dockerfile.stages, expect["stages"], strict=True):
            assert stage.doc_comment == want["doc_comment"]
            assert len(stage.commands) == len(want["commands"])
            for command, want_command in zip(stage.commands, want["commands"], strict=True):
                assert command.keyword == want_command["command"]
                _check_args(command, want_command["args"])


@pytest.mark.parametrize("case", _params("stages", robustness=True))
def test_stages_robustness(case: dict[str, Any], conformance: Path) -> None:
    """TestNilLinter: any outcome, but never a foreign exception."""
    try:
        parse_dockerfile(syntax.parse(case["dockerfile"]))
    except PybuildkitError:
        pass


def test_case_counts(conformance: Path) -> None:
    levels = [case["level"] for case in _CASES]
    assert (levels.count("instruction"), levels.count("stages")) == (25, 91)
