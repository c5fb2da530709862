"""Property test: random nodes and documents never make the model raise a foreign exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybuildkit.errors import PybuildkitError
from pybuildkit.model import KEYWORDS, from_node, parse_dockerfile
from pybuildkit.syntax.ast import Document, Heredoc, Node

_words = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "=", "AS", "as", "NONE", "CMD", "<<EOF", "<<-EOF", "3<<X", "$X", "/dst", "a=b", "ONBUILD", "FROM"]),
)
_flags = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["--", "--link", "--from=x", "--mount=type=cache,target=/x", "--mount=", "--network=none", "--interval=1s", "--chmod=u+x", "--device=a"]),
).map(lambda s: s if s.startswith("--") or not s else "--" + s)
_keyword = st.one_of(st.sampled_from([k.lower() for k in KEYWORDS]), st.text(max_size=8))
_heredocs = st.lists(st.builds(Heredoc, name=st.sampled_from(["EOF", "X", "x y"]), content=st.text(max_size=10), chomp=st.booleans()), max_size=2).map(tuple)


def _node(child: st.SearchStrategy | None = None) -> st.SearchStrategy:
    return st.builds(
        Node,
        keyword=_keyword,
        args=st.lists(_words, max_size=5).map(tuple),
        flags=st.lists(_flags, max_size=3).map(tuple),
        json=st.booleans(),
        heredocs=_heredocs,
        child=st.none() if child is None else st.one_of(st.none(), child),
        original=st.text(max_size=20),
        prev_comment=st.lists(st.text(max_size=10), max_size=2).map(tuple),
    )


_nodes = _node(_node())


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_nodes)
def test_from_node_only_raises_project_errors(node):
    try:
        from_node(node)
    except PybuildkitError:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_nodes, max_size=6))
def test_parse_dockerfile_only_raises_project_errors(nodes):
    try:
        parse_dockerfile(Document(nodes=tuple(nodes)))
    except PybuildkitError:
        pass
