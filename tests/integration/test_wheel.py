"""The built wheel carries the grammar: parse a Dockerfile from a real non-editable install.

The grammar is a data file outside the Python package in the checkout (`grammar/`), shipped by
pyproject's force-include. An editable install would find it in the checkout either way, so only
a real wheel in a fresh venv proves the packaging is right.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

_PROBE = """
import sys
import pybuildkit
from pybuildkit.syntax import dump, parse
from pybuildkit.syntax.grammar import grammar_origin
document = parse(b"FROM busybox AS b\\nRUN --mount=type=cache,target=/c echo hi\\n")
print(grammar_origin())
print(pybuildkit.__file__)
sys.stdout.write(dump(document))
"""


def _run(*argv: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        pytest.fail(f"{argv[:4]} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done


def test_wheel_ships_the_grammar(tmp_path: Path, repo_root: Path) -> None:
    pytest.importorskip("build", reason="the `build` package is needed to build the wheel")
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(repo_root)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if built.returncode != 0:
        if "hatchling" in built.stdout + built.stderr and "No matching distribution" in built.stdout + built.stderr:
            pytest.skip("hatchling (the build backend) cannot be installed: no package index reachable")
        pytest.fail(f"wheel build failed:\n{built.stdout[-3000:]}\n{built.stderr[-3000:]}")
    (wheel,) = dist.glob("pybuildkit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "pybuildkit/grammar/dockerfile.lark" in names
    assert "pybuildkit/py.typed" in names  # the API is typed for users, not only in the checkout

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    _run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel)
    # Dependencies (lark, attrs, ...) come from the test venv; a path line in a .pth file adds
    # the directory without running its .pth files, so the editable checkout stays invisible.
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (site / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    probe = _run(python, "-c", _PROBE, timeout=60)
    origin, module, *dump_lines = probe.stdout.splitlines()
    assert origin == "pybuildkit/grammar/dockerfile.lark"
    assert Path(module).is_relative_to(venv)
    assert dump_lines == ['(from "busybox" "AS" "b")', '(run ["--mount=type=cache,target=/c"] "echo hi")']

    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM a\nCOPY <<EOF /x\nhi\nEOF\n")
    command = _run(venv / "bin" / "pybuild", "parse", "--dump", dockerfile, timeout=60)
    assert command.stdout == '(from "a")\n(copy "<<EOF" "/x")\n'
