"""ONBUILD triggers of a base (image or stage), unused --build-arg warnings, and purity."""

from __future__ import annotations

from pathlib import Path

import pytest

import pybuildkit.plan
from pybuildkit.errors import DockerfileError
from pybuildkit.plan import ExecOp, FileOp, SourceOp
from tests.support.layering import IO_MODULES, layering_problems

from .support import FakeResolver, image, make_plan, ops_of


def test_base_image_triggers_run_first_and_are_cleared() -> None:
    resolver = FakeResolver({"base": image(on_build=("RUN echo trigger", "ENV T=1"))})
    result = make_plan("FROM base\nRUN mine\n", resolver)
    ops = ops_of(result)
    assert isinstance(ops[0], SourceOp)
    assert ops[1].created_by == "RUN /bin/sh -c echo trigger # buildkit"
    assert ops[2].created_by == "ENV T=1"
    assert ops[3].created_by == "RUN /bin/sh -c mine # buildkit"
    assert result.image.config.on_build == ()
    assert ops[1].span == ops[0].span


def test_stage_onbuild_runs_in_child_stage_not_in_own() -> None:
    result = make_plan("FROM scratch AS parent\nONBUILD RUN hook\nRUN own\nFROM parent\nRUN child\n")
    parent, child = result.stages
    assert [op.created_by for op in parent.ops if isinstance(op, ExecOp)] == ["RUN /bin/sh -c own # buildkit"]
    assert [op.created_by for op in child.ops if isinstance(op, ExecOp)] == [
        "RUN /bin/sh -c hook # buildkit",
        "RUN /bin/sh -c child # buildkit",
    ]
    assert parent.image.config.on_build == ("RUN hook",)
    assert child.image.config.on_build == ()


def test_trigger_copy_from_stage_becomes_a_dependency() -> None:
    text = "FROM scratch AS assets\nRUN a\nFROM scratch AS parent\nONBUILD COPY --from=assets /a /a\nFROM parent\n"
    result = make_plan(text)
    assert [s.name for s in result.stages] == ["assets", "parent", "stage-2"]
    copy = [op for op in result.stages[-1].ops if isinstance(op, FileOp)][0]
    assert copy.sources[0].input == result.stages[0].result


def test_image_trigger_can_reference_an_earlier_unneeded_stage() -> None:
    resolver = FakeResolver({"base": image(on_build=("COPY --from=extra /e /e",))})
    result = make_plan("FROM scratch AS extra\nRUN e\nFROM base\n", resolver)
    assert [s.name for s in result.stages] == ["extra", "stage-1"]


def test_bad_trigger_points_at_from() -> None:
    resolver = FakeResolver({"base": image(on_build=("NOPE x",))})
    with pytest.raises(DockerfileError) as info:
        make_plan("FROM scratch\nFROM base\n", resolver)
    assert info.value.span is not None and info.value.span.line == 2


def test_unused_build_arg_warning() -> None:
    result = make_plan("ARG G\nFROM scratch\nARG A\nRUN x\n", build_args={"A": "1", "G": "2", "NOPE": "3", "HTTP_PROXY": "p"})
    assert [w.message for w in result.warnings] == ["[Warning] One or more build-args [G NOPE] were not consumed"]
    assert result.build_args_used == {"A", "HTTP_PROXY"}


@pytest.mark.parametrize(
    "text",
    ["ARG G\nFROM scratch\nARG G\n", "ARG G\nFROM ${G:-scratch}\n", "ARG G\nFROM scratch AS a\nFROM scratch\nCOPY --from=${G} / /\n"],
)
def test_global_arg_consumed_when_used(text: str) -> None:
    result = make_plan(text, build_args={"G": "a"} if "COPY" in text else {"G": "scratch"})
    assert not result.warnings
    assert result.build_args_used == {"G"}


def test_args_of_pruned_stages_are_not_consumed() -> None:
    result = make_plan("FROM scratch AS other\nARG A\nFROM scratch\n", build_args={"A": "1"})
    assert result.warnings and result.build_args_used == frozenset()


ALLOWED = ("pybuildkit.errors", "pybuildkit.syntax", "pybuildkit.model", "pybuildkit.oci", "pybuildkit.plan")


@pytest.mark.parametrize("path", sorted(Path(pybuildkit.plan.__file__).parent.glob("*.py")), ids=lambda p: p.name)
def test_plan_module_is_pure_and_layered(path: Path) -> None:
    assert layering_problems(path, allowed=ALLOWED, forbidden=IO_MODULES) == []


@pytest.mark.parametrize(("trigger", "message"), [("FROM x", "FROM isn't allowed"), ("ONBUILD RUN x", "Chaining ONBUILD")])
def test_forbidden_image_triggers(trigger: str, message: str) -> None:
    resolver = FakeResolver({"base": image(on_build=(trigger,))})
    with pytest.raises(DockerfileError, match=message):
        make_plan("FROM base\n", resolver)
