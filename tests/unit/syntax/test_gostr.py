"""Go string semantics: strconv.Quote, unicode.IsSpace trimming, the byte view."""

from __future__ import annotations

import pytest

from pybuildkit.syntax.gostr import (
    from_byte_view,
    go_lower,
    go_quote,
    go_trim_space,
    to_byte_view,
)


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("", '""'),
        ("plain text", '"plain text"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("\a\b\f\n\r\t\v", '"\\a\\b\\f\\n\\r\\t\\v"'),
        ("nul\x00del\x7f esc\x1b", '"nul\\x00del\\x7f esc\\x1b"'),
        ("♥ 한국어 é", '"♥ 한국어 é"'),
        ("nbsp\u00a0ls\u2028", '"nbsp\\u00a0ls\\u2028"'),
        ("\u0085", '"\\u0085"'),
        ("bom\ufeff", '"bom\\ufeff"'),
        ("emoji 😀", '"emoji 😀"'),
        ("\U000e0001", '"\\U000e0001"'),
        (b"bad \xff\xc3 utf8".decode("utf-8", "surrogateescape"), '"bad \\xff\\xc3 utf8"'),
    ],
)
def test_go_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted


@pytest.mark.parametrize(
    ("text", "trimmed"),
    [
        ("  a b \t", "a b"),
        ("\u00a0\u3000x\u2029\x85", "x"),
        ("\x1cx\x1f", "\x1cx\x1f"),  # Python's isspace() says yes, Go's IsSpace says no
        ("", ""),
    ],
)
def test_go_trim_space(text: str, trimmed: str) -> None:
    assert go_trim_space(text) == trimmed


@pytest.mark.parametrize("text", ["ascii", "é♥😀", b"\xff\xfe".decode("utf-8", "surrogateescape")])
def test_byte_view_round_trips(text: str) -> None:
    view = to_byte_view(text)
    assert all(ord(ch) < 256 for ch in view)
    assert from_byte_view(view) == text


def test_go_lower_is_rune_for_rune() -> None:
    assert go_lower("RUN") == "run"
    assert go_lower("\u0130X") == "ix"
