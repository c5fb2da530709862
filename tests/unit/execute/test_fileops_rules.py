"""COPY's placement rules on real temp dirs: dest and trailing slash, several sources, wildcards,
directories copied by content, followed top-level links, --parents, --exclude and .dockerignore."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybuildkit.context import PatternMatcher
from pybuildkit.errors import BuildError, ContextError, PybuildkitError
from pybuildkit.execute.fileops import CopySpec, apply_copy

from .test_fileops_support import DIR, link, make_tree, read_tree

CONTEXT = {
    "a.txt": "A",
    "z.txt": "Z",
    "b.md": "B",
    "src/one.go": "one",
    "src/pkg/two.go": "two",
    "src/pkg/skip.txt": "skip",
    "src/inner": link("one.go"),
    "docs/x/readme.md": "readme",
    "docs/y/readme.md": "other",
    "to-a": link("a.txt"),
    "to-src": link("/src"),
    "empty": DIR,
}

# (id, sources, dest, pre-existing dest layout, expected new paths and contents)
PLACEMENT = [
    ("file-to-new-path", ("a.txt",), "/x", {}, {"x": "A"}),
    ("file-into-slash-dir", ("a.txt",), "/d/", {}, {"d": "dir", "d/a.txt": "A"}),
    ("file-into-existing-dir", ("a.txt",), "/d", {"d": DIR}, {"d/a.txt": "A"}),
    ("file-into-dot", ("a.txt",), "/d/.", {}, {"d": "dir", "d/a.txt": "A"}),
    ("file-overwrites-file", ("a.txt",), "/x", {"x": "old"}, {"x": "A"}),
    ("deep-parents-made", ("a.txt",), "/p/q/r", {}, {"p": "dir", "p/q": "dir", "p/q/r": "A"}),
    (
        "dir-copies-contents",
        ("src",),
        "/d",
        {},
        {"d": "dir", "d/one.go": "one", "d/pkg": "dir", "d/pkg/two.go": "two", "d/pkg/skip.txt": "skip", "d/inner": "link:one.go"},
    ),
    ("dir-into-existing", ("src/pkg",), "/d/", {"d/keep": "k"}, {"d/two.go": "two", "d/skip.txt": "skip"}),
    ("empty-dir", ("empty",), "/e", {}, {"e": "dir"}),
    ("wildcard", ("*.txt",), "/d/", {}, {"d": "dir", "d/a.txt": "A", "d/z.txt": "Z"}),
    ("wildcard-one-match-to-file", ("a.*",), "/f", {}, {"f": "A"}),
    ("wildcard-question-class", ("?.[tm][xd]*",), "/d/", {}, {"d": "dir", "d/a.txt": "A", "d/z.txt": "Z", "d/b.md": "B"}),
    ("wildcard-nested", ("docs/*/readme.md",), "/d/", {}, {"d": "dir", "d/readme.md": "other"}),
    ("two-sources", ("a.txt", "b.md"), "/d/", {}, {"d": "dir", "d/a.txt": "A", "d/b.md": "B"}),
    ("two-sources-existing-dir-no-slash", ("a.txt", "b.md"), "/d", {"d": DIR}, {"d/a.txt": "A", "d/b.md": "B"}),
    ("empty-wildcard-beside-match", ("nomatch*", "a.txt"), "/d/", {}, {"d": "dir", "d/a.txt": "A"}),
    ("link-source-is-followed", ("to-a",), "/d/", {}, {"d": "dir", "d/to-a": "A"}),
    ("abs-link-to-dir-followed", ("to-src",), "/d", {}, {"d": "dir", "d/one.go": "one", "d/pkg": "dir", "d/pkg/two.go": "two", "d/pkg/skip.txt": "skip", "d/inner": "link:one.go"}),
    ("leading-slash-and-dotdot-clamped", ("/../../a.txt",), "/x", {}, {"x": "A"}),
    ("root-dest", ("a.txt",), "/", {}, {"a.txt": "A"}),
]


def _run(tmp_path: Path, sources, dest, existing, **kwargs) -> tuple[Path, dict[str, str]]:
    ctx = make_tree(tmp_path / "ctx", CONTEXT)
    root = make_tree(tmp_path / "root", existing)
    before = read_tree(root)
    apply_copy(CopySpec(dest=dest, sources=tuple(sources), source_root=ctx, **kwargs), dest_root=root)
    after = read_tree(root)
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    return root, changed


@pytest.mark.parametrize(("sources", "dest", "existing", "expected"), [c[1:] for c in PLACEMENT], ids=[c[0] for c in PLACEMENT])
def test_placement(tmp_path: Path, sources, dest, existing, expected) -> None:
    _, changed = _run(tmp_path, sources, dest, existing)
    assert changed == expected


ERRORS = [
    ("several-sources-need-slash", ("a.txt", "b.md"), "/d", {}, BuildError, "must be a directory and end with a /"),
    ("wildcard-several-need-slash", ("*.txt",), "/d", {}, BuildError, "must be a directory and end with a /"),
    ("missing-source", ("nope.txt",), "/d/", {}, ContextError, '"/nope.txt": not found'),
    ("dir-over-file", ("src",), "/f", {"f": "file"}, BuildError, "not a directory"),
    ("file-over-dir-inside", ("src/pkg",), "/d/", {"d/two.go": DIR}, BuildError, "cannot replace directory"),
    ("parent-is-a-file", ("a.txt",), "/f/x", {"f": "file"}, BuildError, "not a directory"),
    ("abs-link-outside-context", ("to-src/../../etc/passwd",), "/x", {}, ContextError, "not found"),
]


@pytest.mark.parametrize(
    ("sources", "dest", "existing", "error", "message"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS]
)
def test_errors(tmp_path: Path, sources, dest, existing, error, message) -> None:
    with pytest.raises(error, match=message.replace("/", "/").replace(".", r"\.").replace("(", r"\(")) as info:
        _run(tmp_path, sources, dest, existing)
    assert isinstance(info.value, PybuildkitError)


def test_empty_wildcard_copies_nothing_like_buildkit(tmp_path: Path) -> None:
    _, changed = _run(tmp_path, ("nomatch*",), "/d/", {})
    assert changed == {}
    with pytest.raises(BuildError, match="no source files were specified"):
        _run(tmp_path / "strict", ("nomatch*", "none?"), "/d/", {}, allow_empty_wildcard=False)


def test_error_leaves_no_partial_files(tmp_path: Path) -> None:
    """A failing step writes nothing: every source is selected and checked before the first write."""
    ctx = make_tree(tmp_path / "ctx", CONTEXT)
    root = make_tree(tmp_path / "root", {})
    with pytest.raises(ContextError):
        apply_copy(CopySpec(dest="/d/", sources=("a.txt", "missing"), source_root=ctx), dest_root=root)
    assert read_tree(root) == {}


PARENTS = [
    ("keeps-path", ("src/pkg/two.go",), "/d/", {"d": "dir", "d/src": "dir", "d/src/pkg": "dir", "d/src/pkg/two.go": "two"}),
    ("wildcard-dirs", ("docs/*/readme.md",), "/d/", {"d": "dir", "d/docs": "dir", "d/docs/x": "dir", "d/docs/y": "dir", "d/docs/x/readme.md": "readme", "d/docs/y/readme.md": "other"}),
    ("pivot", ("docs/./x/readme.md",), "/d/", {"d": "dir", "d/x": "dir", "d/x/readme.md": "readme"}),
    ("dir-match-brings-tree", ("src/pkg",), "/d/", {"d": "dir", "d/src": "dir", "d/src/pkg": "dir", "d/src/pkg/two.go": "two", "d/src/pkg/skip.txt": "skip"}),
    ("links-not-followed", ("src/inner",), "/d/", {"d": "dir", "d/src": "dir", "d/src/inner": "link:one.go"}),
]


@pytest.mark.parametrize(("sources", "dest", "expected"), [c[1:] for c in PARENTS], ids=[c[0] for c in PARENTS])
def test_parents(tmp_path: Path, sources, dest, expected) -> None:
    _, changed = _run(tmp_path, sources, dest, {}, parents=True)
    assert changed == expected


FILTERS = [
    ("exclude-in-dir", dict(sources=("src",), excludes=("*.txt", "**/*.txt")), {"d/one.go", "d/pkg", "d/pkg/two.go", "d/inner"}),
    ("exclude-wildcard-match", dict(sources=("*",), excludes=("*.txt", "docs", "src", "to-*", "empty")), {"d/b.md"}),
    ("exclude-with-parents", dict(sources=("src",), parents=True, excludes=("src/pkg",)), {"d/src", "d/src/one.go", "d/src/inner"}),
    ("dockerignore-dir", dict(sources=(".",), ignore=("src", "docs", "to-*", "empty")), {"d/a.txt", "d/z.txt", "d/b.md"}),
    ("dockerignore-exception", dict(sources=("src",), ignore=("**/*.go", "!src/pkg/two.go")), {"d/pkg", "d/pkg/two.go", "d/pkg/skip.txt", "d/inner"}),
    ("dockerignore-wildcard", dict(sources=("*.txt",), ignore=("z.txt",)), {"d/a.txt"}),
]


@pytest.mark.parametrize(("kwargs", "expected"), [c[1:] for c in FILTERS], ids=[c[0] for c in FILTERS])
def test_filters(tmp_path: Path, kwargs, expected) -> None:
    kwargs = dict(kwargs)
    if "ignore" in kwargs:
        kwargs["ignore"] = PatternMatcher.from_patterns(kwargs["ignore"])
    _, changed = _run(tmp_path, kwargs.pop("sources"), "/d/", {}, **kwargs)
    assert set(changed) - {"d"} == expected


def test_dockerignored_source_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(ContextError, match="not found"):
        _run(tmp_path, ("a.txt",), "/d/", {}, ignore=PatternMatcher.from_patterns(["a.txt"]))


def test_stage_source_ignores_dockerignore_flag(tmp_path: Path) -> None:
    """A matcher is the context's business: a stage root is copied whole."""
    _, changed = _run(tmp_path, ("a.txt",), "/d/", {}, from_context=False, ignore=PatternMatcher.from_patterns(["a.txt"]))
    assert changed == {"d": "dir", "d/a.txt": "A"}
