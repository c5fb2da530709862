"""History `created_by` texts, byte for byte as BuildKit writes them.

Tools (`docker history`, registries' UIs, diff tools comparing our images with BuildKit's) show
these strings, and BuildKit builds them with Go's `fmt` verbs (`%q` of a string slice, `%v`, `%+v`
of a struct with durations), so the Go formatting rules are reproduced here rather than approximated
with Python's repr or JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pybuildkit.oci.config import Healthcheck
from pybuildkit.syntax.gostr import go_quote

__all__ = [
    "go_quote_list",
    "go_list",
    "go_duration",
    "healthcheck_text",
    "run_text",
]

def go_quote_list(items: Iterable[str]) -> str:
    """`fmt.Sprintf("%q", []string{...})`: `["a" "b"]`."""
    return "[" + " ".join(go_quote(i) for i in items) + "]"


def go_list(items: Iterable[str]) -> str:
    """`fmt.Sprintf("%v", []string{...})`: `[a b]`."""
    return "[" + " ".join(items) + "]"


def _fraction(value: int, digits: int) -> str:
    """Go's fmtFrac: `.ddd` with trailing zeros dropped, empty when zero."""
    text = f"{value:0{digits}d}".rstrip("0")
    return f".{text}" if text else ""


def go_duration(ns: int) -> str:
    """Go's `time.Duration.String()` (`0s`, `1.5s`, `1m30s`, `1h0m0s`, `500ms`, `2µs`)."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < 1_000_000_000:
        if u < 1_000:
            return f"{sign}{u}ns"
        if u < 1_000_000:
            return f"{sign}{u // 1_000}{_fraction(u % 1_000, 3)}µs"
        return f"{sign}{u // 1_000_000}{_fraction(u % 1_000_000, 6)}ms"
    seconds, frac = divmod(u, 1_000_000_000)
    text = f"{seconds % 60}{_fraction(frac, 9)}s"
    minutes = seconds // 60
    if minutes:
        text = f"{minutes % 60}m{text}"
        hours = minutes // 60
        if hours:
            text = f"{hours}h{text}"
    return sign + text


def healthcheck_text(health: Healthcheck) -> str:
    """`HEALTHCHECK %+v` of Docker's HealthcheckConfig, as BuildKit records it."""
    return (
        f"HEALTHCHECK {{Test:{go_list(health.test)} Interval:{go_duration(health.interval)} "
        f"Timeout:{go_duration(health.timeout)} StartPeriod:{go_duration(health.start_period)} "
        f"StartInterval:{go_duration(health.start_interval)} Retries:{health.retries}}}"
    )


def run_text(argv: Sequence[str], build_args: Sequence[tuple[str, str]]) -> str:
    """`RUN [|N K=V...] argv... # buildkit`: BuildKit lists the ARGs in scope before the command."""
    prefix: list[str] = []
    if build_args:
        prefix = [f"|{len(build_args)}", *(f"{k}={v}" for k, v in build_args)]
    return "RUN " + " ".join([*prefix, *argv]) + " # buildkit"
