"""Lowering details of RUN (argv, heredocs, mounts) and COPY/ADD (sources, destinations, flags)."""

from __future__ import annotations

import pytest

from pybuildkit.plan import CONTEXT_ID, ExecFile, ExecOp, FileOp
from pybuildkit.plan.paths import normalize_workdir, resolve_dest, resolve_target

from .support import last, make_plan, run_ops

# (workdir, dest, expected)
DEST_CASES = [
    ("/", "/x", "/x"),
    ("/", "/x/", "/x/"),
    ("/app", "x", "/app/x"),
    ("/app", "x/", "/app/x/"),
    ("/app", ".", "/app/"),
    ("/app", "./", "/app/"),
    ("/app", "", "/app/"),
    ("/", ".", "/"),
    ("/app", "../y", "/y"),
    ("/app", "/a/./b/", "/a/b/"),
    ("/app", "sub/.", "/app/sub/."),
    ("/", "//x", "/x"),
]


@pytest.mark.parametrize(("workdir", "dest", "expected"), DEST_CASES)
def test_resolve_dest(workdir: str, dest: str, expected: str) -> None:
    assert resolve_dest(workdir, dest) == expected


@pytest.mark.parametrize(
    ("current", "requested", "expected"),
    [("", "a", "/a"), ("/", "/b/", "/b"), ("/a", "b", "/a/b"), ("/a/b", "..", "/a"), ("/a", "/x/../y", "/y")],
)
def test_normalize_workdir(current: str, requested: str, expected: str) -> None:
    assert normalize_workdir(current, requested) == expected


@pytest.mark.parametrize(("workdir", "target", "expected"), [("/w", "c", "/w/c"), ("/w", "/c/", "/c"), ("/", "x/..//y", "/y")])
def test_resolve_target(workdir: str, target: str, expected: str) -> None:
    assert resolve_target(workdir, target) == expected


def test_copy_dest_uses_workdir_and_keeps_slash() -> None:
    op = last(make_plan("FROM scratch\nWORKDIR /app\nCOPY a b sub/\n"))
    assert isinstance(op, FileOp)
    assert op.dest == "/app/sub/"
    assert [(s.kind, s.path, s.input) for s in op.sources] == [("path", "a", CONTEXT_ID), ("path", "b", CONTEXT_ID)]


def test_workdir_mkdir_is_owned_by_current_user() -> None:
    op = last(make_plan("FROM scratch\nUSER app\nWORKDIR /home/app\n"))
    assert isinstance(op, FileOp) and op.action == "mkdir"
    assert op.dest == "/home/app" and op.chown == "app"


def test_copy_flags_and_expansion() -> None:
    text = "FROM scratch\nARG U=1000\nCOPY --chown=$U:$U --chmod=0644 --link --exclude=*.tmp --exclude=$U src/ /dst/\n"
    op = last(make_plan(text))
    assert (op.chown, op.chmod, op.link, op.excludes) == ("1000:1000", "0644", True, ("*.tmp", "1000"))
    assert op.build_args == {"U": "1000"}


def test_add_sources_and_defaults() -> None:
    text = "FROM scratch\nADD --checksum=sha256:abc https://example.com/x.tgz /x/\nADD --keep-git-dir https://github.com/a/b.git /src\nADD a.tar /\n"
    ops = [op for op in make_plan(text).stages[0].ops if isinstance(op, FileOp)]
    url, git, local = ops
    assert url.sources[0].kind == "url" and url.checksum == "sha256:abc"
    assert git.sources[0].kind == "git" and git.keep_git_dir is True
    assert local.sources[0].kind == "path" and local.unpack is None and local.action == "add"


# (id, heredoc COPY, expected inline data)
HEREDOC_COPY = [
    ("expands-unquoted", "ARG name=world\nCOPY <<EOF /f\nHello ${name}!\nEOF", "Hello world!\n"),
    ("quoted-is-literal", "ARG name=world\nCOPY <<'EOF' /f\nHello ${name}!\nEOF", "Hello ${name}!\n"),
    ("quotes-kept", "ARG name=world\nCOPY <<EOF /f\nHello '${name}'!\nEOF", "Hello 'world'!\n"),
    ("backslash-dollar", "COPY <<EOF /f\n\\$\nEOF", "$\n"),
    ("chomp", "COPY <<-EOF /f\n\tbar\nEOF", "bar\n"),
]


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in HEREDOC_COPY], ids=[c[0] for c in HEREDOC_COPY])
def test_copy_heredoc_content(body: str, expected: str) -> None:
    op = last(make_plan(f"FROM scratch\n{body}\n"))
    inline = [s for s in op.sources if s.kind == "inline"]
    assert len(inline) == 1 and inline[0].path == "EOF" and inline[0].data == expected


