"""Go duration syntax (`1m30s`, `1.5h`, `300ms`) to nanoseconds.

HEALTHCHECK intervals are written in Go's `time.ParseDuration` syntax and stored in the image
config as integer nanoseconds, so the parser must accept exactly what Go accepts: a sign, then one
or more `number unit` pairs (fractions allowed), units ns, us, µs, μs, ms, s, m, h; a bare `0` is
the only unit-less value. Values are computed with integers so `0.1s` is exactly 100000000 ns.
"""

from __future__ import annotations

import re
from fractions import Fraction

__all__ = ["DurationError", "parse_go_duration", "MINIMUM_HEALTHCHECK_DURATION"]

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)([^0-9.]*)")
_INT64_MAX = (1 << 63) - 1

#: BuildKit refuses health-check durations below one millisecond (other than 0).
MINIMUM_HEALTHCHECK_DURATION = 1_000_000


def _q(text: str) -> str:
    return '"' + text + '"'


class DurationError(ValueError):
    """The text is not a Go duration; the caller turns it into a located Dockerfile error."""


def parse_go_duration(text: str) -> int:
    """Parse `text` like Go's ``time.ParseDuration`` and return nanoseconds (may be negative)."""
    original = text
    sign = 1
    if text[:1] in ("-", "+"):
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if text == "0":
        return 0
    if not text:
        raise DurationError(f"invalid duration {_q(original)}")
    total = Fraction(0)
    pos = 0
    while pos < len(text):
        match = _PART.match(text, pos)
        assert match is not None  # both groups may be empty, so the pattern always matches
        number, unit = match.groups()
        if number in ("", "."):
            raise DurationError(f"invalid duration {_q(original)}")
        scale = _UNITS.get(unit)
        if scale is None:
            if not unit:
                raise DurationError(f"missing unit in duration {_q(original)}")
            raise DurationError(f"unknown unit {_q(unit)} in duration {_q(original)}")
        total += Fraction(number) * scale
        if total > _INT64_MAX + 1:
            raise DurationError(f"invalid duration {_q(original)}")
        pos = match.end()
    nanos = int(total)  # Go truncates sub-nanosecond fractions
    if nanos > _INT64_MAX + (1 if sign < 0 else 0):
        raise DurationError(f"invalid duration {_q(original)}")
    return sign * nanos
