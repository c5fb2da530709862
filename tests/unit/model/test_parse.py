"""from_node: one AST node to one typed instruction, built from hand-made nodes (no parser needed)."""

from __future__ import annotations

import pytest

from pybuildkit.errors import DockerfileError, ParseError, PlanError, Span
from pybuildkit.model import (
    Add,
    Arg,
    ArgDef,
    Cmd,
    Copy,
    Device,
    Entrypoint,
    Env,
    Expose,
    From,
    HealthcheckInstr,
    InlineFile,
    KeyValue,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
    from_node,
)
from pybuildkit.syntax.ast import Heredoc, Node

SPAN = Span(line=7, column=1, end_line=7, file="Dockerfile.test")


def node(keyword: str, *args: str, **fields) -> Node:
    fields.setdefault("span", SPAN)
    fields.setdefault("original", " ".join((keyword.upper(), *fields.get("flags", ()), *args)))
    return Node(keyword=keyword, args=args, **fields)


def test_every_instruction_has_a_type():
    cases = [
        (node("from", "alpine"), From),
        (node("run", "true"), Run),
        (node("cmd", "true"), Cmd),
        (node("entrypoint", "true"), Entrypoint),
        (node("label", "a", "b", "="), Label),
        (node("maintainer", "me"), Maintainer),
        (node("expose", "80"), Expose),
        (node("env", "a", "b", "="), Env),
        (node("add", "a", "/b"), Add),
        (node("copy", "a", "/b"), Copy),
        (node("volume", "/data"), Volume),
        (node("user", "me"), User),
        (node("workdir", "/w"), Workdir),
        (node("arg", "a"), Arg),
        (node("onbuild", child=node("run", "true")), Onbuild),
        (node("stopsignal", "SIGTERM"), Stopsignal),
        (node("healthcheck", "NONE"), HealthcheckInstr),
        (node("shell", "/bin/bash", "-c", json=True), Shell),
    ]
    for n, cls in cases:
        instruction = from_node(n)
        assert type(instruction) is cls
        assert instruction.span == SPAN
        assert instruction.keyword == n.keyword


