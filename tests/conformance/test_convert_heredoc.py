"""heredoc/build_cases.json through the planner: what it can check without running anything.

Every case must plan; and where an expected output file is written by a heredoc COPY, the inline
content the planner hands to the executor must already be that file's exact content (variable
expansion in unquoted heredocs, none in quoted ones, `<<-` tab stripping, backslash handling).
RUN heredocs are checked by the executor's integration tests, since a shell produces their files.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pybuildkit.model import parse_dockerfile
from pybuildkit.oci.config import Image
from pybuildkit.oci.descriptor import Platform
from pybuildkit.plan import FileOp, PlanOptions, plan
from pybuildkit.syntax import parse
from tests.conftest import conformance_root

_ROOT = conformance_root()


def _cases() -> list[Any]:
    if _ROOT is None:
        return [pytest.param(None, id="no-corpus", marks=pytest.mark.skip(reason="conformance corpus not found"))]
    data = json.loads((_ROOT / "heredoc" / "build_cases.json").read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["id"]) for case in data["cases"]]


class _NoMetadata:
    def config_of(self, ref: str, platform: Platform) -> Image | None:
        return None


@pytest.mark.parametrize("case", _cases())
def test_heredoc_build_case_plans_with_expected_inline_content(case: dict[str, Any]) -> None:
    result = plan(parse_dockerfile(parse(case["dockerfile"], "Dockerfile")), PlanOptions(), _NoMetadata())
    written: dict[str, str] = {}
    for stage in result.stages:
        for op in stage.ops:
            if isinstance(op, FileOp):
                for src in op.sources:
                    if src.kind == "inline" and src.data is not None:
                        path = op.dest + src.path if op.dest.endswith("/") else op.dest
                        written[path] = src.data
    checked = 0
    for name, content in case["expect_files"].items():
        matches = [data for path, data in written.items() if path == "/" + name or path.endswith("/" + name)]
        if matches:
            assert matches[-1] == content, name
            checked += 1
    copies_heredoc = "COPY <<" in case["dockerfile"] or "COPY --ch" in case["dockerfile"]
    assert checked or not copies_heredoc
