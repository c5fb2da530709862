"""Every rule against a Dockerfile that triggers it and one that does not (data-driven).

Expected messages are BuildKit's detail strings, so a wording drift is caught here.
"""

from __future__ import annotations

from typing import Any

import pytest

from pybuildkit.checks import CHECKS, RULES, BaseImage, run_checks
from pybuildkit.syntax import parse

# (rule, Dockerfile, [(line, message)], extra run_checks keywords)
TRIGGERS: list[tuple[str, str, list[tuple[int, str]], dict[str, Any]]] = [
    ("StageNameCasing", "FROM scratch AS BadName\n", [(1, "Stage name 'BadName' should be lowercase")], {}),
    ("FromAsCasing", "FROM scratch as base\n", [(1, "'as' and 'FROM' keywords' casing do not match")], {}),
    ("FromAsCasing", "from scratch AS base\n", [(1, "'AS' and 'from' keywords' casing do not match")], {}),
    ("NoEmptyContinuation", "FROM scratch\nCOPY a \\\n\n.\n", [(4, "Empty continuation line")], {}),
    (
        "ConsistentInstructionCasing",
        "FROM scratch\ncopy a /foo\nCOPY a /bar\n",
        [(2, "Command 'copy' should match the case of the command majority (uppercase)")],
        {},
    ),
    (
        "ConsistentInstructionCasing",
        "From scratch\nfrom scratch AS b\n",
        [(1, "Command 'From' should match the case of the command majority (lowercase)")],
        {},
    ),
    (
        "DuplicateStageName",
        "FROM scratch AS b\nFROM scratch AS b\n",
        [(2, 'Duplicate stage name "b", stage names should be unique')],
        {},
    ),
    (
        "ReservedStageName",
        "FROM scratch AS scratch\nFROM scratch AS context\n",
        [
            (1, 'Stage name should not use the same name as reserved stage "scratch"'),
            (2, 'Stage name should not use the same name as reserved stage "context"'),
        ],
        {},
    ),
    (
        "JSONArgsRecommended",
        "FROM scratch\nENTRYPOINT mycommand\n",
        [(2, "JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals")],
        {},
    ),
    (
        "MaintainerDeprecated",
        "FROM scratch\nMAINTAINER me@example.org\n",
        [(2, "Maintainer instruction is deprecated in favor of using label")],
        {},
    ),
    (
        "UndefinedArgInFrom",
        "FROM --platform=$BULIDPLATFORM scratch\n",
        [(1, "FROM argument 'BULIDPLATFORM' is not declared (did you mean BUILDPLATFORM?)")],
        {},
    ),
    (
        "UndefinedArgInFrom",
        "ARG tag=latest\nFROM busybox:${tag}${version} AS b\n",
        [(2, "FROM argument 'version' is not declared")],
        {},
    ),
    (
        "WorkdirRelativePath",
        "FROM scratch\nWORKDIR app/\n",
        [(2, 'Relative workdir "app/" can have unexpected results if the base image changes')],
        {},
    ),
    (
        "UndefinedVar",
        "FROM scratch\nARG DIR_ASSETS=assets/\nCOPY $DIR_ASSET .\n",
        [(3, "Usage of undefined variable '$DIR_ASSET' (did you mean $DIR_ASSETS?)")],
        {},
    ),
    (
        "UndefinedVar",
        "FROM scratch\nENV PATH=$PAHT:/tmp/bin\n",
        [(2, "Usage of undefined variable '$PAHT' (did you mean $PATH?)")],
        {},
    ),
    (
        "UndefinedVar",
        "FROM scratch AS first\nCOPY $foo .\nFROM scratch AS second\nCOPY $bar .\n",
        [(2, "Usage of undefined variable '$foo'"), (4, "Usage of undefined variable '$bar'")],
        {},
    ),
    (
        "MultipleInstructionsDisallowed",
        'FROM scratch\nENTRYPOINT ["/a"]\nCMD ["/a"]\nHEALTHCHECK CMD ["/a"]\nENTRYPOINT ["/b"]\nCMD ["/b"]\nHEALTHCHECK CMD ["/b"]\n',
        [
            (2, "Multiple ENTRYPOINT instructions should not be used in the same stage because only the last one will be used"),
            (3, "Multiple CMD instructions should not be used in the same stage because only the last one will be used"),
            (4, "Multiple HEALTHCHECK instructions should not be used in the same stage because only the last one will be used"),
        ],
        {},
    ),
    (
        "LegacyKeyValueFormat",
        "FROM scratch\nENV testkey value\nLABEL key value\n",
        [
            (2, '"ENV key=value" should be used instead of legacy "ENV key value" format'),
            (3, '"LABEL key=value" should be used instead of legacy "LABEL key value" format'),
        ],
        {},
    ),
    (
        "InvalidBaseImagePlatform",
        "FROM busybox\n",
        [(1, 'Base image busybox was pulled with platform "linux/arm64", expected "linux/amd64" for current build')],
        {"base_lookup": lambda ref: BaseImage(platform="linux/arm64")},
    ),
    (
        "RedundantTargetPlatform",
        "FROM --platform=${TARGETPLATFORM} scratch\n",
        [(1, "Setting platform to predefined ${TARGETPLATFORM} in FROM is redundant as this is the default behavior")],
        {},
    ),
    (
        "SecretsUsedInArgOrEnv",
        "FROM scratch\nARG SECRET_PASSPHRASE\nENV password=bar sunflower=foo\nARG super_duper_secret_token=foo auth=bar\n",
        [
            (2, 'Do not use ARG or ENV instructions for sensitive data (ARG "SECRET_PASSPHRASE")'),
            (3, 'Do not use ARG or ENV instructions for sensitive data (ENV "password")'),
            (4, 'Do not use ARG or ENV instructions for sensitive data (ARG "super_duper_secret_token")'),
            (4, 'Do not use ARG or ENV instructions for sensitive data (ARG "auth")'),
        ],
        {},
    ),
    (
        "InvalidDefaultArgInFrom",
        "ARG VERSION\nFROM busybox:$VERSION\n",
        [(2, "Default value for ARG busybox:$VERSION results in empty or invalid base image name")],
        {"build_args": {"VERSION": "latest"}},
    ),
    (
        "InvalidDefaultArgInFrom",
        "ARG IMAGE\nFROM $IMAGE\n",
        [(2, "Default value for ARG $IMAGE results in empty or invalid base image name")],
        {"build_args": {"IMAGE": "busybox:latest"}},
    ),
    (
        "FromPlatformFlagConstDisallowed",
        "FROM --platform=linux/amd64 scratch\n",
        [(1, 'FROM --platform flag should not use constant value "linux/amd64"')],
        {},
    ),
    (
        "CopyIgnoredFile",
        "# check=experimental=CopyIgnoredFile\nFROM scratch\nCOPY Dockerfile .\nADD ./Dockerfile /windy\n",
        [
            (3, 'Attempting to Copy file "Dockerfile" that is excluded by .dockerignore'),
            (4, 'Attempting to Add file "./Dockerfile" that is excluded by .dockerignore'),
        ],
        {"ignored": lambda path: path == "Dockerfile"},
    ),
    (
        "InvalidDefinitionDescription",
        "# check=experimental=InvalidDefinitionDescription\n# bar this is the bar\nARG foo=bar\n"
        "# BasE this is the BasE image\nFROM scratch AS base\n# definitely a bad comment\nARG foo=baz bar=qux\n",
        [
            (3, "Comment for ARG should follow the format: `# foo <description>`"),
            (5, "Comment for FROM should follow the format: `# base <description>`"),
            (7, "Comment for ARG should follow the format: `# <arg_key> <description>`"),
        ],
        {},
    ),
    (
        "ExposeProtoCasing",
        "FROM scratch\nEXPOSE 80/TcP 443/udp\n",
        [(2, "Defined protocol '80/TcP' in EXPOSE instruction should be lowercase")],
        {},
    ),
    (
        "ExposeInvalidFormat",
        "FROM scratch\nARG HOST=127.0.0.1\nEXPOSE ${HOST}:80:80 80\n",
        [(3, "EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'")],
        {},
    ),
    (
        "CopyAllBeforeDependencyInstall",
        "FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
        [
            (
                3,
                "COPY of the whole context before 'pip install -r' (line 4) re-runs the install whenever any "
                "file changes; copy only the dependency manifest (and lock file) first, install, then copy the rest",
            )
        ],
        {},
    ),
    (
        "RunAptGetWithoutCacheMount",
        "FROM debian\nRUN apt-get update && apt-get install -y curl\n",
        [
            (
                2,
                "apt-get install without a cache mount downloads every package again when this layer is rebuilt; "
                "add --mount=type=cache,target=/var/cache/apt,sharing=locked "
                "(and --mount=type=cache,target=/var/lib/apt,sharing=locked)",
            )
        ],
        {},
    ),
]

