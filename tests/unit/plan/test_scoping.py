"""ARG/ENV scoping, as BuildKit resolves it: which value each reference sees, and where."""

from __future__ import annotations

import pytest

from pybuildkit.plan import ExecOp, SourceOp
from pybuildkit.syntax.shell import env_from_list

from .support import make_plan, ops_of, run_ops

# (id, dockerfile, options, expected value of X in the final image ENV)
ENV_CASES = [
    ("global-not-visible-in-stage", "ARG V=1\nFROM scratch\nENV X=a$V\n", {}, "a"),
    ("redeclared-imports-global-default", "ARG V=1\nFROM scratch\nARG V\nENV X=$V\n", {}, "1"),
    ("build-arg-overrides-global", "ARG V=1\nFROM scratch\nARG V\nENV X=$V\n", {"V": "2"}, "2"),
    ("build-arg-overrides-stage-default", "FROM scratch\nARG V=1\nENV X=$V\n", {"V": "2"}, "2"),
    ("stage-default-beats-global", "ARG V=1\nFROM scratch\nARG V=3\nENV X=$V\n", {}, "3"),
    ("arg-in-scope-from-its-line", "FROM scratch\nENV X=a$V\nARG V=3\n", {}, "a"),
    ("env-beats-arg", "FROM scratch\nARG V=1\nENV V=2\nENV X=$V\n", {"V": "9"}, "2"),
    ("undeclared-build-arg-invisible", "FROM scratch\nENV X=a$V\n", {"V": "1"}, "a"),
    ("arg-default-uses-earlier-arg", "FROM scratch\nARG A=1\nARG B=${A}2\nENV X=$B\n", {}, "12"),
    ("global-default-uses-platform", "ARG A=$TARGETARCH\nFROM scratch\nARG A\nENV X=$A\n", {}, "amd64"),
    ("platform-arg-needs-declaration", "FROM scratch\nENV X=a$TARGETOS\n", {}, "a"),
    ("platform-arg-declared", "FROM scratch\nARG TARGETOS\nARG TARGETARCH\nENV X=$TARGETOS/$TARGETARCH\n", {}, "linux/amd64"),
    ("platform-arg-follows-platform", "FROM scratch\nARG TARGETPLATFORM\nENV X=$TARGETPLATFORM\n", {"platform": "linux/arm64"}, "linux/arm64"),
    ("build-platform", "FROM scratch\nARG BUILDPLATFORM\nENV X=$BUILDPLATFORM\n", {}, "linux/amd64"),
    ("build-platform-is-host", "FROM scratch\nARG BUILDARCH\nARG TARGETARCH\nENV X=$BUILDARCH-$TARGETARCH\n", {"platform": "linux/arm64"}, "amd64-arm64"),
    ("arm-variant", "FROM scratch\nARG TARGETVARIANT\nENV X=v:$TARGETVARIANT\n", {"platform": "linux/arm/v6"}, "v:v6"),
    ("targetstage-default-last", "FROM scratch AS one\nFROM scratch AS Two\nARG TARGETSTAGE\nENV X=$TARGETSTAGE\n", {}, "two"),
    ("env-same-instruction-sees-old", "FROM scratch\nENV V=1\nENV V=2 X=$V\n", {}, "1"),
    ("arg-inherited-from-base-stage", "FROM scratch AS a\nARG V=5\nFROM a\nENV X=$V\n", {}, "5"),
    ("global-without-value-stays-unset", "ARG V\nFROM scratch\nARG V\nENV X=a${V:-d}\n", {}, "ad"),
]


def _split_options(options: dict[str, str]) -> dict[str, object]:
    options = dict(options)
    out: dict[str, object] = {}
    if "platform" in options:
        out["platform"] = options.pop("platform")
    out["build_args"] = options
    return out


@pytest.mark.parametrize(("dockerfile", "options", "expected"), [c[1:] for c in ENV_CASES], ids=[c[0] for c in ENV_CASES])
def test_env_sees_expected_value(dockerfile: str, options: dict[str, str], expected: str) -> None:
    result = make_plan(dockerfile, **_split_options(options))
    assert env_from_list(result.image.config.env)["X"] == expected


