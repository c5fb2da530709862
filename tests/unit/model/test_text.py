"""Dockerfile text -> typed model through the real parser: what a user sees when something is wrong."""

from __future__ import annotations

import pytest

from pybuildkit.errors import DockerfileError
from pybuildkit.model import Copy, Onbuild, Run, parse_dockerfile

from pybuildkit import syntax  # noqa: E402

if not hasattr(syntax, "parse"):
    pytest.skip("the parser (pybuildkit.syntax.parse) is not available", allow_module_level=True)


BAD = [
    ("FROM alpine\nCPOY a b\n", 2, "unknown instruction: CPOY", "did you mean COPY?"),
    ("FROM alpine\nRUN --mount=type=nfs,target=/x make\n", 2, 'unsupported mount type "nfs"', None),
    ("FROM alpine\nRUN --mount=type=cache,taget=/x make\n", 2, "unexpected key 'taget'", "did you mean target?"),
    ("FROM alpine\nCOPY --form=base a /b\n", 2, "unknown flag: --form", "did you mean --from?"),
    ("FROM alpine\n\nHEALTHCHECK --interval=5 CMD true\n", 3, 'missing unit in duration "5"', "use Go duration syntax"),
    ("ENV A=1\nFROM alpine\n", 1, "no build stage in current context", "only ARG may appear before the first FROM"),
    ("FROM a AS x\nFROM b AS X\n", 2, "duplicate stage name 'x'", "line 1"),
    ("FROM alpine AS 1st\n", 1, "invalid name for build stage", None),
    ("FROM alpine\nSHELL /bin/bash -c\n", 2, "SHELL requires the arguments to be in JSON form", 'SHELL ["/bin/sh", "-c"]'),
    ("FROM alpine\nCOPY --chmod=u+q a /b\n", 2, "invalid chmod parameter", None),
    ("FROM alpine\nEXPOSE 80/http\n", 2, "invalid proto: http", None),
    ("FROM alpine\nONBUILD FROM scratch\n", 2, "FROM isn't allowed as an ONBUILD trigger", None),
]


@pytest.mark.parametrize(("text", "line", "message", "hint"), BAD, ids=[case[2] for case in BAD])
def test_errors_render_with_location_and_excerpt(text, line, message, hint):
    with pytest.raises(DockerfileError) as info:
        parse_dockerfile(syntax.parse(text, "ctx/Dockerfile"))
    error = info.value
    assert message in error.message
    assert error.span is not None and error.span.line == line
    rendered = error.render()
    assert rendered.startswith(f"ctx/Dockerfile:{line}:")
    assert text.splitlines()[line - 1] in rendered
    if hint is not None:
        assert hint in (error.hint or "")


def test_a_realistic_file():
    text = """# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
RUN --mount=type=cache,target=/root/.cache/go-build \\
    --mount=type=bind,source=go.mod,target=go.mod \\
    go build -o /out/app ./cmd/app
COPY --chmod=755 <<-EOF /usr/local/bin/entry
\t#!/bin/sh
\texec /app "$@"
\tEOF
FROM scratch
COPY --from=build --link /out/app /app
ONBUILD RUN echo triggered
HEALTHCHECK --interval=30s --retries=3 CMD ["/app", "health"]
ENTRYPOINT ["/app"]
"""
    dockerfile = parse_dockerfile(syntax.parse(text))
    build, final = dockerfile.stages
    assert dockerfile.global_args[0].args[0].value == "1.22"
    assert (build.name, build.from_.platform) == ("build", "$BUILDPLATFORM")
    run = build.commands[1]
    assert isinstance(run, Run)
    assert [(m.type, m.target, m.readonly) for m in run.mounts] == [
        ("cache", "/root/.cache/go-build", False),
        ("bind", "go.mod", True),
    ]
    copy = build.commands[2]
    assert isinstance(copy, Copy)
    assert copy.contents[0].data == '#!/bin/sh\nexec /app "$@"\n'
    assert copy.chmod == "755"
    assert isinstance(final.commands[1], Onbuild)
    assert final.commands[2].health.test == ("CMD", "/app", "health")
    assert final.commands[2].health.interval == 30 * 10**9
