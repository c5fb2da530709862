"""Stage graph: references, --target pruning, cycles, and the errors BuildKit reports for them."""

from __future__ import annotations

import pytest

from pybuildkit.errors import PlanError
from pybuildkit.plan import CONTEXT_ID, FileOp, SourceOp

from .support import FakeResolver, make_plan, ops_of

MULTI = """\
FROM busybox AS base
RUN base
FROM base AS Build
RUN build
FROM alpine AS unrelated
RUN other
FROM scratch AS final
COPY --from=build /out /out
"""


def test_default_target_is_last_stage_and_prunes_unused() -> None:
    resolver = FakeResolver()
    result = make_plan(MULTI, resolver)
    assert [s.name for s in result.stages] == ["base", "build", "final"]
    assert result.target == 3
    assert ("alpine", "linux/amd64") not in resolver.calls


@pytest.mark.parametrize("target", ["build", "BUILD", "Build"])
def test_target_is_case_insensitive(target: str) -> None:
    result = make_plan(MULTI, target=target)
    assert [s.name for s in result.stages] == ["base", "build"]
    assert result.target == 1


def test_unknown_target() -> None:
    with pytest.raises(PlanError, match='target stage "nosuch" could not be found'):
        make_plan(MULTI, target="nosuch")


def test_stages_in_topological_order_with_dependencies() -> None:
    result = make_plan(MULTI)
    order = [s.index for s in result.stages]
    for stage in result.stages:
        assert all(order.index(dep) < order.index(stage.index) for dep in stage.depends_on)
    assert {s.index: s.depends_on for s in result.stages} == {0: (), 1: (0,), 3: (1,)}


def test_independent_stages_do_not_depend_on_each_other() -> None:
    text = "FROM scratch AS a\nRUN a\nFROM scratch AS b\nRUN b\nFROM scratch\nCOPY --from=a /x /x\nCOPY --from=b /y /y\n"
    result = make_plan(text)
    by_name = {s.name: s for s in result.stages}
    assert by_name["a"].depends_on == () and by_name["b"].depends_on == ()
    assert by_name["stage-2"].depends_on == (0, 1)


def test_copy_from_stage_reads_that_stage_result() -> None:
    result = make_plan(MULTI)
    copy = ops_of(result)[-1]
    assert isinstance(copy, FileOp)
    build = next(s for s in result.stages if s.name == "build")
    assert copy.sources[0].input == build.result
    assert build.result in copy.inputs


@pytest.mark.parametrize("ref", ["0", "first", "FIRST"])
def test_copy_from_by_index_or_name(ref: str) -> None:
    result = make_plan(f"FROM scratch AS first\nRUN a\nFROM scratch\nCOPY --from={ref} /a /a\n")
    first = next(s for s in result.stages if s.index == 0)
    assert ops_of(result)[-1].sources[0].input == first.result


def test_copy_from_image_adds_a_deduplicated_image_source() -> None:
    result = make_plan("FROM scratch\nCOPY --from=alpine /a /a\nCOPY --from=alpine /b /b\n")
    ops = ops_of(result)
    sources = [op for op in ops if isinstance(op, SourceOp) and op.kind == "image"]
    assert len(sources) == 1 and sources[0].ref == "alpine"
    copies = [op for op in ops if isinstance(op, FileOp)]
    assert {c.sources[0].input for c in copies} == {sources[0].id}


def test_copy_without_from_reads_the_context() -> None:
    result = make_plan("FROM scratch\nCOPY a /a\n")
    assert ops_of(result)[-1].sources[0].input == CONTEXT_ID
    assert result.op(CONTEXT_ID) is result.context


def test_mount_from_stage_is_a_dependency() -> None:
    result = make_plan("FROM scratch AS tools\nRUN t\nFROM scratch\nRUN --mount=from=tools,target=/t use\n")
    tools = next(s for s in result.stages if s.name == "tools")
    run = ops_of(result)[-1]
    assert run.mounts[0].input == tools.result
    assert next(s for s in result.stages if s.index == 1).depends_on == (0,)


def test_from_value_expands_with_global_args() -> None:
    text = "ARG SRC=one\nFROM scratch AS one\nRUN 1\nFROM scratch AS two\nRUN 2\nFROM scratch\nCOPY --from=${SRC} / /\n"
    assert [s.name for s in make_plan(text).stages] == ["one", "stage-2"]
    assert [s.name for s in make_plan(text, build_args={"SRC": "two"}).stages] == ["two", "stage-2"]