# (id, dockerfile, build args, expected RUN env entries present, names that must be absent)
RUN_ENV_CASES = [
    ("args-in-run-env", "FROM scratch\nARG A=1\nRUN x\n", {}, {"A": "1"}, set()),
    ("args-not-persisted", "FROM scratch\nARG A=1\nRUN x\n", {}, {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, set()),
    ("global-arg-not-in-run", "ARG G=1\nFROM scratch\nRUN x\n", {"G": "2"}, {}, {"G"}),
    ("undeclared-proxy-not-in-env", "FROM scratch\nRUN x\n", {"HTTP_PROXY": "http://p"}, {}, {"HTTP_PROXY"}),
    ("declared-proxy-in-env", "FROM scratch\nARG HTTP_PROXY\nRUN x\n", {"HTTP_PROXY": "http://p"}, {"HTTP_PROXY": "http://p"}, set()),
    ("env-overrides-arg-in-run", "FROM scratch\nARG A=1\nENV A=2\nRUN x\n", {}, {"A": "2"}, set()),
]


@pytest.mark.parametrize(
    ("dockerfile", "build_args", "present", "absent"),
    [c[1:] for c in RUN_ENV_CASES],
    ids=[c[0] for c in RUN_ENV_CASES],
)
def test_run_environment(dockerfile: str, build_args: dict[str, str], present: dict[str, str], absent: set[str]) -> None:
    (run,) = run_ops(make_plan(dockerfile, build_args=build_args))
    env = env_from_list(run.env)
    for key, value in present.items():
        assert env[key] == value
    assert not absent & set(env)


def test_args_never_reach_the_image_config() -> None:
    result = make_plan("FROM scratch\nARG A=1\nRUN x\n")
    assert "A" not in env_from_list(result.image.config.env)


def test_undeclared_proxy_reaches_run_but_not_history_or_key() -> None:
    (run,) = run_ops(make_plan("FROM scratch\nRUN x\n", build_args={"https_proxy": "http://p:1"}))
    assert run.proxy_env == {"HTTPS_PROXY": "http://p:1", "https_proxy": "http://p:1"}
    assert "proxy" not in run.created_by
    assert "proxy" not in repr(run.key_fields()).lower()
    assert not run.build_args


def test_declared_proxy_is_an_ordinary_arg() -> None:
    (run,) = run_ops(make_plan("FROM scratch\nARG http_proxy\nRUN x\n", build_args={"http_proxy": "http://p"}))
    assert run.created_by == "RUN |1 http_proxy=http://p /bin/sh -c x # buildkit"
    assert "http_proxy" not in run.proxy_env
    assert run.build_args == {"http_proxy": "http://p"}


@pytest.mark.parametrize(
    ("build_args", "expected"),
    [({}, "busybox"), ({"IMG": "alpine:3"}, "alpine:3")],
)
def test_from_expands_global_args(build_args: dict[str, str], expected: str) -> None:
    result = make_plan("ARG IMG=busybox\nFROM ${IMG}\n", build_args=build_args)
    source = ops_of(result)[0]
    assert isinstance(source, SourceOp) and source.kind == "image" and source.ref == expected


def test_run_build_args_record_all_args_in_scope() -> None:
    result = make_plan("FROM scratch\nARG A=1\nRUN one\nARG B=2\nRUN two\n")
    first, second = run_ops(result)
    assert first.build_args == {"A": "1"}
    assert second.build_args == {"A": "1", "B": "2"}


def test_file_op_records_only_args_it_reads() -> None:
    result = make_plan("FROM scratch\nARG A=1\nARG B=2\nCOPY $A /dst/\nCOPY x /y\n")
    copies = [op for op in ops_of(result) if op.created_by.startswith("COPY")]
    assert [dict(op.build_args) for op in copies] == [{"A": "1"}, {}]


def test_changed_arg_changes_only_ops_from_first_use() -> None:
    text = "FROM scratch\nCOPY a /a\nARG V=1\nCOPY b /b\nRUN use $V\n"
    one = make_plan(text, build_args={"V": "1"})
    two = make_plan(text, build_args={"V": "2"})
    keys_one = [op.key_fields() for op in ops_of(one) if not op.created_by.startswith("ARG")]
    keys_two = [op.key_fields() for op in ops_of(two) if not op.created_by.startswith("ARG")]
    assert keys_one[:3] == keys_two[:3]
    assert keys_one[3] != keys_two[3]
    assert isinstance(ops_of(two)[-1], ExecOp)


@pytest.mark.parametrize(
    ("text", "used"),
    [
        ("FROM scratch\nARG V=1\nENV V=2\nCOPY $V /x\n", {}),
        ("FROM scratch\nENV V=2\nARG V=1\nCOPY $V /x\n", {"V": "1"}),
        ("FROM scratch AS a\nARG V=1\nFROM a\nCOPY $V /x\n", {"V": "1"}),
    ],
)
def test_args_used_follow_who_set_the_value_last(text: str, used: dict[str, str]) -> None:
    assert dict(ops_of(make_plan(text))[-1].build_args) == used
