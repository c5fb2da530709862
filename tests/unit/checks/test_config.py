"""`# check=` options, BUILDKIT_DOCKERFILE_CHECK overrides, experimental rules and error=true."""

from __future__ import annotations

from typing import Any

import pytest

from pybuildkit.checks import CheckConfig, parse_check_options, run_checks
from pybuildkit.errors import ParseError, UsageError
from pybuildkit.syntax import parse

BODY = "FROM scratch as base\ncopy Dockerfile .\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", CheckConfig(source="directive")),
        ("skip=all", CheckConfig(skip_all=True, source="directive")),
        ("skip=A, B ;error=true", CheckConfig(skip=frozenset({"A", "B"}), error=True, source="directive")),
        ("error=1", CheckConfig(error=True, source="directive")),
        ("experimental=all", CheckConfig(experimental_all=True, source="directive")),
        ("experimental=X,Y;skip=Z", CheckConfig(experimental=frozenset({"X", "Y"}), skip=frozenset({"Z"}), source="directive")),
    ],
)
def test_parse_check_options(text: str, expected: CheckConfig) -> None:
    assert parse_check_options(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("skip", 'invalid check option "skip"'),
        ("bogus=1", 'invalid check option "bogus"'),
        ("error=maybe", 'failed to parse check option "error=maybe"'),
    ],
)
def test_parse_check_options_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_check_options(text)


# (directive line or "", run_checks keywords, expected rules, failed)
CONTROL_CASES: list[tuple[str, dict[str, Any], list[str], bool]] = [
    ("", {}, ["FromAsCasing", "ConsistentInstructionCasing"], False),
    ("#check=skip=all\n", {}, [], False),
    ("#check=skip=all;error=true\n", {}, [], False),
    ("#check=skip=ConsistentInstructionCasing,FromAsCasing;error=true\n", {}, [], False),
    ("#check=skip=ConsistentInstructionCasing\n", {}, ["FromAsCasing"], False),
    ("#check=skip=ConsistentInstructionCasing;error=true\n", {}, ["FromAsCasing"], True),
    # the build arg replaces the directive whole
    (
        "#check=skip=all\n",
        {"build_args": {"BUILDKIT_DOCKERFILE_CHECK": "skip=ConsistentInstructionCasing;error=true"}},
        ["FromAsCasing"],
        True,
    ),
    ("#check=error=true\n", {"build_args": {"BUILDKIT_DOCKERFILE_CHECK": "skip=all"}}, [], False),
    # so does the environment variable
    ("#check=error=true\n", {"environ": {"BUILDKIT_DOCKERFILE_CHECK": "skip=all"}}, [], False),
    (
        "#check=skip=all\n",
        {"environ": {"BUILDKIT_DOCKERFILE_CHECK": "skip=FromAsCasing;error=true"}},
        ["ConsistentInstructionCasing"],
        True,
    ),
    # the build arg wins over the environment
    (
        "",
        {"environ": {"BUILDKIT_DOCKERFILE_CHECK": "skip=all"}, "build_args": {"BUILDKIT_DOCKERFILE_CHECK": "error=true"}},
        ["FromAsCasing", "ConsistentInstructionCasing"],
        True,
    ),
]


@pytest.mark.parametrize(("directive", "options", "rules", "failed"), CONTROL_CASES)
def test_controls(directive: str, options: dict[str, Any], rules: list[str], failed: bool) -> None:
    options.setdefault("environ", {})
    result = run_checks(parse(directive + BODY), **options)
    assert [f.rule for f in result.findings] == rules
    assert result.failed is failed
    if failed:
        assert result.violation_message() == "lint violation found for rules: " + ", ".join(sorted(rules))


def test_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILDKIT_DOCKERFILE_CHECK", "skip=all")
    assert run_checks(parse(BODY)).findings == ()


EXPERIMENTAL = "FROM scratch\n# not a description\nARG foo=1\nCOPY Dockerfile .\n"


@pytest.mark.parametrize(
    ("directive", "rules"),
    [
        ("", []),
        ("# check=experimental=InvalidDefinitionDescription\n", ["InvalidDefinitionDescription"]),
        ("# check=experimental=all\n", ["InvalidDefinitionDescription", "CopyIgnoredFile"]),
        # skip=all does not silence an experimental rule that is asked for by name
        ("# check=skip=all;experimental=CopyIgnoredFile\n", ["CopyIgnoredFile"]),
    ],
)
def test_experimental_rules_run_only_when_enabled(directive: str, rules: list[str]) -> None:
    result = run_checks(parse(directive + EXPERIMENTAL), environ={}, ignored=lambda p: p == "Dockerfile")
    assert [f.rule for f in result.findings] == rules


def test_info_findings_never_fail_a_build() -> None:
    text = "# check=error=true\nFROM debian\nRUN apt-get install -y curl\n"
    result = run_checks(parse(text), environ={})
    assert [f.level for f in result.findings] == ["info"]
    assert not result.failed


def test_bad_directive_is_a_located_parse_error() -> None:
    with pytest.raises(ParseError) as info:
        run_checks(parse("# check=bogus\nFROM scratch\n"), environ={})
    assert "failed to parse check options" in info.value.message
    assert info.value.span is not None and info.value.span.line == 1


def test_bad_override_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="BUILDKIT_DOCKERFILE_CHECK"):
        run_checks(parse("FROM scratch\n"), environ={"BUILDKIT_DOCKERFILE_CHECK": "error=perhaps"})
