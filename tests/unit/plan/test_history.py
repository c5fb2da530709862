"""Go formatting used in history texts: Duration.String and %q / %v of string slices."""

from __future__ import annotations

import pytest

from pybuildkit.plan.history import go_duration, go_list, go_quote_list, run_text

DURATIONS = [
    (0, "0s"),
    (1, "1ns"),
    (1_500, "1.5µs"),
    (500_000_000, "500ms"),
    (1_250_000, "1.25ms"),
    (1_000_000_000, "1s"),
    (1_500_000_000, "1.5s"),
    (30_000_000_000, "30s"),
    (90_000_000_000, "1m30s"),
    (3_600_000_000_000, "1h0m0s"),
    (3_723_000_000_000, "1h2m3s"),
    (-2_000_000_000, "-2s"),
]


@pytest.mark.parametrize(("ns", "text"), DURATIONS)
def test_go_duration(ns: int, text: str) -> None:
    assert go_duration(ns) == text


@pytest.mark.parametrize(
    ("items", "quoted", "plain"),
    [
        ((), "[]", "[]"),
        (("/bin/sh", "-c", "echo hi"), '["/bin/sh" "-c" "echo hi"]', "[/bin/sh -c echo hi]"),
        (('a"b', "t\tab", "\x00"), '["a\\"b" "t\\tab" "\\x00"]', '[a"b t\tab \x00]'),
        (("héllo",), '["héllo"]', "[héllo]"),
    ],
)
def test_go_slices(items: tuple[str, ...], quoted: str, plain: str) -> None:
    assert go_quote_list(items) == quoted
    assert go_list(items) == plain


def test_run_text_prefixes_args() -> None:
    assert run_text(("/bin/sh", "-c", "x"), []) == "RUN /bin/sh -c x # buildkit"
    assert run_text(("a",), [("K", "v"), ("E", "")]) == "RUN |2 K=v E= a # buildkit"
