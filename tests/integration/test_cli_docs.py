"""Every code block of docs/api.md runs as written, the building ones included (they need root)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.build import Builder, builder, requires_root  # noqa: F401 - fixture
from tests.unit.cli.test_docs import api_blocks, run_blocks

pytestmark = [pytest.mark.integration, requires_root]


def test_api_md_runs_whole(builder: Builder, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    run_blocks(api_blocks(), workdir, builder.root)
    assert (workdir / "note.tar").is_file()
