"""Build fixtures for integration tests: a store with a local busybox image, and a build helper
that records which steps ran and which came from the cache (tests count steps; they never time).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest

from pybuildkit.api import BuildOptions, BuildResult, build
from pybuildkit.execute import events as ev
from pybuildkit.store import Store
from tests.support.images import install_busybox

__all__ = ["Built", "Builder", "builder", "requires_root"]

requires_root = pytest.mark.skipif(os.geteuid() != 0, reason="builds with RUN need root (namespaces, overlay mounts)")


@attrs.frozen
class Built:
    result: BuildResult
    events: tuple[ev.Event, ...]

    @property
    def ran(self) -> list[str]:
        return [e.step.name for e in self.events if isinstance(e, ev.StepStarted)]

    @property
    def cached(self) -> list[str]:
        return [e.step.name for e in self.events if isinstance(e, ev.StepCached) and not e.step.name.startswith("FROM")]

    @property
    def log(self) -> str:
        return b"".join(e.data for e in self.events if isinstance(e, ev.StepLog)).decode("utf-8", "replace")

    def reasons(self) -> dict[str, str]:
        return {e.step.name: e.reason for e in self.events if isinstance(e, ev.StepStarted)}


class Builder:
    """Builds Dockerfile text in a context directory against one store root."""

    def __init__(self, root: Path, context: Path) -> None:
        self.root = root
        self.context = context
        self.context.mkdir(parents=True, exist_ok=True)

    def store(self) -> Store:
        return Store(self.root)

    def write(self, files: Mapping[str, str | bytes]) -> None:
        for name, data in files.items():
            path = self.context / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, bytes):
                path.write_bytes(data)
            else:
                path.write_text(data)

    def build(self, dockerfile: str, **options: Any) -> Built:
        (self.context / "Dockerfile").write_text(dockerfile)
        events: list[ev.Event] = []
        opts = BuildOptions(context=self.context, root=self.root, **options)
        result = build(opts, on_event=events.append)
        return Built(result=result, events=tuple(events))


@pytest.fixture()
def builder(tmp_path: Path) -> Builder:
    root = tmp_path / "store"
    store = Store(root)
    try:
        install_busybox(store, tmp_path)
    finally:
        store.close()
    return Builder(root, tmp_path / "context")