# (rule, Dockerfile that must not trigger it, extra run_checks keywords)
CLEAN: list[tuple[str, str, dict[str, Any]]] = [
    ("StageNameCasing", "FROM scratch AS good_name\n", {}),
    ("FromAsCasing", "FROM scratch AS base\nfrom scratch as other\n", {}),
    ("NoEmptyContinuation", "FROM scratch\nCOPY a \\\n.\n", {}),
    ("ConsistentInstructionCasing", "from scratch\ncopy a /foo\ncopy b /bar\n", {}),
    ("ConsistentInstructionCasing", "FROM alpine\nRUN <<'EOT'\nenv\nEOT\n", {}),
    ("DuplicateStageName", "FROM scratch AS b1\nFROM scratch AS b2\n", {}),
    ("ReservedStageName", "FROM scratch\nFROM scratch AS a\n", {}),
    ("JSONArgsRecommended", 'FROM scratch AS base\nSHELL ["/bin/custom"]\nFROM base\nCMD mycommand\n', {}),
    ("JSONArgsRecommended", 'FROM scratch\nCMD ["mycommand"]\n', {}),
    ("JSONArgsRecommended", "FROM img\nCMD run\n", {"base_lookup": lambda ref: BaseImage(shell=("/bin/bash", "-c"))}),
    ("MaintainerDeprecated", 'FROM scratch\nLABEL org.opencontainers.image.authors="me@example.org"\n', {}),
    ("UndefinedArgInFrom", "ARG base=scratch\nFROM $base\n", {}),
    ("UndefinedArgInFrom", "FROM --platform=$BUILDPLATFORM scratch\n", {}),
    ("UndefinedArgInFrom", "ARG DEBUG\nFROM scra${DEBUG:-tch}\n", {}),
    ("WorkdirRelativePath", "FROM scratch AS a\nWORKDIR /app\nFROM a AS b\nWORKDIR subdir/\n", {}),
    ("UndefinedVar", "FROM scratch\nARG foo\nCOPY Dockerfile${foo} .\n", {}),
    ("UndefinedVar", "FROM alpine AS base\nARG foo=Dockerfile\nFROM base\nCOPY $foo .\n", {}),
    ("UndefinedVar", "FROM alpine\nRUN echo $PATH $UNSET_IN_RUN\n", {}),
    ("UndefinedVar", "FROM golang\nENV X=$GOPATH\n", {"base_lookup": lambda ref: BaseImage(env=("GOPATH=/go",))}),
    ("UndefinedVar", "ARG V=1\nFROM scratch\nARG V\nENV X=$V\n", {}),
    (
        "MultipleInstructionsDisallowed",
        'FROM scratch AS a\nENTRYPOINT ["/a"]\nCMD ["/a"]\nFROM a AS b\nENTRYPOINT ["/b"]\nCMD ["/b"]\n',
        {},
    ),
    ("LegacyKeyValueFormat", "FROM scratch\nENV testkey=value\nLABEL key=value\n", {}),
    ("InvalidBaseImagePlatform", "FROM busybox\n", {"base_lookup": lambda ref: BaseImage(platform="linux/amd64")}),
    ("InvalidBaseImagePlatform", "FROM busybox\n", {}),
    ("RedundantTargetPlatform", "FROM --platform=$BUILDPLATFORM scratch\n", {}),
    ("SecretsUsedInArgOrEnv", "FROM scratch\nENV PUBLIC_KEY=\nARG public_token\nENV sunflower=1\n", {}),
    ("InvalidDefaultArgInFrom", 'ARG VERSION="latest"\nFROM busybox:${VERSION}\n', {"build_args": {"VERSION": "latest"}}),
    ("InvalidDefaultArgInFrom", "ARG VARIANT\nFROM busybox:stable${VARIANT}\n", {}),
    ("FromPlatformFlagConstDisallowed", "FROM --platform=linux/amd64 scratch AS my_amd64_stage\n", {}),
    ("FromPlatformFlagConstDisallowed", "FROM --platform=$BUILDPLATFORM scratch\n", {}),
    (
        "CopyIgnoredFile",
        "# check=experimental=CopyIgnoredFile\nFROM scratch AS base\nCOPY Dockerfile /foobar\nFROM base\nCOPY --from=base /foobar /x\n",
        {"ignored": lambda path: path == "foobar"},
    ),
    ("CopyIgnoredFile", "FROM scratch\nCOPY Dockerfile .\n", {"ignored": lambda path: True}),
    (
        "InvalidDefinitionDescription",
        "# check=experimental=InvalidDefinitionDescription\n# foo this is the foo\nARG foo=bar\n\n"
        "# base this is the base image\nFROM scratch AS base\n#\nARG bit=bat\n# comment for something else\nCOPY a .\n",
        {},
    ),
    ("ExposeProtoCasing", "FROM scratch\nEXPOSE 80/tcp 53/udp 8080\n", {}),
    ("ExposeInvalidFormat", "FROM scratch\nEXPOSE 80 443/tcp 8000-8010\n", {}),
    (
        "CopyAllBeforeDependencyInstall",
        "FROM python\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\n",
        {},
    ),
    (
        "RunAptGetWithoutCacheMount",
        "FROM debian\nRUN --mount=type=cache,target=/var/cache/apt,sharing=locked apt-get install -y curl\n",
        {},
    ),
]