ERROR_CASES = [
    ("self-cycle", "FROM busybox AS stage0\nCOPY --from=stage0 f1 /sub/\n", "circular dependency detected on stage: stage0", 2),
    (
        "three-cycle",
        "FROM busybox AS stage0\nCOPY --from=stage2 f1 /sub/\nFROM busybox AS stage1\nCOPY --from=stage0 f2 /sub/\n"
        "FROM busybox AS stage2\nCOPY --from=stage1 f2 /sub/\n",
        "circular dependency detected on stage: stage0",
        2,
    ),
    ("blank-base", "FROM ${BLANK} AS foo\n", "base name (${BLANK}) should not be blank", 1),
    ("empty-quoted-base", 'FROM "" AS foo\n', "should not be blank", 1),
    ("invalid-index", "FROM scratch\nCOPY --from=3 a /a\n", "invalid stage index 3", 2),
    (
        "copy-from-later-stage",
        "FROM scratch AS a\nCOPY --from=b /x /x\nFROM scratch AS b\nFROM a\n",
        'cannot copy from stage "b", it needs to be defined before current stage "a"',
        2,
    ),
    ("from-later-stage", "FROM later\nFROM scratch AS later\n", "defined after this FROM", 1),
    ("copy-url", "FROM scratch\nCOPY http://example.com/a /a\n", "source can't be a URL for COPY", 2),
    ("copy-git", "FROM scratch\nCOPY https://github.com/a/b.git /a\n", "source can't be a git ref for COPY", 2),
    ("bad-stopsignal", "FROM scratch\nSTOPSIGNAL NOPE\n", "Invalid signal: NOPE", 2),
    ("empty-volume", 'FROM scratch\nVOLUME ""\n', "VOLUME specified can not be an empty string", 2),
    ("bad-platform", "FROM --platform=$NOPE scratch\n", "empty platform value", 1),
    ("checksum-local", "FROM scratch\nADD --checksum=sha256:aa a /a\n", "checksum requires HTTP(S) or Git sources", 2),
    ("bad-chmod-after-expansion", "FROM scratch\nARG M=999\nCOPY --chmod=$M a /a\n", "invalid chmod parameter", 3),
]


@pytest.mark.parametrize(("dockerfile", "message", "line"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_plan_errors_point_at_the_line(dockerfile: str, message: str, line: int) -> None:
    with pytest.raises(PlanError) as info:
        make_plan(dockerfile)
    assert message in info.value.message
    assert info.value.span is not None and info.value.span.line == line
    assert "^" in info.value.render()


def test_cycle_outside_target_is_still_reported() -> None:
    with pytest.raises(PlanError, match="circular dependency"):
        make_plan("FROM scratch AS a\nCOPY --from=a / /\nFROM scratch AS b\n", target="b")


def test_forward_reference_outside_target_is_not_lowered() -> None:
    result = make_plan("FROM scratch AS a\nCOPY --from=b /x /x\nFROM scratch AS b\n", target="b")
    assert [s.name for s in result.stages] == ["b"]


def test_resolver_errors_get_the_from_line() -> None:
    from pybuildkit.errors import StoreError

    class Failing:
        def config_of(self, ref, platform):
            raise StoreError(f"image {ref} not found")

    from pybuildkit.model import parse_dockerfile
    from pybuildkit.plan import plan
    from pybuildkit.syntax import parse

    with pytest.raises(PlanError) as info:
        plan(parse_dockerfile(parse("FROM scratch\nRUN x\nFROM nothere\n")), None, Failing())
    assert info.value.span is not None and info.value.span.line == 3
    assert "nothere" in info.value.message


def test_plan_json_view_is_serialisable() -> None:
    import json

    result = make_plan(MULTI)
    data = json.loads(json.dumps(result.to_json()))
    assert [s["name"] for s in data["stages"]] == ["base", "build", "final"]
    assert data["result"] == result.result
    assert data["stages"][0]["ops"][0]["op"] == "source"
    assert [op.id for op in result.walk()][0] == CONTEXT_ID


def test_from_platform_uses_build_platform_and_reaches_resolver() -> None:
    resolver = FakeResolver()
    result = make_plan("FROM --platform=$BUILDPLATFORM golang AS b\nFROM alpine\nCOPY --from=b /x /x\n", resolver, platform="linux/arm64")
    assert ("golang", "linux/amd64") in resolver.calls and ("alpine", "linux/arm64") in resolver.calls
    assert {s.name: s.platform for s in result.stages} == {"b": "linux/amd64", "stage-1": "linux/arm64"}


def test_bad_platform_option_is_a_usage_error() -> None:
    from pybuildkit.errors import UsageError
    from pybuildkit.plan import PlanOptions

    with pytest.raises(UsageError):
        PlanOptions(platform="linux//")
