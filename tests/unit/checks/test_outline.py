"""`--call=outline` / `--call=targets` data and their text rendering (snapshot strings)."""

from __future__ import annotations

import json

import pytest

from pybuildkit.checks import outline, run_checks, targets
from pybuildkit.cli.outline import parse_call, render_findings, render_outline, render_targets
from pybuildkit.errors import PlanError, UsageError
from pybuildkit.model import parse_dockerfile
from pybuildkit.syntax import parse

DOCKERFILE = """\
# GO_VERSION the Go toolchain to build with
ARG GO_VERSION=1.22
ARG UNUSED=x
ARG DISTRO=bookworm

# base prepares the toolchain
FROM golang:${GO_VERSION}-${DISTRO} AS base
# APP_NAME the binary's name
ARG APP_NAME=app
ARG NOVALUE

FROM base AS build
RUN --mount=type=secret,id=netrc,required=true --mount=type=ssh go build
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc true

# release is the image to ship
FROM scratch AS release
COPY --from=build /out /

FROM scratch AS other
ARG UNUSED
"""

OUTLINE_TEXT = """\
TARGET:      release
DESCRIPTION: is the image to ship

BUILD ARG    VALUE      DESCRIPTION
GO_VERSION   1.22       the Go toolchain to build with
DISTRO       bookworm
APP_NAME     app        the binary's name
NOVALUE

SECRET   REQUIRED
netrc    true
npmrc

SSH       REQUIRED
default
"""

TARGETS_TEXT = """\
TARGET            DESCRIPTION
base              prepares the toolchain
build
release           is the image to ship
other (default)
"""


@pytest.fixture
def dockerfile():  # type: ignore[no-untyped-def]
    return parse_dockerfile(parse(DOCKERFILE))


def test_outline_text(dockerfile) -> None:  # type: ignore[no-untyped-def]
    assert render_outline(outline(dockerfile, target="release")) == OUTLINE_TEXT


def test_outline_build_arg_overrides_value(dockerfile) -> None:  # type: ignore[no-untyped-def]
    data = outline(dockerfile, target="release", build_args={"GO_VERSION": "1.23"})
    assert [(a.name, a.value) for a in data.args][0] == ("GO_VERSION", "1.23")


def test_outline_default_target_and_json(dockerfile) -> None:  # type: ignore[no-untyped-def]
    data = outline(dockerfile)
    assert data.to_json() == {"name": "other", "args": [{"name": "UNUSED", "line": 3, "value": "x"}]}
    json.dumps(data.to_json())


def test_outline_unknown_target(dockerfile) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PlanError, match='target stage "nope" could not be found'):
        outline(dockerfile, target="nope")


def test_targets_text_and_json(dockerfile) -> None:  # type: ignore[no-untyped-def]
    items = targets(dockerfile)
    assert render_targets(items) == TARGETS_TEXT
    assert items[0].to_json() == {
        "name": "base",
        "base": "golang:${GO_VERSION}-${DISTRO}",
        "line": 7,
        "description": "prepares the toolchain",
    }
    assert items[-1].default and not items[0].default


def test_unnamed_stages_are_stage_n() -> None:
    items = targets(parse_dockerfile(parse("FROM scratch\nFROM scratch\n")))
    assert [t.name for t in items] == ["stage-0", "stage-1"]


CHECK_TEXT = """\
WARNING: FromAsCasing - https://docs.docker.com/go/dockerfile/rule/from-as-casing/
Dockerfile:1
'as' and 'FROM' keywords' casing do not match
   1 | FROM debian as base
       ^

INFO: RunAptGetWithoutCacheMount - docs/checks.md#runaptgetwithoutcachemount
Dockerfile:2
apt-get install without a cache mount downloads every package again when this layer is rebuilt; \
add --mount=type=cache,target=/var/cache/apt,sharing=locked (and --mount=type=cache,target=/var/lib/apt,sharing=locked)
   2 |   RUN apt-get install -y curl
         ^

Check complete, 1 warning has been found! (1 info finding)
"""


def test_check_text() -> None:
    document = parse("FROM debian as base\n  RUN apt-get install -y curl\n")
    assert render_findings(run_checks(document, environ={}), document.source) == CHECK_TEXT


def test_check_text_without_findings() -> None:
    document = parse("FROM scratch\n")
    assert render_findings(run_checks(document, environ={}), document.source) == "Check complete, no warnings found.\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("check", ("check", "text")), ("outline,format=json", ("outline", "json")), ("targets,format=text", ("targets", "text"))],
)
def test_parse_call(value: str, expected: tuple[str, str]) -> None:
    assert parse_call(value) == expected


@pytest.mark.parametrize("value", ["lint", "check,format=xml", "outline,colour=red"])
def test_parse_call_rejects(value: str) -> None:
    with pytest.raises(UsageError):
        parse_call(value)
