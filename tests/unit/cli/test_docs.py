"""docs/cli.md and docs/api.md stay true: every command and option is documented, and the API
examples run as written (those marked `# needs root` run in tests/integration/test_cli_docs.py)."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import pytest

from pybuildkit.cli.main import build_parser

DOCS = Path(__file__).resolve().parents[3] / "docs"
NEEDS_ROOT = "# needs root"

__all__ = ["api_blocks", "run_blocks"]


def api_blocks() -> list[str]:
    """The ```python blocks of docs/api.md, in order."""
    return re.findall(r"```python\n(.*?)```", (DOCS / "api.md").read_text(), flags=re.S)


def run_blocks(blocks: list[str], workdir: Path, store_root: Path) -> None:
    """Run `blocks` in one namespace, in `workdir`, against the store at `store_root`."""
    namespace: dict[str, object] = {"__name__": "docs_api"}
    old_cwd = os.getcwd()
    old_root = os.environ.get("PYBUILDKIT_ROOT")
    os.environ["PYBUILDKIT_ROOT"] = str(store_root)
    os.chdir(workdir)
    try:
        for i, block in enumerate(blocks):
            exec(compile(block, f"docs/api.md block {i + 1}", "exec"), namespace)  # noqa: S102
    finally:
        os.chdir(old_cwd)
        if old_root is None:
            os.environ.pop("PYBUILDKIT_ROOT", None)
        else:
            os.environ["PYBUILDKIT_ROOT"] = old_root


def commands() -> dict[str, argparse.ArgumentParser]:
    """Every command and sub-command (`volume ls`), by its full name."""
    out: dict[str, argparse.ArgumentParser] = {}

    def walk(prefix: str, parser: argparse.ArgumentParser) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    full = f"{prefix} {name}".strip()
                    out[full] = sub
                    walk(full, sub)

    walk("", build_parser())
    return out


def section(text: str, command: str) -> str:
    """The part of docs/cli.md under the heading for `pybuild COMMAND` (up to the next such heading)."""
    match = re.search(rf"^#+ `pybuild {re.escape(command)}[ `].*?$(.*?)(?=^#+ `pybuild |\Z)", text, flags=re.M | re.S)
    assert match, f"docs/cli.md has no heading for `pybuild {command}`"
    return match.group(1)


@pytest.mark.parametrize("command", sorted(commands()))
def test_cli_md_documents_every_command_and_option(command: str) -> None:
    text = (DOCS / "cli.md").read_text()
    body = section(text, command)
    parser = commands()[command]
    for action in parser._actions:
        for option in action.option_strings:
            if option in ("-h", "--help"):
                continue
            assert re.search(rf"`{re.escape(option)}[ `=,]", body), f"docs/cli.md: `pybuild {command}` does not document {option}"


def test_cli_md_documents_global_options_and_exit_codes() -> None:
    text = (DOCS / "cli.md").read_text()
    for option in ("--debug", "-D", "--root", "--version"):
        assert f"`{option}" in text
    for code in ("0", "1", "2", "125", "130"):
        assert re.search(rf"^\| `{code}` \|", text, flags=re.M), f"exit code {code} is not in the table"


def test_api_md_examples_run(tmp_path: Path) -> None:
    blocks = [b for b in api_blocks() if not b.startswith(NEEDS_ROOT)]
    assert len(blocks) >= 4
    store = tmp_path / "store"
    from pybuildkit.store import Store
    from tests.unit.store.imagefactory import make_image

    with Store(store) as handle:
        make_image(handle, tags=("busybox:latest",))
    run_blocks(blocks, tmp_path, store)


def cli_examples() -> list[str]:
    """Every `pybuild ...` command line in docs/cli.md's example blocks (pipes and redirections cut)."""
    text = (DOCS / "cli.md").read_text()
    lines: list[str] = []
    for block in re.findall(r"^```\n(.*?)^```", text, flags=re.M | re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line)
            for segment in re.split(r"\s[|<>]\s", line):
                segment = segment.strip()
                if segment.startswith("pybuild ") and "[" not in segment:
                    lines.append(segment)
    return lines


@pytest.mark.parametrize("line", cli_examples())
def test_cli_md_examples_parse(line: str) -> None:
    import shlex

    from pybuildkit.cli.main import _normalise

    args = build_parser().parse_args(_normalise(shlex.split(line)[1:]))
    assert getattr(args, "func", None) is not None, line
