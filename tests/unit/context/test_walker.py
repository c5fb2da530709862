"""The walker and COPY source resolution on real trees in tmp_path (no root needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import pybuildkit.context.walker as walker_mod
from pybuildkit.context.dockerignore import PatternMatcher
from pybuildkit.context.walker import context_path, resolve_in_root, resolve_sources, select, walk
from pybuildkit.errors import ContextError


def _tree(root: Path, spec: dict[str, str | None]) -> None:
    """`name: text` makes a file, `name/: None` a directory, `name: "->target"` a symlink."""
    for name, value in spec.items():
        path = root / name
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        assert value is not None
        if value.startswith("->"):
            os.symlink(value[2:], path)
        else:
            path.write_text(value)


def _paths(root: Path, **kw: object) -> list[str]:
    return [e.describe() for e in walk(root, **kw)]  # type: ignore[arg-type]


def _m(*patterns: str) -> PatternMatcher:
    return PatternMatcher.from_patterns(patterns)


@pytest.mark.parametrize(
    ("rel", "expected"),
    [("", ""), (".", ""), ("/a/b", "a/b"), ("../../etc/passwd", "etc/passwd"), ("a/../../b/", "b")],
)
def test_context_path_clamps_to_root(rel: str, expected: str) -> None:
    assert context_path(rel) == expected


def test_symlinks_are_reported_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _tree(outside, {"secret": "s", "dir/": None, "dir/inner": "i"})
    ctx = tmp_path / "ctx"
    _tree(ctx, {"a": "1", "up": "->../outside", "abs": f"->{outside}", "loop": "->loop"})
    assert _paths(ctx) == [
        "file a",
        f"symlink:{outside} abs",
        "symlink:loop loop",
        "symlink:../outside up",
    ]


@pytest.mark.parametrize(
    ("link", "rel", "inside"),
    [
        ("../../..", "l/x", "x"),
        ("/", "l/x", "x"),
        ("/etc", "l/passwd", "etc/passwd"),
        ("sub", "l/y", "sub/y"),
        ("../sub", "l/y", "sub/y"),
    ],
)
def test_resolve_in_root_never_leaves(tmp_path: Path, link: str, rel: str, inside: str) -> None:
    ctx = tmp_path / "ctx"
    _tree(ctx, {"sub/": None, "l": "->" + link})
    assert resolve_in_root(ctx, rel) == str(ctx / inside)


def test_resolve_in_root_link_loop(tmp_path: Path) -> None:
    _tree(tmp_path, {"a": "->b", "b": "->a"})
    with pytest.raises(ContextError, match="symbolic links"):
        resolve_in_root(tmp_path, "a/x")


def test_excluded_dir_not_opened_unless_exception_reaches_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path, {"node_modules/x/y": "1", "keep/z": "2", "a": "3"})
    opened: list[str] = []
    real = os.scandir

    def spy(path: str):  # type: ignore[no-untyped-def]
        opened.append(os.path.relpath(path, tmp_path))
        return real(path)

    monkeypatch.setattr(walker_mod.os, "scandir", spy)
    assert _paths(tmp_path, ignore=_m("node_modules")) == ["file a", "dir keep", "file keep/z"]
    assert "node_modules" not in opened
    opened.clear()
    assert _paths(tmp_path, ignore=_m("node_modules", "!node_modules/x/y")) == [
        "file a",
        "dir keep",
        "file keep/z",
        "dir node_modules",
        "dir node_modules/x",
        "file node_modules/x/y",
    ]
    assert "node_modules" in opened


def test_walk_below_start_with_ignore_relative_to_root(tmp_path: Path) -> None:
    _tree(tmp_path, {"src/a.py": "", "src/a.pyc": "", "src/sub/b.py": "", "other": ""})
    kept = _paths(tmp_path, start="src", ignore=_m("**/*.pyc", "src/sub"))
    assert kept == ["file a.py"]
    assert _paths(tmp_path, start="src", exclude=_m("*.py")) == ["file a.pyc", "dir sub", "file sub/b.py"]


def test_walk_of_fully_ignored_start_is_empty(tmp_path: Path) -> None:
    _tree(tmp_path, {"src/a": ""})
    assert _paths(tmp_path, start="src", ignore=_m("src")) == []


def test_walk_requires_directory(tmp_path: Path) -> None:
    _tree(tmp_path, {"f": ""})
    with pytest.raises(ContextError, match="not a directory"):
        list(walk(tmp_path, "f"))


def test_resolve_sources(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {"a.txt": "", "b.txt": "", "c.md": "", "d/x.txt": "", "d/y.md": "", "e/x.txt": "", "ln": "->d"},
    )
    assert resolve_sources(tmp_path, "*.txt") == ["a.txt", "b.txt"]
    assert resolve_sources(tmp_path, "*/x.txt") == ["d/x.txt", "e/x.txt"]  # the link ln is not walked through
    assert resolve_sources(tmp_path, "/d/../c.md") == ["c.md"]
    assert resolve_sources(tmp_path, "*.none") == []
    assert resolve_sources(tmp_path, "*.txt", ignore=_m("a.txt")) == ["b.txt"]
    assert resolve_sources(tmp_path, "*/x.txt", ignore=_m("d/x.txt")) == ["e/x.txt"]
    with pytest.raises(ContextError, match="matches nothing"):
        resolve_sources(tmp_path, "*.none", allow_empty_wildcard=False)


@pytest.mark.parametrize(
    ("source", "ignore", "hint"),
    [("missing", (), None), ("a.txt", ("*.txt",), "excluded by the .dockerignore"), ("ln", ("d",), "ignored")],
)
def test_resolve_sources_not_found(tmp_path: Path, source: str, ignore: tuple[str, ...], hint: str | None) -> None:
    _tree(tmp_path, {"a.txt": "", "d/x": "", "ln": "->d"})
    with pytest.raises(ContextError, match="not found") as info:
        resolve_sources(tmp_path, source, ignore=_m(*ignore))
    if hint:
        assert hint in (info.value.hint or "")


def test_ignored_dir_with_exception_is_still_a_source(tmp_path: Path) -> None:
    _tree(tmp_path, {"d/keep": "", "d/drop": ""})
    ignore = _m("d", "!d/keep")
    assert resolve_sources(tmp_path, "d", ignore=ignore) == ["d"]
    [selected] = select(tmp_path, ["d"], ignore=ignore)
    assert [e.describe() for e in selected.entries] == ["dir ", "file keep"]


def test_select_follows_source_link_inside_root_and_applies_exclude(tmp_path: Path) -> None:
    _tree(tmp_path, {"src/a.txt": "", "src/b.md": "", "src/sub/c.txt": "", "alias": "->/src", "x.txt": ""})
    [selected] = select(tmp_path, ["alias"], exclude=["*.txt"])
    assert selected.source == "alias"
    assert [e.describe() for e in selected.entries] == ["dir ", "file b.md", "dir sub", "file sub/c.txt"]
    # matches of a wildcard are excluded relative to its fixed part; inside a directory source,
    # relative to that directory (so "src/sub" does not reach into src, "sub" would)
    picked = select(tmp_path, ["*"], exclude=["*.txt", "src/sub"])
    assert [s.source for s in picked] == ["alias", "src"]
    assert [e.path for e in picked[1].entries] == ["", "b.md", "sub", "sub/c.txt"]


def test_select_rejects_bad_exclude(tmp_path: Path) -> None:
    with pytest.raises(ContextError, match="illegal exclusion"):
        select(tmp_path, ["."], exclude=["!"])


def test_ignore_judges_the_real_location_of_a_linked_start(tmp_path: Path) -> None:
    _tree(tmp_path, {"real/a.log": "", "real/b.txt": "", "alias": "->real"})
    assert _paths(tmp_path, start="alias", ignore=_m("real/*.log")) == ["file b.txt"]


@pytest.mark.parametrize("call", [lambda r: list(walk(r)), lambda r: select(r, ["."]), lambda r: resolve_sources(r, "a")])
def test_missing_context_is_a_clear_error(tmp_path: Path, call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ContextError, match="build context .* does not exist"):
        call(tmp_path / "nowhere")


def test_undecodable_names_walk_and_match(tmp_path: Path) -> None:
    os.mkdir(os.path.join(os.fsencode(tmp_path), b"caf\xe9"))
    open(os.path.join(os.fsencode(tmp_path), b"caf\xe9", b"x.log"), "w").close()
    (tmp_path / "ok.txt").write_text("")
    name = os.fsdecode(b"caf\xe9")
    assert _paths(tmp_path) == [f"dir {name}", f"file {name}/x.log", "file ok.txt"]
    assert _paths(tmp_path, ignore=_m("caf?")) == ["file ok.txt"]
    assert _paths(tmp_path, ignore=_m("**/*.log")) == [f"dir {name}", "file ok.txt"]


def test_select_empty_wildcard(tmp_path: Path) -> None:
    assert select(tmp_path, ["*.none"]) == ()
    with pytest.raises(ContextError, match="matches nothing"):
        select(tmp_path, ["*.none"], allow_empty_wildcard=False)
