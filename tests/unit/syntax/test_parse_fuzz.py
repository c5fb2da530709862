"""No input makes the parser raise anything but a pybuildkit error.

Random text and the real-world corpus mutated (pieces inserted, deleted, duplicated, bytes
flipped) go through `parse` and `dump`; the only acceptable failure is a `PybuildkitError`, and a
located one at that. About 200 examples in all, so it stays fast.
"""

from __future__ import annotations


from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybuildkit.errors import DockerfileError, PybuildkitError
from pybuildkit.syntax import dump, parse
from tests.conftest import conformance_root

_ROOT = conformance_root()
_CORPUS = (
    [p.read_bytes() for p in sorted((_ROOT / "real-world").glob("*.Dockerfile"))]
    if _ROOT is not None
    else []
) or [b"FROM busybox\nRUN echo hi\n"]

# Pieces of Dockerfile syntax that reach the interesting corners of the parser.
_PIECES = [
    "\n", "\r\n", "\\\n", "`\n", "\\", "`", " ", "\t", "\u00a0", "\u2028", "\ufeff", "#", "# escape=`\n",
    "# escape=\\\n", "# syntax=x\n", "--", "--flag=", "--a='b c'", '"', "'", "[", "]", '["a", 1]', '["x"]',
    "{", "}", "<<", "<<-", "<<EOF", "<<'EOF'", "EOF\n", "3<<X", "$", "${", "${a:-b}", "=", "a=b",
    "ONBUILD ", "RUN ", "COPY ", "ADD ", "ENV ", "LABEL ", "ARG ", "HEALTHCHECK ", "CMD ", "FROM ",
    "\x00", "\x85", "é", "😀",
]

_TEXT = st.lists(
    st.one_of(st.sampled_from(_PIECES), st.text(max_size=8)), max_size=40
).map("".join)


def _check(data: str | bytes) -> None:
    try:
        document = parse(data)
    except DockerfileError as exc:
        assert exc.span is not None and exc.span.line >= 1
        exc.render().encode("utf-8")
        return
    except PybuildkitError:
        return
    text = dump(document)
    assert text.count("\n") == len(document.nodes)
    text.encode("utf-8", "surrogateescape")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_random_text(text: str) -> None:
    _check(text)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_CORPUS)))
    for _ in range(draw(st.integers(1, 6))):
        where = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "duplicate", "byte"]))
        if action == "insert":
            data[where:where] = draw(st.sampled_from(_PIECES)).encode("utf-8")
        elif action == "delete":
            del data[where : where + draw(st.integers(1, 40))]
        elif action == "duplicate":
            data[where:where] = data[where : where + draw(st.integers(1, 200))]
        elif data:
            data[min(where, len(data) - 1)] = draw(st.integers(0, 255))
    return bytes(data)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_mutated_real_world_files(data: bytes) -> None:
    _check(data)
