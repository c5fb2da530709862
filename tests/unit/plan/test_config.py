"""Image config evolution per instruction, and the history text each step records."""

from __future__ import annotations

from typing import Any

import pytest

from pybuildkit.oci.config import Healthcheck
from pybuildkit.plan import ConfigOp, ExecOp, FileOp

from .support import FakeResolver, image, last, make_plan, ops_of

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# (id, instructions after `FROM base`, base config, expected ImageConfig fields after them)
CONFIG_CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("env-appends", "ENV A=1 B=2", {}, {"env": (DEFAULT_PATH, "A=1", "B=2")}),
    ("env-replaces-in-place", "ENV A=3", {"env": ("A=1", "PATH=/bin")}, {"env": ("A=3", "PATH=/bin")}),
    ("path-kept-from-base", "ENV A=1", {"env": ("PATH=/x",)}, {"env": ("PATH=/x", "A=1")}),
    ("cmd-shell-form", "CMD echo hi", {}, {"cmd": ("/bin/sh", "-c", "echo hi"), "args_escaped": True}),
    ("cmd-exec-form", 'CMD ["a", "b"]', {}, {"cmd": ("a", "b")}),
    ("cmd-uses-shell", 'SHELL ["/bin/bash", "-xc"]\nCMD echo', {}, {"cmd": ("/bin/bash", "-xc", "echo"), "shell": ("/bin/bash", "-xc")}),
    ("entrypoint-resets-base-cmd", 'ENTRYPOINT ["e"]', {"cmd": ("c",)}, {"entrypoint": ("e",), "cmd": None}),
    ("entrypoint-keeps-cmd-of-stage", 'CMD ["c"]\nENTRYPOINT ["e"]', {}, {"entrypoint": ("e",), "cmd": ("c",)}),
    ("cmd-after-entrypoint", 'ENTRYPOINT ["e"]\nCMD ["c"]', {"cmd": ("old",)}, {"entrypoint": ("e",), "cmd": ("c",)}),
    ("workdir-absolute", "WORKDIR /app", {}, {"working_dir": "/app"}),
    ("workdir-relative", "WORKDIR /a\nWORKDIR b/../c", {}, {"working_dir": "/a/c"}),
    ("workdir-relative-to-base", "WORKDIR sub", {"working_dir": "/srv"}, {"working_dir": "/srv/sub"}),
    ("workdir-relative-no-base", "WORKDIR sub", {}, {"working_dir": "/sub"}),
    ("workdir-expands", "ENV D=/opt\nWORKDIR $D/x", {}, {"working_dir": "/opt/x"}),
    ("user", "ARG U=app\nUSER $U:grp", {}, {"user": "app:grp"}),
    ("expose", "EXPOSE 80 53/udp 8000-8001", {"exposed_ports": ("22/tcp",)}, {"exposed_ports": ("22/tcp", "53/udp", "80/tcp", "8000/tcp", "8001/tcp")}),
    ("expose-expands", "ENV P=443\nEXPOSE $P", {}, {"exposed_ports": ("443/tcp",)}),
    ("volume", 'VOLUME /data\nVOLUME ["/b", "/a"]', {"volumes": ("/z",)}, {"volumes": ("/a", "/b", "/data", "/z")}),
    ("label-merges", 'LABEL a=1 "b c"=2', {"labels": {"a": "0", "z": "9"}}, {"labels": {"a": "1", "b c": "2", "z": "9"}}),
    ("stopsignal", "STOPSIGNAL SIGTERM", {}, {"stop_signal": "SIGTERM"}),
    ("onbuild-recorded", "ONBUILD RUN echo", {}, {"on_build": ("RUN echo",)}),
    ("shell", 'SHELL ["/bin/ash", "-c"]', {}, {"shell": ("/bin/ash", "-c")}),
    (
        "healthcheck-replaces",
        "HEALTHCHECK --interval=5s CMD true",
        {"healthcheck": Healthcheck(test=("CMD", "x"), timeout=7)},
        {"healthcheck": Healthcheck(test=("CMD-SHELL", "true"), interval=5_000_000_000)},
    ),
    ("healthcheck-none", "HEALTHCHECK NONE", {}, {"healthcheck": Healthcheck(test=("NONE",))}),
]


@pytest.mark.parametrize(("steps", "base", "expected"), [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES])
def test_config_evolves(steps: str, base: dict[str, Any], expected: dict[str, Any]) -> None:
    resolver = FakeResolver({"base": image(**base)})
    config = make_plan(f"FROM base\n{steps}\n", resolver).image.config
    for field, value in expected.items():
        actual = getattr(config, field)
        if field == "labels":
            actual = dict(actual)
        assert actual == value, field


def test_scratch_has_root_workdir_and_default_path() -> None:
    config = make_plan("FROM scratch\n").image.config
    assert config.working_dir == "/" and config.env == (DEFAULT_PATH,)


def test_maintainer_sets_author() -> None:
    result = make_plan("FROM scratch\nMAINTAINER Jane <j@x>\n")
    assert result.image.author == "Jane <j@x>"
    assert last(result).created_by == "MAINTAINER Jane <j@x>"


def test_each_op_carries_the_config_after_it() -> None:
    ops = ops_of(make_plan("FROM scratch\nENV A=1\nUSER u\nENV B=2\n"))
    assert [op.config.config.user for op in ops] == ["", "", "u", "u"]
    assert "B=2" not in ops[2].config.config.env and "B=2" in ops[3].config.config.env