# (id, RUN text, expected argv, expected files)
RUN_CASES = [
    ("shell-form", "RUN echo $HOME", ("/bin/sh", "-c", "echo $HOME"), ()),
    ("exec-form", 'RUN ["echo", "$HOME"]', ("echo", "$HOME"), ()),
    ("heredoc-simple", "RUN <<EOF\necho a\necho b\nEOF", ("/bin/sh", "-c", "echo a\necho b\n"), ()),
    ("heredoc-not-expanded", "ARG n=1\nRUN <<EOF\necho ${n}\nEOF", ("/bin/sh", "-c", "echo ${n}\n"), ()),
    ("heredoc-chomp", "RUN <<-EOF\n\techo a\nEOF", ("/bin/sh", "-c", "echo a\n"), ()),
    (
        "heredoc-shebang",
        "RUN <<EOF\n#!/bin/awk -f\nBEGIN {}\nEOF",
        ("/bin/sh", "-c", "/dev/pipes/EOF"),
        (ExecFile(path="/dev/pipes/EOF", data="#!/bin/awk -f\nBEGIN {}\n", mode=0o755),),
    ),
    ("heredoc-complex", "RUN cat <<EOF | sh\necho x\nEOF", ("/bin/sh", "-c", "cat <<EOF | sh\necho x\nEOF"), ()),
    ("heredoc-custom-shell", 'SHELL ["/bin/awk"]\nRUN <<EOF\nBEGIN {}\nEOF', ("/bin/awk", "BEGIN {}\n"), ()),
]


@pytest.mark.parametrize(("text", "argv", "files"), [c[1:] for c in RUN_CASES], ids=[c[0] for c in RUN_CASES])
def test_run_argv(text: str, argv: tuple[str, ...], files: tuple[ExecFile, ...]) -> None:
    (run,) = run_ops(make_plan(f"FROM scratch\n{text}\n"))
    assert run.argv == argv
    assert run.files == files


def test_run_user_cwd_network_security() -> None:
    text = "FROM scratch\nUSER 1:2\nWORKDIR /w\nRUN --network=none --security=insecure x\n"
    (run,) = run_ops(make_plan(text))
    assert (run.user, run.cwd, run.network, run.security) == ("1:2", "/w", "none", "insecure")
    assert isinstance(run, ExecOp) and run.parent == make_plan(text).stages[0].ops[-2].id


# (id, mount flag, expected (type, target, input, id, readonly) ; input "ctx" means the context)
MOUNT_CASES = [
    ("bind-context", "--mount=target=/src", ("bind", "/src", CONTEXT_ID, None, True)),
    ("bind-relative-target", "--mount=type=bind,target=src,source=sub,rw", ("bind", "/w/src", CONTEXT_ID, None, False)),
    ("cache-default-id", "--mount=type=cache,target=/root/.cache", ("cache", "/root/.cache", None, "/root/.cache", False)),
    ("cache-id", "--mount=type=cache,id=go,target=/go", ("cache", "/go", None, "go", False)),
    ("tmpfs", "--mount=type=tmpfs,target=/tmp", ("tmpfs", "/tmp", None, None, False)),
    ("secret-default-target", "--mount=type=secret,id=tok", ("secret", "/run/secrets/tok", None, "tok", True)),
    ("secret-id-from-target", "--mount=type=secret,target=/k/key", ("secret", "/k/key", None, "key", True)),
    ("ssh-defaults", "--mount=type=ssh", ("ssh", "/run/buildkit/ssh_agent.0", None, "default", True)),
    ("expanded-target", "--mount=type=cache,target=$D", ("cache", "/var/d", None, "/var/d", False)),
]


@pytest.mark.parametrize(("flag", "expected"), [c[1:] for c in MOUNT_CASES], ids=[c[0] for c in MOUNT_CASES])
def test_run_mounts(flag: str, expected: tuple[object, ...]) -> None:
    (run,) = run_ops(make_plan(f"FROM scratch\nWORKDIR /w\nARG D=/var/d\nRUN {flag} x\n"))
    (mount,) = run.mounts
    assert (mount.type, mount.target, mount.input, mount.id, mount.readonly) == expected


def test_bind_mount_source_and_inputs() -> None:
    (run,) = run_ops(make_plan("FROM scratch\nRUN --mount=target=/s,source=a/b x\n"))
    assert run.mounts[0].source == "/a/b"
    assert run.inputs == (run.parent, CONTEXT_ID)


def test_key_fields_leave_out_positions_and_history() -> None:
    one = run_ops(make_plan("FROM scratch\nRUN x\n"))[0]
    two = run_ops(make_plan("FROM scratch\n\n# moved\nRUN x\n"))[0]
    assert one.span != two.span
    assert one.key_fields() == two.key_fields()


def test_key_fields_name_inputs_by_slot_not_by_op_id() -> None:
    base = "FROM scratch AS a\nRUN a\nFROM scratch\nRUN --mount=from=a,target=/m x\nCOPY --from=a /x /x\n"
    shifted = "FROM scratch AS a\nENV PAD=1\nRUN a\nFROM scratch\nRUN --mount=from=a,target=/m x\nCOPY --from=a /x /x\n"
    one, two = make_plan(base), make_plan(shifted)
    run_one, copy_one = one.stages[-1].ops[-2:]
    run_two, copy_two = two.stages[-1].ops[-2:]
    assert run_one.mounts[0].input != run_two.mounts[0].input
    assert run_one.key_fields() == run_two.key_fields()
    assert copy_one.key_fields() == copy_two.key_fields()
    assert copy_one.key_fields()["sources"][0]["input"] == "input1"
    assert last(make_plan("FROM scratch\nCOPY a /a\n")).key_fields()["sources"][0]["input"] == CONTEXT_ID