def _findings(text: str, **options: Any) -> list[Any]:
    options.setdefault("environ", {})
    return list(run_checks(parse(text), **options).findings)


@pytest.mark.parametrize(
    ("rule", "text", "expected", "options"),
    TRIGGERS,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(TRIGGERS)],
)
def test_rule_triggers(rule: str, text: str, expected: list[tuple[int, str]], options: dict[str, Any]) -> None:
    found = [(f.span.line, f.message) for f in _findings(text, **options) if f.rule == rule]
    assert sorted(found) == sorted(expected)


@pytest.mark.parametrize(
    ("rule", "text", "options"),
    CLEAN,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(CLEAN)],
)
def test_rule_stays_quiet(rule: str, text: str, options: dict[str, Any]) -> None:
    assert [f.message for f in _findings(text, **options) if f.rule == rule] == []


def test_every_rule_has_a_function_a_trigger_and_a_clean_case() -> None:
    names = {r.name for r in RULES}
    assert set(CHECKS) == names
    assert {case[0] for case in TRIGGERS} == names
    assert {case[0] for case in CLEAN} == names


def test_findings_carry_rule_metadata() -> None:
    (finding,) = _findings("FROM scratch\nMAINTAINER me\n")
    assert finding.url == "https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/"
    assert finding.description == "The MAINTAINER instruction is deprecated, use a label instead to define an image author"
    assert finding.level == "warning"
    assert finding.short() == "MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line 2)"


