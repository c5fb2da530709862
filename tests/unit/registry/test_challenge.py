"""WWW-Authenticate parsing: the shapes real registries send, and malformed ones that must not crash."""

from __future__ import annotations

import pytest

pytest.importorskip("httpx", reason="httpx is not installed: add it to pyproject dependencies (pybuildkit.registry needs it)")

from pybuildkit.registry.challenge import Challenge, parse_www_authenticate

HUB = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'

CASES = [
    ("", ()),
    ('Basic realm="pybuildkit-test"', (Challenge.of("basic", {"realm": "pybuildkit-test"}),)),
    (
        HUB,
        (
            Challenge.of(
                "bearer",
                {"realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/busybox:pull"},
            ),
        ),
    ),
    # A comma inside a quoted scope (two actions) is not a separator.
    ('Bearer realm="r",scope="repository:a/b:pull,push"', (Challenge.of("bearer", {"realm": "r", "scope": "repository:a/b:pull,push"}),)),
    # Case-insensitive scheme and names; spaces around `=` and after commas.
    ('BEARER Realm = "r" ,  Service=svc', (Challenge.of("bearer", {"realm": "r", "service": "svc"}),)),
    # Unquoted token values.
    ("Basic realm=registry", (Challenge.of("basic", {"realm": "registry"}),)),
    # Two challenges in one header.
    ('Basic realm="a", Bearer realm="b",service="s"', (Challenge.of("basic", {"realm": "a"}), Challenge.of("bearer", {"realm": "b", "service": "s"}))),
    # A scheme with no parameters, then another challenge.
    ('Negotiate, Basic realm="x"', (Challenge.of("negotiate"), Challenge.of("basic", {"realm": "x"}))),
    # token68 after the scheme.
    ("Negotiate abc123==", (Challenge(scheme="negotiate", token68="abc123=="),)),
    # Backslash escapes inside a quoted-string.
    (r'Basic realm="say \"hi\""', (Challenge.of("basic", {"realm": 'say "hi"'}),)),
    # The first of a repeated parameter wins.
    ('Basic realm="one", realm="two"', (Challenge.of("basic", {"realm": "one"}),)),
    # Malformed: an unterminated quote runs to the end, stray separators are skipped.
    ('Bearer realm="https://x/token', (Challenge.of("bearer", {"realm": "https://x/token"}),)),
    (",,, Basic ,, realm=x", (Challenge.of("basic", {"realm": "x"}),)),
    ('="x" Basic', (Challenge.of("basic"),)),
    ("realm=x", ()),
]


@pytest.mark.parametrize(("header", "expected"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_parse(header: str, expected: tuple[Challenge, ...]) -> None:
    assert parse_www_authenticate(header) == expected


def test_accessors() -> None:
    (challenge,) = parse_www_authenticate(HUB)
    assert challenge.realm == "https://auth.docker.io/token"
    assert challenge.service == "registry.docker.io"
    assert challenge.scope == "repository:library/busybox:pull"


@pytest.mark.parametrize("header", ['"', "=", "Basic =", 'Basic realm="', "\\", "Bearer ,=,=,", "a b c d", "x=" * 50])
def test_garbage_never_raises(header: str) -> None:
    for challenge in parse_www_authenticate(header):
        assert challenge.scheme
