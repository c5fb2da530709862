"""Random Dockerfiles: planning either succeeds or raises a project error (never a traceback)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybuildkit.errors import PybuildkitError

from .support import FakeResolver, image, make_plan

_WORDS = st.sampled_from(
    ["a", "$A", "${B:-x}", "/p/", ".", "..", "''", '""', "${A:?no}", "0", "1", "base", "stage", "$", "x y", "--from=0"]
)
_LINES = st.one_of(
    st.builds(lambda w: f"ARG A={w}", _WORDS),
    st.builds(lambda w: f"ENV B={w}", _WORDS),
    st.builds(lambda w: f"WORKDIR {w}", _WORDS),
    st.builds(lambda a, b: f"COPY {a} {b}", _WORDS, _WORDS),
    st.builds(lambda a, b: f"COPY --from={a} {b} /d/", _WORDS, _WORDS),
    st.builds(lambda w: f"RUN --mount=type=cache,target={w} echo", _WORDS),
    st.builds(lambda w: f"RUN --mount=from={w},target=/m echo", _WORDS),
    st.builds(lambda w: f"USER {w}", _WORDS),
    st.builds(lambda w: f"EXPOSE {w}", _WORDS),
    st.builds(lambda w: f"VOLUME {w}", _WORDS),
    st.builds(lambda w: f"LABEL l={w}", _WORDS),
    st.builds(lambda w: f"STOPSIGNAL {w}", _WORDS),
    st.builds(lambda w: f"FROM {w} AS stage", _WORDS),
    st.builds(lambda w: f"FROM {w}", _WORDS),
    st.just("ONBUILD RUN hook"),
    st.just("CMD run"),
    st.just('ENTRYPOINT ["e"]'),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_LINES, max_size=8), st.sampled_from([None, "stage", "Stage", "nope"]))
def test_random_dockerfiles_plan_or_fail_cleanly(lines: list[str], target: str | None) -> None:
    text = "ARG A=1\nFROM base\n" + "\n".join(lines) + "\n"
    resolver = FakeResolver({"base": image(on_build=("COPY --from=0 /x /y",))})
    try:
        make_plan(text, resolver, target=target, build_args={"A": "2"})
    except PybuildkitError:
        pass
