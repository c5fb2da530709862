"""Every real-world Dockerfile of the corpus types cleanly: global ARGs, stages, every instruction.

Beyond "it parses" (the parser's test), this checks the model accepts what BuildKit accepts on
real files: heredocs, `--mount` variety, `--platform=$BUILDPLATFORM`, ONBUILD, escape directives.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pybuildkit.model import parse_dockerfile

from pybuildkit import syntax  # noqa: E402

if not hasattr(syntax, "parse"):
    pytest.skip("the parser (pybuildkit.syntax.parse) is not available", allow_module_level=True)


def _files() -> list[Path]:
    from tests.conftest import conformance_root

    root = conformance_root()
    return sorted((root / "real-world").glob("*.Dockerfile")) if root else []


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name[:60])
def test_real_world_file_types(path: Path, conformance: Path) -> None:
    document = syntax.parse(path.read_text(encoding="utf-8"), str(path))
    dockerfile = parse_dockerfile(document)
    assert dockerfile.stages, "a real Dockerfile has at least one stage"
    typed = len(dockerfile.global_args) + sum(1 + len(stage.commands) for stage in dockerfile.stages)
    assert typed == len(document.nodes)
