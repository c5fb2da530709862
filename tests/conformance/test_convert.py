"""instructions/cases.json, level `convert`: Dockerfile text to a build plan (BuildKit's convert_test.go).

The whole front end runs (parser, typed instructions, planner) with default options and a resolver
that knows no image metadata, as BuildKit's conversion tests run without a registry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pybuildkit.errors import PybuildkitError
from pybuildkit.model import parse_dockerfile
from pybuildkit.oci.config import Image
from pybuildkit.oci.descriptor import Platform
from pybuildkit.plan import PlanOptions, plan
from pybuildkit.syntax import parse
from tests.conftest import conformance_root

_ROOT = conformance_root()


def _cases() -> list[Any]:
    if _ROOT is None:
        return [pytest.param(None, id="no-corpus", marks=pytest.mark.skip(reason="conformance corpus not found"))]
    data = json.loads((_ROOT / "instructions" / "cases.json").read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["id"]) for case in data["cases"] if case.get("level") == "convert"]


class _NoMetadata:
    """Every base image resolves to "no config", like BuildKit's tests without a registry."""

    def config_of(self, ref: str, platform: Platform) -> Image | None:
        return None


def _plan(case: dict[str, Any]):
    options = case.get("options") or {}
    document = parse(case["dockerfile"], "Dockerfile")
    return plan(
        parse_dockerfile(document),
        PlanOptions(target=options.get("target"), build_args=options.get("build_args") or {}),
        _NoMetadata(),
    )


@pytest.mark.parametrize("case", _cases())
def test_convert_case(case: dict[str, Any]) -> None:
    expected_error = case["expect_error"]
    if expected_error is not None:
        with pytest.raises(PybuildkitError) as info:
            _plan(case)
        message = info.value.message
        if case.get("expect_error_exact"):
            assert message == expected_error
        else:
            assert expected_error in message
        return
    result = _plan(case)
    expect = case["expect"] or {}
    if "image_config_labels" in expect:
        assert dict(result.image.config.labels) == expect["image_config_labels"]
    assert result.stages and result.result


def test_convert_case_count(conformance: Path) -> None:
    data = json.loads((conformance / "instructions" / "cases.json").read_text(encoding="utf-8"))
    assert sum(1 for case in data["cases"] if case.get("level") == "convert") == 13


def _all_cases() -> list[Any]:
    if _ROOT is None:
        return [pytest.param(None, id="no-corpus", marks=pytest.mark.skip(reason="conformance corpus not found"))]
    data = json.loads((_ROOT / "instructions" / "cases.json").read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["id"]) for case in data["cases"]]


@pytest.mark.parametrize("case", _all_cases())
def test_every_instruction_case_plans_or_fails_cleanly(case: dict[str, Any]) -> None:
    """Robustness: every corpus Dockerfile either plans or raises a project error, never a crash."""
    try:
        _plan(case)
    except PybuildkitError:
        pass
