"""Parser behaviour the conformance corpus does not pin down, checked through the dump format."""

from __future__ import annotations

import pytest

from pybuildkit.errors import ParseError
from pybuildkit.syntax import dump, parse


def _dump(text: str | bytes) -> str:
    return dump(parse(text))


@pytest.mark.parametrize(
    ("dockerfile", "expected"),
    [
        # instructions and their argument shapes
        ("FROM a AS b", '(from "a" "AS" "b")'),
        ("frobnicate the thing", '(frobnicate "")'),
        ("RUN", "(run)"),
        ("run echo  hi ", '(run "echo  hi")'),
        ('RUN ["echo", "hi"]', '(run "echo" "hi")'),
        ('RUN [ "echo", ', '(run "[ \\"echo\\",")'),
        ("RUN [1e999]", '(run "[1e999]")'),
        ('ENTRYPOINT []', "(entrypoint)"),
        ("ONBUILD RUN echo hi", '(onbuild (run "echo hi"))'),
        ("ONBUILD --x=1 ONBUILD copy a b", '(onbuild ["--x=1"] (onbuild (copy "a" "b")))'),
        ("ONBUILD", "(onbuild)"),
        ("HEALTHCHECK NONE", '(healthcheck "NONE")'),
        ('HEALTHCHECK --interval=5s CMD ["curl", "-f"]', '(healthcheck ["--interval=5s"] "CMD" "curl" "-f")'),
        ("ENV a=1 b=\"two words\" c=", '(env "a" "1" "=" "b" "\\"two words\\"" "=" "c" "" "=")'),
        ("ENV name value with  spaces", '(env "name" "value with  spaces" "")'),
        ("LABEL a=b", '(label "a" "b" "=")'),
        ("ARG a b=\"c d\" e\\ f", '(arg "a" "b=\\"c d\\"" "e\\\\ f")'),
        ("ARG x\\", '(arg "x")'),
        ("ARG", "(arg)"),
        ("EXPOSE 80/tcp  443", '(expose "80/tcp" "443")'),
        ('COPY "a b" c', '(copy "\\"a" "b\\"" "c")'),
        ('VOLUME ["/a", "/b"]', '(volume "/a" "/b")'),
        ("SHELL [\"/bin/sh\", \"-c\"]", '(shell "/bin/sh" "-c")'),
        ("USER me:you", '(user "me:you")'),
        ("WORKDIR /a b", '(workdir "/a b")'),
        ("STOPSIGNAL SIGKILL", '(stopsignal "SIGKILL")'),
        ("MAINTAINER Me <me@example.com>", '(maintainer "Me <me@example.com>")'),
        # flags
        ("RUN --mount=type=cache,target=/x make", '(run ["--mount=type=cache,target=/x"] "make")'),
        ('COPY --chown="a b" x y', '(copy ["--chown=a b"] "x" "y")'),
        ("COPY --a=\\\"q x y", '(copy ["--a=\\"q"] "x" "y")'),
        ('COPY --a="unterminated x', '(copy ["--a=unterminated x"])'),
        ("COPY -- --not-a-flag y", '(copy "--not-a-flag" "y")'),
        ("COPY --\"\" --not-a-flag y", '(copy "--not-a-flag" "y")'),
        ("COPY -x y", '(copy "-x" "y")'),
        ("RUN --é=1 x", '(run ["--Ã©=1"] "x")'),
        # line structure
        ("FROM a\r\nRUN b\r\n", '(from "a")\n(run "b")'),
        (b"\xef\xbb\xbfFROM a", '(from "a")'),
        ("\ufeffFROM a", '(from "a")'),
        ("FROM a\nRUN x \\\n  # comment\n  y", '(from "a")\n(run "x   y")'),
        ("FROM a\nRUN x \\", '(from "a")\n(run "x")'),
        ("FROM a\n\\", '(from "a")\n("")'),
        ("\x1c x", '(\x1c "")'),
        ("FROM a\nRUN x \\\\", '(from "a")\n(run "x \\\\\\\\")'),
        ("  # indented comment\n\tRUN a # not a comment", '(run "a # not a comment")'),
        ("# escape=`\nFROM a\nRUN x `\n y\nENV a=`\"b", '(from "a")\n(run "x  y")\n(env "a" "`\\"b" "=")'),
        ("\n# escape=`\nFROM a\nRUN x `\n y", '(from "a")\n(run "x `")\n(y "")'),
        (b"RUN caf\xe9 \xff", '(run "caf\\xe9 \\xff")'),
    ],
)
def test_dump(dockerfile: str | bytes, expected: str) -> None:
    assert _dump(dockerfile) == expected + "\n"