ARITY = [
    (node("maintainer"), "MAINTAINER requires exactly one argument"),
    (node("workdir"), "WORKDIR requires exactly one argument"),
    (node("user"), "USER requires exactly one argument"),
    (node("user", "a", "b"), "USER requires exactly one argument"),
    (node("stopsignal"), "STOPSIGNAL requires exactly one argument"),
    (node("env"), "ENV requires at least one argument"),
    (node("label"), "LABEL requires at least one argument"),
    (node("onbuild"), "ONBUILD requires at least one argument"),
    (node("healthcheck"), "HEALTHCHECK requires at least one argument"),
    (node("expose"), "EXPOSE requires at least one argument"),
    (node("volume"), "VOLUME requires at least one argument"),
    (node("arg"), "ARG requires at least one argument"),
    (node("shell", json=True), "SHELL requires at least one argument"),
    (node("add", "a"), "ADD requires at least two arguments, but only one was provided. Destination could not be determined"),
    (node("copy", "a"), "COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
    (node("from"), "FROM requires either one or three arguments"),
    (node("from", "a", "b"), "FROM requires either one or three arguments"),
    (node("from", "a", "to", "b"), "FROM requires either one or three arguments"),
    (node("env", "", "v", "="), "ENV names can not be blank"),
    (node("label", "", "v", "="), "LABEL names can not be blank"),
    (node("env", "a", "b", "c"), "Bad input to ENV, too many arguments"),
    (node("arg", "=v"), "ARG names can not be blank"),
]


@pytest.mark.parametrize(("n", "message"), ARITY, ids=[case[1] + "/" + case[0].keyword for case in ARITY])
def test_arity_errors(n, message):
    with pytest.raises(ParseError) as info:
        from_node(n)
    assert info.value.message == message
    assert info.value.span == SPAN


def test_flags_come_after_arity_like_buildkit():
    with pytest.raises(ParseError, match="exactly one argument"):
        from_node(node("maintainer", flags=("--boo",)))
    with pytest.raises(ParseError, match="unknown flag: --boo"):
        from_node(node("maintainer", "joe", flags=("--boo",)))


@pytest.mark.parametrize("keyword", ["env", "label", "maintainer", "user", "workdir", "volume", "expose", "arg", "shell", "cmd", "entrypoint", "stopsignal", "onbuild"])
def test_instructions_without_flags_reject_them(keyword):
    n = node(keyword, "a", "b", "=", flags=("--x=1",), json=keyword == "shell")
    if keyword in ("maintainer", "user", "workdir", "stopsignal"):
        n = node(keyword, "a", flags=("--x=1",))
    if keyword == "onbuild":
        n = node(keyword, flags=("--x=1",), child=node("run", "true"))
    with pytest.raises(ParseError) as info:
        from_node(n)
    assert "unknown flag: --x" in info.value.message
    assert keyword.upper() in info.value.message


def test_unknown_instruction_keeps_spelling_and_suggests():
    with pytest.raises(ParseError) as info:
        from_node(node("cpoy", "a", "b", original="CPOY a b"))
    assert info.value.message == "unknown instruction: CPOY"
    assert info.value.hint == "did you mean COPY?"
    assert info.value.span == SPAN
    with pytest.raises(ParseError) as info:
        from_node(node("foo", "bar", original="foo bar"))
    assert info.value.message == "unknown instruction: foo"
    assert info.value.hint is None


def test_from():
    f = from_node(node("from", "golang:1.22", "As", "Build", flags=("--platform=$BUILDPLATFORM",)))
    assert (f.base, f.alias, f.platform, f.flags_used) == ("golang:1.22", "build", "$BUILDPLATFORM", ("platform",))
    assert from_node(node("from", "scratch")).alias is None


@pytest.mark.parametrize("name", ["1st", "a b", "a/b", "-x", "_x", "é"])
def test_from_rejects_bad_stage_names(name):
    with pytest.raises(PlanError, match="invalid name for build stage"):
        from_node(node("from", "alpine", "as", name))


@pytest.mark.parametrize("name", ["a", "Build", "a.b-c_d", "x1"])
def test_from_accepts_stage_names(name):
    assert from_node(node("from", "alpine", "AS", name)).alias == name.lower()


def test_run_shell_and_exec_forms():
    shell = from_node(node("run", "echo hello && ls"))
    assert (shell.cmd, shell.json, shell.prepend_shell) == (("echo hello && ls",), False, True)
    exec_ = from_node(node("run", "ls", "/", json=True))
    assert (exec_.cmd, exec_.json, exec_.prepend_shell) == (("ls", "/"), True, False)
    assert from_node(node("run")).cmd == ()


def test_run_flags():
    run = from_node(
        node(
            "run",
            "make",
            flags=(
                "--mount=type=cache,target=/root/.cache",
                "--mount=type=secret,id=npm",
                "--network=none",
                "--security=insecure",
                "--device=nvidia.com/gpu=all,required",
            ),
        )
    )
    assert [m.type for m in run.mounts] == ["cache", "secret"]
    assert (run.network, run.security) == ("none", "insecure")
    assert run.devices == (Device("nvidia.com/gpu=all", True),)
    assert run.flags_used == ("device", "mount", "network", "security")
    plain = from_node(node("run", "true"))
    assert (plain.mounts, plain.network, plain.security, plain.devices, plain.flags_used) == ((), None, None, (), ())


@pytest.mark.parametrize(
    ("flag", "error", "message"),
    [
        ("--network=bridge", PlanError, 'invalid network mode "bridge"'),
        ("--security=privileged", PlanError, 'security "privileged" is not valid'),
        ("--mount=type=nfs", PlanError, 'unsupported mount type "nfs"'),
        ("--device=a,b", PlanError, "invalid field 'b' must be a key=value pair"),
        ("--network", ParseError, "missing a value on flag: --network"),
        ("--mounts=type=cache", ParseError, "unknown flag: --mounts"),
    ],
)
def test_run_flag_errors(flag, error, message):
    with pytest.raises(error) as info:
        from_node(node("run", "true", flags=(flag,)))
    assert message in info.value.message
    assert info.value.span == SPAN


def test_run_heredoc_files_keep_raw_body():
    run = from_node(
        node(
            "run",
            "<<-EOF",
            heredocs=(Heredoc("EOF", "\techo test\n", chomp=True),),
            original="RUN <<-EOF",
        )
    )
    assert run.cmd == ("<<-EOF",)
    assert run.files == (InlineFile("EOF", "\techo test\n", expand=True, chomp=True),)
    fd = from_node(node("run", "3<<IN cat <&3", heredocs=(Heredoc("IN", "x\n", file_descriptor=3),)))
    assert fd.files[0].file_descriptor == 3


def test_cmd_and_entrypoint():
    assert from_node(node("cmd")).cmd == ()
    assert from_node(node("cmd", "a", "b", json=True)).cmd == ("a", "b")
    entry = from_node(node("entrypoint", "/bin/app --flag"))
    assert (entry.cmd, entry.json) == (("/bin/app --flag",), False)


def test_copy_and_add():
    c = from_node(
        node(
            "copy",
            "a",
            "b",
            "/dest/",
            flags=("--from=build", "--chown=1000:1000", "--chmod=u+x,g=r", "--link", "--parents", "--exclude=*.md", "--exclude=tmp"),
        )
    )
    assert (c.sources, c.dest, c.from_, c.chown, c.chmod, c.link, c.parents, c.excludes) == (
        ("a", "b"),
        "/dest/",
        "build",
        "1000:1000",
        "u+x,g=r",
        True,
        True,
        ("*.md", "tmp"),
    )
    a = from_node(
        node(
            "add",
            "https://example.com/x.tgz",
            "/x",
            flags=("--checksum=sha256:" + "0" * 64, "--keep-git-dir=true", "--unpack=false", "--chmod=0644"),
        )
    )
    assert (a.checksum, a.keep_git_dir, a.unpack, a.chmod) == ("sha256:" + "0" * 64, True, False, "0644")
    assert from_node(node("add", "a", "/b")).unpack is None
    plain = from_node(node("copy", "a", "/b", flags=("--chmod=", "--chown=")))
    assert (plain.chmod, plain.chown, plain.from_) == (None, None, None)


@pytest.mark.parametrize(
    ("flags", "error", "message"),
    [
        (("--chmod=999",), PlanError, "invalid chmod parameter: '999'"),
        (("--chmod=u+q",), PlanError, "invalid chmod parameter"),
        (("--keep-git-dir",), ParseError, "unknown flag: --keep-git-dir"),
        (("--from=a", "--from=b"), ParseError, "duplicate flag specified: --from"),
        (("--link=maybe",), ParseError, "expecting boolean value for flag --link"),
    ],
)
def test_copy_flag_errors(flags, error, message):
    with pytest.raises(error) as info:
        from_node(node("copy", "a", "/b", flags=flags))
    assert message in info.value.message


def test_copy_heredoc_sources():
    c = from_node(
        node(
            "copy",
            "<<-EOF",
            "file.txt",
            "<<'RAW'",
            "/dest",
            heredocs=(Heredoc("EOF", "\tTESTING\n", chomp=True), Heredoc("RAW", "$x\n", expand=False)),
        )
    )
    assert c.sources == ("file.txt",)
    assert c.contents == (
        InlineFile("EOF", "TESTING\n", expand=True, chomp=True),
        InlineFile("RAW", "$x\n", expand=False),
    )


def test_heredoc_as_destination_is_an_error():
    with pytest.raises(ParseError, match="COPY cannot accept a heredoc as a destination"):
        from_node(node("copy", "/foo", "<<EOF", heredocs=(Heredoc("EOF", ""),)))


def test_json_copy_never_has_heredocs():
    c = from_node(node("copy", "<<EOF", "/dest", json=True))
    assert (c.sources, c.contents) == (("<<EOF",), ())


def test_env_and_label_pairs():
    env = from_node(node("env", "A", "1", "=", "B", '"two words"', "="))
    assert env.env == (KeyValue("A", "1"), KeyValue("B", '"two words"'))
    legacy = from_node(node("env", "A", "value with spaces", ""))
    assert legacy.env == (KeyValue("A", "value with spaces", legacy_form=True),)
    pairs = from_node(node("label", "a", "1", "b", "2"))
    assert pairs.labels == (KeyValue("a", "1"), KeyValue("b", "2"))


def test_arg_forms_and_doc_comments():
    arg = from_node(
        node("arg", "A", "B=2", "C=", 'D="x y"', prev_comment=("B the b value", "A is first", "unrelated"))
    )
    assert arg.args == (
        ArgDef("A", None, "is first"),
        ArgDef("B", "2", "the b value"),
        ArgDef("C", ""),
        ArgDef("D", '"x y"'),
    )


def test_volume_user_workdir_stopsignal_maintainer():
    assert from_node(node("volume", "/a", "/b")).volumes == ("/a", "/b")
    assert from_node(node("volume", "/a", " /b ", json=True)).volumes == ("/a", "/b")
    with pytest.raises(ParseError, match="VOLUME specified can not be an empty string"):
        from_node(node("volume", "/a", " ", json=True))
    assert from_node(node("user", "app:app")).user == "app:app"
    assert from_node(node("workdir", "/src/$APP")).path == "/src/$APP"
    assert from_node(node("stopsignal", "SIGKILL")).signal == "SIGKILL"
    assert from_node(node("maintainer", "Jane <j@example.com>")).maintainer == "Jane <j@example.com>"


def test_shell_requires_json():
    assert from_node(node("shell", "/bin/bash", "-eo", "pipefail", "-c", json=True)).shell == (
        "/bin/bash",
        "-eo",
        "pipefail",
        "-c",
    )
    with pytest.raises(ParseError, match="SHELL requires the arguments to be in JSON form"):
        from_node(node("shell", "/bin/bash -c"))


def test_expose_sorts_and_validates_literals():
    assert from_node(node("expose", "8080", "443/tcp", "$PORT")).ports == ("$PORT", "443/tcp", "8080")
    with pytest.raises(PlanError, match="invalid proto: http"):
        from_node(node("expose", "80/http"))


HEALTH_OK = [
    (node("healthcheck", "NONE"), ("NONE",), {}),
    (node("healthcheck", "none"), ("NONE",), {}),
    (node("healthcheck", "CMD", "curl -f http://localhost/"), ("CMD-SHELL", "curl -f http://localhost/"), {}),
    (node("healthcheck", "cmd", "curl", "-f", json=True), ("CMD", "curl", "-f"), {}),
    (
        node(
            "healthcheck",
            "CMD",
            "true",
            flags=("--interval=30s", "--timeout=1m30s", "--start-period=1.5s", "--start-interval=5ms", "--retries=3"),
        ),
        ("CMD-SHELL", "true"),
        {"interval": 30 * 10**9, "timeout": 90 * 10**9, "start_period": 15 * 10**8, "start_interval": 5 * 10**6, "retries": 3},
    ),
    (node("healthcheck", "CMD", "true", flags=("--interval=0s", "--retries=0")), ("CMD-SHELL", "true"), {"interval": 0}),
]


@pytest.mark.parametrize(("n", "test", "fields"), HEALTH_OK)
def test_healthcheck(n, test, fields):
    health = from_node(n).health
    assert health.test == test
    for name, value in fields.items():
        assert getattr(health, name) == value


HEALTH_BAD = [
    (node("healthcheck", "NONE", "x"), "HEALTHCHECK NONE takes no arguments"),
    (node("healthcheck", "CONNECT", "TCP 7000"), 'Unknown type "CONNECT" in HEALTHCHECK (try CMD)'),
    (node("healthcheck", "CMD"), "Missing command after HEALTHCHECK CMD"),
    (node("healthcheck", "CMD", json=True), "Missing command after HEALTHCHECK CMD"),
    (node("healthcheck", "CMD", "true", flags=("--interval=50ns",)), "cannot be less than 1ms"),
    (node("healthcheck", "CMD", "true", flags=("--timeout=-1s",)), "cannot be less than 1ms"),
    (node("healthcheck", "CMD", "true", flags=("--interval=5",)), "--interval=5"),
    (node("healthcheck", "CMD", "true", flags=("--retries=-1",)), "--retries cannot be negative (-1)"),
    (node("healthcheck", "CMD", "true", flags=("--retries=many",)), "--retries=many"),
    (node("healthcheck", "CMD", "true", flags=("--retries=99999999999",)), "--retries=99999999999"),
    (node("healthcheck", "CMD", "true", flags=("--every=5s",)), "unknown flag: --every"),
]


@pytest.mark.parametrize(("n", "message"), HEALTH_BAD, ids=[case[1] for case in HEALTH_BAD])
def test_healthcheck_errors(n, message):
    with pytest.raises(DockerfileError) as info:
        from_node(n)
    assert message in info.value.message
    assert info.value.span == SPAN


@pytest.mark.parametrize(
    ("child", "message"),
    [
        (node("onbuild", child=node("run", "x")), "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
        (node("from", "scratch"), "FROM isn't allowed as an ONBUILD trigger"),
        (node("maintainer", "me"), "MAINTAINER isn't allowed as an ONBUILD trigger"),
    ],
)
def test_onbuild_forbidden_triggers(child, message):
    with pytest.raises(ParseError) as info:
        from_node(node("onbuild", child=child))
    assert message in info.value.message


def test_onbuild_expression_keeps_trigger_text_and_heredocs():
    ob = from_node(node("onbuild", child=node("run", "echo hi"), original="onbuild  RUN echo hi"))
    assert (ob.expression, ob.trigger) == ("RUN echo hi", "RUN")
    with_heredoc = from_node(
        node("onbuild", child=node("copy", "<<EOF", "/x"), original="ONBUILD COPY <<EOF /x", heredocs=(Heredoc("EOF", "data\n"),))
    )
    assert with_heredoc.expression == "COPY <<EOF /x\ndata\nEOF"


def test_error_span_is_attached_once():
    other = Span(line=99)
    with pytest.raises(ParseError) as info:
        from_node(node("user", span=other))
    assert info.value.span == other
