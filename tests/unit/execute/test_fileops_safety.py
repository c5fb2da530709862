"""Hostile trees on both sides: nothing is read from outside the source root, nothing is written
outside the destination root, special files in the context are refused before any write."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybuildkit.errors import BuildError, ContextError, PybuildkitError
from pybuildkit.execute.fileops import CopySpec, apply_copy

from .test_fileops_support import link, make_tree, read_tree


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A directory standing for the host outside both roots, with a secret in it."""
    return make_tree(tmp_path / "host", {"secret": "host secret", "dir/keep": "keep"})


def _outside_links(host: Path) -> dict[str, object]:
    depth = "../" * 12
    return {
        "usr/lib": link("/lib"),
        "lib": link("/real-lib"),
        "real-lib/.keep": "",
        "escape": link("/"),
        "up": link("../../../../.."),
        "etc/target": link(f"{depth}{host.relative_to('/')}/secret"),
        "abs-host": link(str(host / "dir")),
        "loop": link("/loop"),
    }


# (id, dest, where the file must land, relative to the destination root)
DEST_CASES = [
    ("usrmerge-link", "/usr/lib/x", "real-lib/x"),
    ("link-to-root", "/escape/x", "x"),
    ("dotdot-link", "/up/x", "x"),
    ("final-link-climbing-out", "/etc/target", "host-like"),
    ("absolute-host-path-link", "/abs-host/x", "abs-host-scoped"),
]


@pytest.mark.parametrize(("dest", "lands"), [c[1:] for c in DEST_CASES], ids=[c[0] for c in DEST_CASES])
def test_destination_links_stay_inside(tmp_path: Path, host: Path, dest: str, lands: str) -> None:
    ctx = make_tree(tmp_path / "ctx", {"f": "payload"})
    root = make_tree(tmp_path / "root", _outside_links(host))
    before_host = read_tree(host)
    result = apply_copy(CopySpec(dest=dest, sources=("f",), source_root=ctx), dest_root=root)
    assert read_tree(host) == before_host
    written = [p for p in result.written if (root / p).is_file()]
    assert len(written) == 1
    target = root / written[0]
    assert target.read_text() == "payload"
    assert os.path.realpath(target).startswith(os.path.realpath(root) + os.sep)
    if lands == "host-like":
        assert written[0].endswith(f"{host.relative_to('/')}/secret")
    elif lands == "abs-host-scoped":
        assert written[0] == f"{str(host / 'dir').lstrip('/')}/x"
    else:
        assert written[0] == lands


def test_tree_copy_through_link_to_outside_is_refused_or_scoped(tmp_path: Path, host: Path) -> None:
    ctx = make_tree(tmp_path / "ctx", {"src/dir/x": "payload"})
    root = make_tree(tmp_path / "root", {"d/dir": link(str(host / "dir"))})
    before_host = read_tree(host)
    with pytest.raises(BuildError, match="cannot copy to non-directory"):
        apply_copy(CopySpec(dest="/d/", sources=("src",), source_root=ctx), dest_root=root)
    assert read_tree(host) == before_host


def test_symlink_loop_in_destination(tmp_path: Path, host: Path) -> None:
    ctx = make_tree(tmp_path / "ctx", {"f": "payload"})
    root = make_tree(tmp_path / "root", _outside_links(host))
    with pytest.raises(BuildError, match="symbolic links"):
        apply_copy(CopySpec(dest="/loop/x", sources=("f",), source_root=ctx), dest_root=root)


SOURCE_CASES = [
    ("dotdot-clamped", "../../../host/secret"),
    ("absolute-link", "abs-secret"),
    ("relative-link-climbing", "rel-secret"),
    ("link-dir-outside", "abs-dir/keep"),
]


@pytest.mark.parametrize("source", [c[1] for c in SOURCE_CASES], ids=[c[0] for c in SOURCE_CASES])
def test_sources_never_leave_the_root(tmp_path: Path, host: Path, source: str) -> None:
    ctx = make_tree(
        tmp_path / "ctx",
        {
            "abs-secret": link(str(host / "secret")),
            "rel-secret": link("../" * 12 + str(host / "secret").lstrip("/")),
            "abs-dir": link(str(host / "dir")),
        },
    )
    root = make_tree(tmp_path / "root", {})
    with pytest.raises(ContextError, match="not found"):
        apply_copy(CopySpec(dest="/x", sources=(source,), source_root=ctx), dest_root=root)
    assert read_tree(root) == {}


