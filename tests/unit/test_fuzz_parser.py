"""Fuzzing the Dockerfile front end: random and mutated inputs raise project errors or nothing.

`check_dockerfile` is the property (also driven by atheris in benchmarks/fuzz.py): bytes go
through the syntax parser and the model; a ParseError/PlanError (any PybuildkitError) is a fine
answer, anything else (IndexError, lark internals, RecursionError) is a bug.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybuildkit.errors import PybuildkitError

__all__ = ["check_dockerfile", "SEEDS"]

SEEDS = (
    b"FROM busybox\nRUN echo hi\n",
    b"# syntax=docker/dockerfile:1\n# escape=`\nFROM a AS b\nRUN `\n  echo x\nCOPY --from=b --chown=1:1 a b\n",
    b"FROM a\nRUN <<EOF\necho $HOME\nEOF\nCOPY <<-X /f\n\tbody\nX\n",
    b"ARG V=1\nFROM x:${V:-2}\nENV A=${B#p} C=\"d e\"\nLABEL k=v\nHEALTHCHECK --interval=5s CMD true\n",
    b"FROM s\nRUN --mount=type=cache,target=/c,id=1 --network=none [\"sh\", \"-c\", \"x\"]\nONBUILD RUN y\n",
    b"FROM s\nEXPOSE 80/tcp 1-2/udp\nUSER a:b\nWORKDIR /w\nSHELL [\"/bin/sh\", \"-c\"]\nSTOPSIGNAL 9\n",
)

KEYWORDS = ("FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "LABEL", "WORKDIR", "USER", "CMD", "ENTRYPOINT",
            "EXPOSE", "VOLUME", "SHELL", "ONBUILD", "HEALTHCHECK", "STOPSIGNAL", "MAINTAINER", "# escape=",
            "# syntax=", "<<EOF", "EOF", "\\", "`", "--mount=", "--from=", "${", "}", ":-", "[", "]", "\"", "\n")


def check_dockerfile(data: bytes) -> None:
    from pybuildkit.api import parse

    try:
        parse(data)
    except PybuildkitError:
        pass


tokens = st.lists(st.one_of(st.sampled_from(KEYWORDS), st.text(max_size=8)), max_size=40).map(" ".join)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(("insert", "delete", "flip")))
        if action == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=6) | st.sampled_from(KEYWORDS).map(str.encode))
        elif action == "delete" and data:
            del data[pos : pos + draw(st.integers(1, 8))]
        elif data:
            data[min(pos, len(data) - 1)] ^= 1 << draw(st.integers(0, 7))
    return bytes(data)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    check_dockerfile(data)


@FUZZ
@given(tokens)
def test_keyword_soup(text: str) -> None:
    check_dockerfile(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(mutated())
def test_mutated_seeds(data: bytes) -> None:
    check_dockerfile(data)
