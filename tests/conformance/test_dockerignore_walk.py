"""dockerignore/walk_cases.json: tonistiigi/fsutil's walker tables, run on real trees in tmp_path.

`filter_layers` (nested filters) map onto our two exclude layers: the .dockerignore (`ignore`)
and `--exclude` (`exclude`); an entry must survive both, so an exception in one layer cannot
re-include what the other excluded. `expect_open` is checked as membership in the walk: our
context is only ever read through the walk. Upstream's skipped tests are listed in the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from pybuildkit.context.dockerignore import PatternMatcher
from pybuildkit.context.walker import walk
from pybuildkit.errors import ContextError
from tests.support.conformance import load_cases

_FILE = "dockerignore/walk_cases.json"


def _make_tree(root: Path, tree: list[dict[str, Any]]) -> None:
    for item in tree:
        path = root / item["path"]
        if item["type"] == "dir":
            path.mkdir(parents=True, exist_ok=True)
        elif item["type"] == "file":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(item.get("data", ""))
        elif item["type"] == "symlink":
            os.symlink(item["target"], path)
        else:  # pragma: no cover - the corpus only has these three
            raise AssertionError(item)


def _matcher(patterns: list[str] | None) -> PatternMatcher | None:
    return PatternMatcher.from_patterns(patterns) if patterns is not None else None


def _run(root: Path, case: dict[str, Any]) -> list[str]:
    if "filter_layers" in case:
        layers = [_matcher(layer.get("exclude_patterns")) for layer in case["filter_layers"]]
        assert len(layers) <= 2
        ignore = layers[0]
        exclude = layers[1] if len(layers) > 1 else None
        return [e.describe() for e in walk(root, ignore=ignore, exclude=exclude)]
    include = _matcher(case.get("include_patterns"))
    exclude = _matcher(case.get("exclude_patterns"))
    return [e.describe() for e in walk(root, include=include, exclude=exclude)]


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in load_cases(_FILE)])
def test_walk_case(case: dict[str, Any], tmp_path: Path) -> None:
    _make_tree(tmp_path, case["tree"])
    if case.get("expect_error"):
        with pytest.raises(ContextError):
            _run(tmp_path, case)
        return
    walked = _run(tmp_path, case)
    if case.get("expect_walk") is not None:
        assert walked == case["expect_walk"]
    kept = {line.split(" ", 1)[1] for line in walked}
    for path, openable in case.get("expect_open", {}).items():
        assert (path in kept) is openable, path


def test_corpus_is_complete(conformance: Path) -> None:
    assert len(json.loads((conformance / _FILE).read_text())["cases"]) == 29