def test_labels_option_applies_to_final_image_only() -> None:
    result = make_plan("FROM scratch AS a\nLABEL x=1\nFROM a\nLABEL y=2\n", labels={"x": "cli", "z": "3"})
    assert dict(result.image.config.labels) == {"x": "cli", "y": "2", "z": "3"}
    assert dict(last(result).config.config.labels) == {"x": "1", "y": "2"}


def test_stage_labels_propagate_through_from_stage() -> None:
    text = "FROM scratch AS base\nLABEL marker=base\nFROM base AS sibling\nLABEL marker=sibling\nFROM base\nCOPY --from=sibling / /\n"
    assert dict(make_plan(text).image.config.labels) == {"marker": "base"}


def test_base_history_kept_and_created_cleared() -> None:
    from pybuildkit.oci.config import History, Image

    base = Image(created="2020-01-01T00:00:00Z", history=(History(created_by="base step"),))
    result = make_plan("FROM base\nENV A=1\n", FakeResolver({"base": base}))
    assert result.image.created is None
    assert [h.created_by for h in result.image.history] == ["base step"]


# (id, dockerfile line after `FROM scratch`, expected created_by, expected empty_layer, op type)
HISTORY_CASES = [
    ("env", "ENV A=1 B=\"x y\"", "ENV A=1 B=x y", True, ConfigOp),
    ("env-legacy", "ENV A hello world", "ENV A=hello world", True, ConfigOp),
    ("label", 'LABEL "a b"=c', "LABEL a b=c", True, ConfigOp),
    ("arg", "ARG A=1 B", "ARG A=1 B", True, ConfigOp),
    ("cmd-shell", "CMD echo hi", 'CMD ["/bin/sh" "-c" "echo hi"]', True, ConfigOp),
    ("cmd-exec", 'CMD ["a\\"b"]', 'CMD ["a\\"b"]', True, ConfigOp),
    ("entrypoint", 'ENTRYPOINT ["x", "y"]', 'ENTRYPOINT ["x" "y"]', True, ConfigOp),
    ("expose", "EXPOSE 80/tcp 90", "EXPOSE 80/tcp 90", True, ConfigOp),
    ("volume", "VOLUME /a /b", "VOLUME [/a /b]", True, ConfigOp),
    ("user", "USER nobody", "USER nobody", True, ConfigOp),
    ("stopsignal", "STOPSIGNAL 9", "STOPSIGNAL 9", True, ConfigOp),
    ("shell", 'SHELL ["/bin/bash", "-c"]', "SHELL [/bin/bash -c]", True, ConfigOp),
    (
        "healthcheck",
        "HEALTHCHECK --interval=1m30s --timeout=500ms --retries=3 CMD curl -f x",
        "HEALTHCHECK {Test:[CMD-SHELL curl -f x] Interval:1m30s Timeout:500ms StartPeriod:0s StartInterval:0s Retries:3}",
        True,
        ConfigOp,
    ),
    ("workdir", "WORKDIR /app", "WORKDIR /app", False, FileOp),
    ("workdir-root", "WORKDIR /", "WORKDIR /", True, ConfigOp),
    ("run-shell", "RUN echo hi", "RUN /bin/sh -c echo hi # buildkit", False, ExecOp),
    ("run-exec", 'RUN ["ls", "-l"]', "RUN ls -l # buildkit", False, ExecOp),
    ("copy", "COPY f1 f2 /sub/", "COPY f1 f2 /sub/ # buildkit", False, FileOp),
    ("copy-flags", "COPY --chown=1:2 --chmod=755 --link f /x", "COPY --chown=1:2 --chmod=755 f /x # buildkit", False, FileOp),
    ("copy-parents", "COPY --parents a/b /x/", "COPY --parents a/b /x/ # buildkit", False, FileOp),
    ("copy-from", "COPY --from=alpine /etc/os-release /", "COPY /etc/os-release / # buildkit", False, FileOp),
    ("add-url", "ADD https://example.com/f.tgz /", "ADD https://example.com/f.tgz / # buildkit", False, FileOp),
    ("copy-heredoc", "COPY <<EOF /f\nhi\nEOF", "COPY <<EOF /f # buildkit", False, FileOp),
]


@pytest.mark.parametrize(
    ("line", "created_by", "empty_layer", "kind"), [c[1:] for c in HISTORY_CASES], ids=[c[0] for c in HISTORY_CASES]
)
def test_history_text(line: str, created_by: str, empty_layer: bool, kind: type) -> None:
    op = last(make_plan(f"FROM scratch\n{line}\n"))
    assert isinstance(op, kind)
    assert op.created_by == created_by
    assert op.empty_layer is empty_layer
    history = op.history()
    assert history.created_by == created_by and history.comment == "buildkit.dockerfile.v0"


def test_run_history_lists_args_in_scope() -> None:
    op = last(make_plan("FROM scratch\nARG A=1\nARG B\nENV A=2\nRUN x\n"))
    assert op.created_by == "RUN |2 A=2 B= /bin/sh -c x # buildkit"


def test_onbuild_writes_no_history() -> None:
    op = last(make_plan("FROM scratch\nONBUILD RUN x\n"))
    assert op.created_by == "" and not op.has_history


def test_display_names_and_steps() -> None:
    result = make_plan('FROM busybox AS a\nARG T=all\nRUN make $T $UNSET "q"\nRUN <<EOF\necho a\necho b\nEOF\nENV X=1\nWORKDIR /w\n')
    stage = result.stages[0]
    assert [op.display for op in stage.steps] == [
        "FROM busybox",
        'RUN make all $UNSET "q"',
        "RUN <<EOF (echo a...)",
        "WORKDIR /w",
    ]