def test_links_inside_a_copied_dir_are_not_followed(tmp_path: Path, host: Path) -> None:
    ctx = make_tree(tmp_path / "ctx", {"d/evil": link(str(host / "secret")), "d/ok": "ok"})
    root = make_tree(tmp_path / "root", {})
    apply_copy(CopySpec(dest="/out/", sources=("d",), source_root=ctx), dest_root=root)
    assert os.readlink(root / "out/evil") == str(host / "secret")
    assert "host secret" not in read_tree(root).values()


@pytest.mark.parametrize("sources", [("fifo",), ("d",), ("*",)], ids=["named", "inside-dir", "wildcard"])
def test_fifo_in_context_refused_before_writing(tmp_path: Path, sources: tuple[str, ...]) -> None:
    ctx = make_tree(tmp_path / "ctx", {"a": "a", "d/ok": "ok"})
    os.mkfifo(ctx / "fifo")
    os.mkfifo(ctx / "d/pipe")
    root = make_tree(tmp_path / "root", {})
    with pytest.raises(ContextError, match="FIFO") as info:
        apply_copy(CopySpec(dest="/out/", sources=sources, source_root=ctx), dest_root=root)
    assert "Traceback" not in info.value.render()
    assert read_tree(root) == {}


def test_fifo_from_a_stage_is_recreated(tmp_path: Path) -> None:
    stage = make_tree(tmp_path / "stage", {"run/x": "x"})
    os.mkfifo(stage / "run/pipe")
    root = make_tree(tmp_path / "root", {})
    apply_copy(CopySpec(dest="/run", sources=("/run",), source_root=stage, from_context=False), dest_root=root)
    assert stat.S_ISFIFO(os.lstat(root / "run/pipe").st_mode)


def test_errors_are_project_errors(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "root", {})
    with pytest.raises(PybuildkitError):
        apply_copy(CopySpec(dest="relative", sources=("x",), source_root=tmp_path), dest_root=root)
    with pytest.raises(PybuildkitError):
        apply_copy(CopySpec(dest="/x", sources=("x",), source_root=tmp_path / "missing"), dest_root=root)
    with pytest.raises(PybuildkitError):
        apply_copy(CopySpec(dest="/x", sources=("x",), source_root=tmp_path), dest_root=tmp_path / "nope")


_PARTS = st.sampled_from(["a", "b", "c", "..", "."])
_TARGETS = st.sampled_from(["/", "..", "../..", "../../../..", "/a", "b", "a/b", "/c/..", "HOST"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    links=st.dictionaries(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2).map("/".join), _TARGETS, max_size=4),
    dest=st.lists(_PARTS, min_size=1, max_size=4).map(lambda p: "/" + "/".join(p)),
    slash=st.booleans(),
)
def test_random_destination_links_never_escape(tmp_path_factory, links, dest: str, slash: bool) -> None:
    base = tmp_path_factory.mktemp("fuzz")
    host = make_tree(base / "host", {"secret": "s"})
    ctx = make_tree(base / "ctx", {"d/f": "payload", "d/sub/g": "g", "file": "one"})
    root = base / "root"
    root.mkdir()
    for rel, target in sorted(links.items()):
        path = root / rel
        if path.parent.is_symlink() or (path.parent.exists() and not path.parent.is_dir()):
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if not os.path.lexists(path):
            os.symlink(str(host) if target == "HOST" else target, path)
    before = read_tree(host)
    for sources in (("d",), ("file",), ("d", "file")):
        try:
            result = apply_copy(CopySpec(dest=dest + ("/" if slash else ""), sources=sources, source_root=ctx), dest_root=root)
        except PybuildkitError:
            continue
        for written in result.written:
            assert os.path.realpath(root / written).startswith(os.path.realpath(root)), written
    assert read_tree(host) == before
    assert sorted(p.name for p in base.iterdir()) == ["ctx", "host", "root"]
