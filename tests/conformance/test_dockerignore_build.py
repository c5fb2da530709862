"""dockerignore/build_cases.json, checked at the context level.

A full build is the executor's business; what these cases pin down for the context is which files
`COPY . .` receives once the right ignore file is chosen. `expect_files` / `expect_absent` are
checked directly; the override cases assert through `RUN [ -f foo ] && [ ! -f bar ]`, whose
`-f` tests are read from the Dockerfile and checked against the selection.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pybuildkit.context.ignorefile import load_ignore
from pybuildkit.context.walker import select
from pybuildkit.errors import ContextError
from tests.support.conformance import load_cases

_FILE = "dockerignore/build_cases.json"
_TEST = re.compile(r"\[ (!\s+)?-f (\S+) \]")


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in load_cases(_FILE)])
def test_build_case_context(case: dict[str, Any], tmp_path: Path) -> None:
    for name, text in case["context_files"].items():
        (tmp_path / name).write_text(text)
    dockerfile = tmp_path / case["dockerfile_name"]
    if case["expect_error"]:
        with pytest.raises(ContextError):
            load_ignore(tmp_path, dockerfile)
        return
    ignore = load_ignore(tmp_path, dockerfile)
    [selected] = select(tmp_path, ["."], ignore=ignore)
    files = {e.path: Path(e.fspath).read_text() for e in selected.entries if e.kind == "file"}
    for name, content in case["expect_files"].items():
        assert files.get(name) == content, name
    for name in case["expect_absent"]:
        assert name not in files, name
    for negated, name in _TEST.findall(dockerfile.read_text()):
        assert (name in files) is not bool(negated), name


def test_corpus_is_complete(conformance: Path) -> None:
    assert len(json.loads((conformance / _FILE).read_text())["cases"]) == 4
