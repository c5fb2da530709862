"""Every real-world Dockerfile of the corpus plans, for its default target and for each named stage.

Real files exercise combinations the small cases do not (many stages, `--platform=$BUILDPLATFORM`,
cache/secret/bind mounts without targets, git sources, heredoc RUNs). No registry is consulted: the
resolver reports "no config" for every image, as BuildKit's conversion tests do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pybuildkit.model import parse_dockerfile
from pybuildkit.oci.config import Image
from pybuildkit.oci.descriptor import Platform
from pybuildkit.plan import ExecOp, FileOp, PlanOptions, plan
from pybuildkit.syntax import parse
from tests.conftest import conformance_root

_ROOT = conformance_root()


def _files() -> list[Any]:
    if _ROOT is None:
        return [pytest.param(None, id="no-corpus", marks=pytest.mark.skip(reason="conformance corpus not found"))]
    return [pytest.param(path, id=path.name) for path in sorted((_ROOT / "real-world").glob("*.Dockerfile"))]


class _NoMetadata:
    def config_of(self, ref: str, platform: Platform) -> Image | None:
        return None


@pytest.mark.parametrize("path", _files())
def test_real_world_file_plans_for_every_target(path: Path) -> None:
    dockerfile = parse_dockerfile(parse(path.read_text(encoding="utf-8"), path.name))
    targets = [None, *(stage.name for stage in dockerfile.stages if stage.name)]
    for target in targets:
        result = plan(dockerfile, PlanOptions(target=target), _NoMetadata())
        order = [stage.index for stage in result.stages]
        seen: set[str] = {result.context.id}
        for stage in result.stages:
            assert all(order.index(dep) < order.index(stage.index) for dep in stage.depends_on)
            for op in stage.ops:
                inputs = op.inputs
                assert set(inputs) <= seen, f"{op.id} reads an op not planned before it"
                seen.add(op.id)
                if isinstance(op, (ExecOp, FileOp)):
                    assert op.created_by and not op.empty_layer


def test_real_world_corpus_present(conformance: Path) -> None:
    assert len(list((conformance / "real-world").glob("*.Dockerfile"))) == 47
