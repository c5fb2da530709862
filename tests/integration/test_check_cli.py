"""`pybuild check` and `pybuild build --call=...` through the real command, in a subprocess.

These check what a user sees: stdout, stderr and the exit code; and that a failing check under
`error=true` stops `pybuild build` before anything reaches the store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def pybuild(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "BUILDKIT_DOCKERFILE_CHECK"}
    environ["PYBUILDKIT_ROOT"] = str(cwd / "store")
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pybuildkit.cli.main", *args],
        cwd=cwd,
        env=environ,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def context(tmp_path: Path) -> Path:
    (tmp_path / "hello.txt").write_text("hi\n")
    return tmp_path


def write(context: Path, text: str, name: str = "Dockerfile") -> Path:
    path = context / name
    path.write_text(text)
    return path


# (Dockerfile, extra args, env, exit code, text expected in stdout)
CASES = [
    ("FROM scratch\nCOPY hello.txt /\n", [], {}, 0, "Check complete, no warnings found."),
    ("FROM scratch as base\nCOPY hello.txt /\n", [], {}, 0, "WARNING: FromAsCasing - https://docs.docker.com/go/dockerfile/rule/from-as-casing/"),
    ("# check=error=true\nFROM scratch as base\n", [], {}, 1, "Check complete, 1 warning has been found!"),
    ("# check=error=true\nFROM scratch as base\n", [], {"BUILDKIT_DOCKERFILE_CHECK": "skip=FromAsCasing"}, 0, "no warnings found"),
    ("# check=error=true\nFROM scratch as base\n", ["--build-arg", "BUILDKIT_DOCKERFILE_CHECK=error=false"], {}, 0, "1 warning"),
    ("FROM scratch\nCOPY $nope /\n", ["--build-arg", "nope=hello.txt"], {}, 0, "Usage of undefined variable '$nope'"),
    ("# check=error=true\nFROM debian\nRUN apt-get install -y x\n", [], {}, 0, "INFO: RunAptGetWithoutCacheMount"),
]


@pytest.mark.parametrize(("text", "extra", "env", "code", "shown"), CASES)
def test_check_command(context: Path, text: str, extra: list[str], env: dict[str, str], code: int, shown: str) -> None:
    write(context, text)
    done = pybuild("check", *extra, ".", cwd=context, env=env)
    assert done.returncode == code, done.stderr
    assert shown in done.stdout
    assert "Traceback" not in done.stderr


def test_error_true_names_the_rules_on_stderr(context: Path) -> None:
    write(context, "# check=error=true\nFROM scratch as base\ncopy hello.txt /\n")
    done = pybuild("check", cwd=context)
    assert done.returncode == 1
    assert done.stderr.strip() == "error: lint violation found for rules: ConsistentInstructionCasing, FromAsCasing"


def test_check_reports_warnings_then_the_dockerfile_error(context: Path) -> None:
    write(context, "FROM scratch AS BadStageName\nBADCMD\n")
    done = pybuild("check", cwd=context)
    assert done.returncode == 1
    assert "StageNameCasing" in done.stdout
    assert "Dockerfile:2:1: unknown instruction: BADCMD" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM scratch\nCOPY a \\\n", None),
        ("# check=bogus\nFROM scratch\n", 'failed to parse check options: invalid check option "bogus"'),
        ("", "file with no instructions"),
    ],
)
def test_bad_input_is_an_error_not_a_traceback(context: Path, text: str, message: str | None) -> None:
    write(context, text)
    done = pybuild("check", cwd=context)
    assert "Traceback" not in done.stderr
    if message is not None:
        assert done.returncode == 1 and message in done.stderr


def test_check_file_flag_stdin_and_json(context: Path) -> None:
    write(context, "FROM scratch\nMAINTAINER me\n", name="Other.Dockerfile")
    done = pybuild("check", "-f", "Other.Dockerfile", "--format", "json", ".", cwd=context)
    assert done.returncode == 0
    report = json.loads(done.stdout)
    assert report["error"] is None
    assert [(w["ruleName"], w["location"]["line"]) for w in report["warnings"]] == [("MaintainerDeprecated", 2)]
    piped = pybuild("check", "-f", "-", cwd=context, stdin="FROM scratch\nENV a b\n")
    assert piped.returncode == 0 and "LegacyKeyValueFormat" in piped.stdout and "<stdin>:2" in piped.stdout


def test_copy_ignored_file_reads_the_context_dockerignore(context: Path) -> None:
    (context / ".dockerignore").write_text("hello.txt\n")
    write(context, "# check=experimental=CopyIgnoredFile\nFROM scratch\nCOPY hello.txt /\n")
    done = pybuild("check", ".", cwd=context)
    assert 'Attempting to Copy file "hello.txt" that is excluded by .dockerignore' in done.stdout


def test_build_call_check_is_pybuild_check(context: Path) -> None:
    write(context, "FROM scratch as base\n")
    assert pybuild("build", "--call=check", ".", cwd=context).stdout == pybuild("check", ".", cwd=context).stdout
    assert pybuild("build", "--check", ".", cwd=context).returncode == 0


def test_build_call_outline_and_targets(context: Path) -> None:
    write(
        context,
        "# VERSION what to ship\nARG VERSION=1.0\n# base the base\nFROM scratch AS base\n"
        "FROM base AS final\nARG VERSION\nCOPY hello.txt /\n",
    )
    outline = pybuild("build", "--call=outline", ".", cwd=context)
    assert outline.returncode == 0
    assert outline.stdout == "TARGET:      final\n\nBUILD ARG   VALUE   DESCRIPTION\nVERSION     1.0     what to ship\n"
    listed = pybuild("build", "--call=targets,format=json", ".", cwd=context)
    assert [t["name"] for t in json.loads(listed.stdout)["targets"]] == ["base", "final"]
    bad = pybuild("build", "--call=outline", "--target", "nope", ".", cwd=context)
    assert bad.returncode == 1 and 'target stage "nope" could not be found' in bad.stderr


def test_build_stops_on_error_true_before_building(context: Path) -> None:
    write(context, "# check=error=true\nFROM scratch as base\nCOPY hello.txt /\n")
    done = pybuild("build", ".", cwd=context)
    assert done.returncode == 1
    assert "WARNING: FromAsCasing" in done.stderr
    assert "lint violation found for rules: FromAsCasing" in done.stderr
    assert not (context / "store").exists()


def test_build_prints_findings_and_still_builds(context: Path) -> None:
    write(context, "FROM scratch as base\nCOPY hello.txt /\n")
    done = pybuild("build", "--progress", "quiet", ".", cwd=context)
    assert done.returncode == 0, done.stderr
    assert "WARNING: FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)" in done.stderr
    assert done.stdout.strip().startswith("sha256:")


def test_base_image_env_from_the_local_store_is_known(context: Path) -> None:
    write(context, "FROM scratch\nENV GOPATH=/go\nSHELL [\"/bin/sh\", \"-c\"]\n", name="Base.Dockerfile")
    built = pybuild("build", "-f", "Base.Dockerfile", "-t", "example/go:1", "--progress", "quiet", ".", cwd=context)
    assert built.returncode == 0, built.stderr
    write(context, "FROM example/go:1\nENV X=$GOPATH\nCMD run\n")
    assert pybuild("check", cwd=context).stdout == "Check complete, no warnings found.\n"
    write(context, "FROM example/go:1\nENV X=$GOPAHT\n")
    assert "Usage of undefined variable '$GOPAHT' (did you mean $GOPATH?)" in pybuild("check", cwd=context).stdout


def test_check_accepts_a_dockerfile_path_as_its_argument(context: Path) -> None:
    write(context, "FROM scratch\nMAINTAINER me\n", name="app.Dockerfile")
    done = pybuild("check", str(context / "app.Dockerfile"), cwd=context.parent)
    assert done.returncode == 0 and f"{context / 'app.Dockerfile'}:2" in done.stdout
