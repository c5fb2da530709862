"""End-to-end conformance: BuildKit's heredoc and .dockerignore build cases, really built.

Each case builds its Dockerfile against a local busybox image (made from Debian's busybox-static),
exports the final filesystem with `--output type=local`, and compares files byte for byte.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pybuildkit.api import BuildOptions, build, parse_output
from pybuildkit.errors import PybuildkitError
from pybuildkit.store import Store
from tests.conftest import conformance_root
from tests.support.images import install_busybox

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="builds with RUN need root (namespaces, overlay mounts)"),
]

FILES = ("heredoc/build_cases.json", "dockerignore/build_cases.json")
SKIP: dict[str, str] = {}


def _cases() -> list:
    root = conformance_root()
    if root is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason="conformance corpus not found"), id="no-corpus")]
    out = []
    for name in FILES:
        for case in json.loads((root / name).read_text())["cases"]:
            marks = [pytest.mark.skip(reason=SKIP[case["id"]])] if case["id"] in SKIP else []
            out.append(pytest.param(case, marks=marks, id=case["id"]))
    return out


@pytest.mark.parametrize("case", _cases())
def test_build_case(case: dict, tmp_path: Path) -> None:
    store_root = tmp_path / "store"
    with Store(store_root) as store:
        install_busybox(store, tmp_path)
    context = tmp_path / "context"
    context.mkdir()
    for name, data in case.get("context_files", {}).items():
        (context / name).write_text(data)
    dockerfile = case.get("dockerfile_name") or "Dockerfile"
    if "dockerfile" in case:
        (context / dockerfile).write_text(case["dockerfile"])
    out = tmp_path / "out"
    outputs = [parse_output(f"type=local,dest={out}")] if case.get("export") == "local" else []
    options = BuildOptions(context=context, dockerfile=context / dockerfile, root=store_root, outputs=outputs)
    if case.get("expect_error"):
        with pytest.raises(PybuildkitError):
            build(options)
        return
    build(options)
    for name, data in case.get("expect_files", {}).items():
        assert (out / name).read_text() == data, name
    for name in case.get("expect_absent", []):
        assert not (out / name).exists(), name
