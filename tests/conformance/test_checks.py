"""The build checks over the conformance corpus, read in place.

- `parser/cases.json`: `warnings` cases give NoEmptyContinuation findings, one per parser warning;
  `parse_directive` cases with key `check` select the options BuildKit's linter would use
  (a `#!` first line is skipped, `//` lines are not directives).
- `real-world/*.Dockerfile` and `parser/positive/*/Dockerfile`: checking never raises, every
  finding names a catalogue rule and points inside the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pybuildkit.checks import RULES_BY_NAME, parse_check_options, resolve_config, run_checks
from pybuildkit.syntax import parse
from tests.conftest import conformance_root

ROOT = conformance_root()


def _cases(kind: str, **match: Any) -> list[dict[str, Any]]:
    if ROOT is None:
        return []
    cases = json.loads((ROOT / "parser" / "cases.json").read_text())["cases"]
    return [c for c in cases if c["kind"] == kind and all(c.get(k) == v for k, v in match.items())]


def _files(pattern: str) -> list[Path]:
    return sorted(ROOT.glob(pattern)) if ROOT is not None else []


@pytest.mark.parametrize("case", _cases("warnings"), ids=lambda c: c["id"])
def test_empty_continuation_warnings(case: dict[str, Any], conformance: Path) -> None:
    result = run_checks(parse(case["dockerfile"]), environ={})
    found = [f for f in result.findings if f.rule == "NoEmptyContinuation"]
    assert len(found) == case["expect_warning_count"]
    assert all(f.message == "Empty continuation line" for f in found)


@pytest.mark.parametrize("case", _cases("parse_directive", key="check"), ids=lambda c: c["id"])
def test_check_directive_selection(case: dict[str, Any], conformance: Path) -> None:
    config = resolve_config(case["input"], environ={})
    if case["expect_found"]:
        assert config == parse_check_options(case.get("expect_cmdline", case["expect_ref"]))
    else:
        assert config.source == "default"


@pytest.mark.parametrize("path", _files("real-world/*.Dockerfile"), ids=lambda p: p.name)
def test_real_world_dockerfiles_check_cleanly(path: Path, conformance: Path) -> None:
    document = parse(path.read_bytes(), path=path.name)
    result = run_checks(document, environ={})
    assert result.error is None
    lines = document.source.count("\n") + 1
    for finding in result.findings:
        assert finding.rule in RULES_BY_NAME
        assert 1 <= finding.span.line <= lines
        assert finding.span.file == path.name


@pytest.mark.parametrize("path", _files("parser/positive/*/Dockerfile"), ids=lambda p: p.parent.name)
def test_parser_corpus_checks_without_raising(path: Path, conformance: Path) -> None:
    result = run_checks(parse(path.read_bytes()), environ={})
    for finding in result.findings:
        assert finding.rule in RULES_BY_NAME and finding.span.line >= 1