@pytest.mark.parametrize(
    ("dockerfile", "message", "line", "column"),
    [
        ("", "file with no instructions", 1, 1),
        ("# only\n\n# comments\n", "file with no instructions", 3, 1),
        ("FROM a\n  ENV x", "ENV must have two arguments", 2, 3),
        ("FROM a\nLABEL a=b c", "can't find = in \"c\"", 2, 1),
        ('FROM a\nCMD ["a", 1]', "arrays must be comprised of strings only", 2, 1),
        ("# escape=x\nFROM a", "invalid escape token 'x' does not match ` or \\", 1, 1),
        ("# escape=`\n# ESCAPE=\\\nFROM a", "only one escape parser directive can be used", 2, 1),
        ("FROM a\nRUN <<EOF\nbody\n", "unterminated heredoc", 2, 1),
        ("FROM a\nRUN <<'EOF\nEOF", "", None, None),
        (b"# escape=\xff\nFROM a", "invalid escape token '\ufffd'", 1, 1),
        ("FROM a\nRUN <<\udcff\n", 'no line reads "\\xff"', 2, 1),  # unbalanced quote: not a heredoc, parses
        ("FROM a\nRUN x\n" + "a" * 65536 + "\n", "dockerfile line greater than max allowed size of 65535", 3, 1),
    ],
)
def test_errors_are_located(dockerfile: str | bytes, message: str, line: int | None, column: int | None) -> None:
    if line is None:
        parse(dockerfile)
        return
    with pytest.raises(ParseError) as info:
        parse(dockerfile, path="df")
    error = info.value
    assert message in error.message
    assert (error.span.file, error.span.line, error.span.column) == ("df", line, column)
    rendered = error.render()
    rendered.encode("utf-8")
    assert rendered.startswith(f"df:{line}:{column}: ")
    if dockerfile.strip():
        assert "^" in rendered


def test_spans_cover_continuations_and_heredocs() -> None:
    document = parse("FROM a\n\nRUN x \\\n  y\n  COPY <<A <<B /dst\na\nA\nb\nB\n")
    assert [(n.start_line, n.end_line, n.span.column) for n in document.nodes] == [
        (1, 1, 1),
        (3, 4, 1),
        (5, 9, 3),
    ]
    copy = document.nodes[2]
    assert [(h.name, h.content) for h in copy.heredocs] == [("A", "a\n"), ("B", "b\n")]


def test_heredocs_behind_onbuild_and_not_in_json_or_user() -> None:
    document = parse('FROM a\nONBUILD RUN <<X\nhi\nX\nRUN ["<<Y"]\nUSER <<Z\nZ\n')
    nodes = document.nodes
    assert nodes[1].heredocs[0].content == "hi\n"
    assert nodes[2].heredocs == ()
    assert [n.keyword for n in nodes] == ["from", "onbuild", "run", "user", "z"]


def test_chomped_terminator_and_raw_body() -> None:
    node = parse("RUN <<-EOF\n\techo $HOME \\\n\tEOF\n").nodes[0]
    heredoc = node.heredocs[0]
    assert (heredoc.chomp, heredoc.expand, heredoc.content) == (True, True, "\techo $HOME \\\n")


def test_directives_and_comments() -> None:
    document = parse("# syntax=docker/dockerfile:1\n# check=skip=all\n# doc for a\nARG a=1\n#\n# dropped\n\nFROM x\n")
    assert document.directives.syntax == "docker/dockerfile:1"
    assert document.directives.check == "skip=all"
    assert document.directives.escape == "\\"
    assert document.directives.syntax_span.line == 1
    assert document.nodes[0].prev_comment == ("doc for a",)
    assert document.nodes[1].prev_comment == ("dropped",)


def test_directive_scan_stops_at_first_other_line() -> None:
    document = parse("# unknown=1\n# escape=`\nRUN a \\\n b")
    assert document.directives.escape == "\\"
    assert [n.original for n in document.nodes] == ["RUN a  b"]


def test_empty_continuation_warning() -> None:
    document = parse("FROM a\nRUN a \\\n\n  b\n")
    (warning,) = document.warnings
    assert warning.rule == "no-empty-continuation"
    assert warning.span.line == 4
    assert "RUN a   b" in warning.message
    assert "future release" in warning.detail


def test_original_and_document_fields() -> None:
    document = parse(b"FROM a\n  RUN  x \\\n y  \n", path="sub/Dockerfile")
    assert document.path == "sub/Dockerfile"
    assert document.source.startswith("FROM a")
    assert document.nodes[1].original == "RUN  x  y  "
    assert document.nodes[1].span.file == "sub/Dockerfile"


def test_deep_onbuild_and_json_nesting_do_not_recurse() -> None:
    deep = "ONBUILD " * 3000 + "RUN x"
    node = parse(deep).nodes[0]
    depth = 0
    while node.child is not None:
        node, depth = node.child, depth + 1
    assert depth == 3000 and node.args == ("x",) and node.span.line == 1
    nested = "[" * 5000 + "]" * 5000
    with pytest.raises(ParseError, match="strings only"):
        parse(f"CMD {nested}")
