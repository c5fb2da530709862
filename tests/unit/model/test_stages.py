"""parse_dockerfile: global ARGs, stages, names, doc comments, located errors."""

from __future__ import annotations

import pytest

from pybuildkit.errors import DockerfileError, ParseError, PlanError, Span
from pybuildkit.model import Arg, Run, parse_dockerfile
from pybuildkit.syntax.ast import Directives, Document, Node


def n(line: int, keyword: str, *args: str, **fields) -> Node:
    return Node(keyword=keyword, args=args, span=Span(line=line, file="df"), original=f"{keyword.upper()} {' '.join(args)}", **fields)


SOURCE = "\n".join(f"line {i}" for i in range(1, 20))


def doc(*nodes: Node, **fields) -> Document:
    fields.setdefault("source", SOURCE)
    return Document(nodes=nodes, path="df", **fields)


def test_global_args_and_stages():
    d = parse_dockerfile(
        doc(
            n(1, "arg", "VERSION=1.0", prev_comment=("VERSION the release",)),
            n(2, "from", "alpine:$VERSION", "AS", "Base", prev_comment=("base is the runtime",)),
            n(3, "arg", "VERSION"),
            n(4, "run", "apk add curl"),
            n(5, "from", "base"),
            n(6, "run", "true"),
            directives=Directives(escape="`", check="skip=all"),
        )
    )
    assert [a.args[0].key for a in d.global_args] == ["VERSION"]
    assert d.global_args[0].args[0].doc_comment == "the release"
    assert [(s.index, s.name, s.from_.base) for s in d.stages] == [(0, "base", "alpine:$VERSION"), (1, None, "base")]
    assert d.stages[0].doc_comment == "is the runtime"
    assert [type(c) for c in d.stages[0].commands] == [Arg, Run]
    assert [type(c) for c in d.stages[1].commands] == [Run]
    assert (d.path, d.source, d.escape, d.check_directive) == ("df", SOURCE, "`", "skip=all")


def test_empty_document_has_no_stages():
    d = parse_dockerfile(doc())
    assert (d.global_args, d.stages) == ((), ())


def test_instruction_before_from_is_an_error():
    with pytest.raises(ParseError) as info:
        parse_dockerfile(doc(n(1, "arg", "A"), n(2, "env", "A", "1", "=")))
    assert "no build stage in current context" in info.value.message
    assert info.value.span.line == 2
    assert info.value.source == SOURCE
    assert "line 2" in info.value.render()


def test_duplicate_stage_names_are_case_insensitive():
    with pytest.raises(PlanError) as info:
        parse_dockerfile(doc(n(1, "from", "a", "AS", "build"), n(3, "from", "b", "as", "BUILD")))
    assert "duplicate stage name 'build'" in info.value.message
    assert "line 1" in info.value.hint
    assert info.value.span.line == 3


def test_errors_in_instructions_carry_span_and_source():
    with pytest.raises(DockerfileError) as info:
        parse_dockerfile(doc(n(1, "from", "a"), n(4, "user")))
    assert info.value.span.line == 4
    assert info.value.render().startswith("df:4:1: USER requires exactly one argument")