def test_target_limits_step_rules_to_needed_stages() -> None:
    text = "FROM scratch AS a\n\nFROM a AS b\nENV testkey value\n\nFROM a AS c\n"
    assert [f.rule for f in _findings(text)] == ["LegacyKeyValueFormat"]
    assert _findings(text, target="c") == []


def test_warnings_before_a_bad_instruction_are_kept() -> None:
    result = run_checks(parse("FROM scratch AS BadStageName\nMAINTAINER me@example.org\nBADCMD\n"), environ={})
    assert [f.rule for f in result.findings] == ["StageNameCasing", "MaintainerDeprecated"]
    assert result.error is not None and result.error.span is not None and result.error.span.line == 3
    assert result.failed


# Whole files with every finding listed: guards against one rule firing where another is meant.
WHOLE_FILES: list[tuple[str, list[str]]] = [
    ("ARG base=scratch\nFROM $base\nCOPY Dockerfile .\n", []),
    ("ARG BUILDPLATFORM=linux/amd64\nFROM --platform=$BUILDPLATFORM scratch\n", []),
    ('ARG DEBUG=""\nFROM scratch${DEBUG-@bogus}\n', []),
    ("ARG MY_ARCH=amd64\nFROM --platform=linux/${MYARCH} busybox\n", ["UndefinedArgInFrom"]),
    ("FROM alpine\nCOPY $foo .\nARG foo=bar\nRUN echo $foo\n", ["UndefinedVar"]),
    ("FROM scratch\nCOPY <<EOF /a.txt\nHello $name\nEOF\n", ["UndefinedVar"]),
    ("FROM scratch\nCOPY <<'EOF' /a.txt\nHello $name\nEOF\n", []),
    ("FROM --platform=$TARGETPLATFORM scratch\n", ["RedundantTargetPlatform"]),
    ('ARG SFX="box:"\nFROM busy${SFX}\n', ["InvalidDefaultArgInFrom"]),
    ("ARG DIR\nFROM oci-layout://${DIR:-/tmp/layout}:v1\n", []),
    ("FROM oci-layout://${DIR:-/tmp/layout}:v1\n", ["UndefinedArgInFrom"]),
    (
        "#\nFROM scratch AS BadStageName\n\n#\nFROM scratch as base2\n\nFROM scratch AS base3\n",
        ["StageNameCasing", "FromAsCasing"],
    ),
    ("FROM scratch\nONBUILD RUN echo $X\nHEALTHCHECK NONE\nARG U\nUSER ${U:-root}\nVOLUME /data\nSTOPSIGNAL SIGTERM\n", []),
]


@pytest.mark.parametrize(("text", "rules"), WHOLE_FILES)
def test_whole_file_findings(text: str, rules: list[str]) -> None:
    assert [f.rule for f in _findings(text)] == rules
