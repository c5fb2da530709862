"""The unpacker treats every layer as hostile: nothing escapes the target, bad input is an ImageError.

The tars are made with Python's tarfile, byte for byte what an attacker could hand us.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard

from pybuildkit.errors import ImageError
from pybuildkit.snapshot.unpack import UnpackLimits, apply_layer, detect_compression

Member = tuple[str, str, object]  # (name, kind, payload)


def make_tar(*members: Member, fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1000
            data = None
            if kind == "file":
                data = payload if isinstance(payload, bytes) else b""
                info.size = len(data)
                info.mode = 0o644
            elif kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, str(payload)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, str(payload)
            elif kind == "pax":
                info.pax_headers = dict(payload)  # type: ignore[arg-type]
            elif kind == "sparse":
                info.type = tarfile.GNUTYPE_SPARSE
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


@pytest.fixture
def area(tmp_path: Path) -> tuple[Path, Path]:
    target = tmp_path / "target"
    outside = tmp_path / "outside"
    target.mkdir()
    outside.mkdir()
    (outside / "secret").write_bytes(b"keep me")
    return target, outside


def snapshot_of(path: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for p in sorted(path.rglob("*")):
        out[str(p.relative_to(path))] = os.readlink(p) if p.is_symlink() else (p.read_bytes() if p.is_file() else "dir")
    return out


HOSTILE: list[tuple[str, Callable[[Path], bytes]]] = [
    ("dotdot", lambda out: make_tar(("../outside/evil", "file", b"x"))),
    ("dotdot-inner", lambda out: make_tar(("a/../../outside/evil", "file", b"x"))),
    ("absolute", lambda out: make_tar((str(out / "evil"), "file", b"x"))),
    ("absolute-symlink-then-write", lambda out: make_tar(("ln", "symlink", str(out)), ("ln/evil", "file", b"x"))),
    ("root-symlink-then-write", lambda out: make_tar(("ln", "symlink", "/"), ("ln/tmp/evil", "file", b"x"))),
    ("relative-symlink-climbing", lambda out: make_tar(("d", "dir", None), ("d/up", "symlink", "../../outside"), ("d/up/evil", "file", b"x"))),
    ("symlink-chain-climbing", lambda out: make_tar(("a", "symlink", "b"), ("b", "symlink", "../outside"), ("a/evil", "file", b"x"))),
    ("symlink-loop", lambda out: make_tar(("a", "symlink", "b"), ("b", "symlink", "a"), ("a/evil", "file", b"x"))),
    ("hardlink-absolute", lambda out: make_tar(("pw", "hardlink", "/etc/passwd"))),
    ("hardlink-dotdot", lambda out: make_tar(("pw", "hardlink", "../outside/secret"))),
    ("hardlink-through-symlink", lambda out: make_tar(("ln", "symlink", "../outside"), ("pw", "hardlink", "ln/secret"))),
    ("hardlink-missing", lambda out: make_tar(("pw", "hardlink", "nothing"))),
    ("huge-pax-header", lambda out: make_tar(("f", "pax", {"comment": "x" * (2 << 20)}))),
    ("gnu-long-name-huge", lambda out: make_tar(("n" * (2 << 20), "file", b""), fmt=tarfile.GNU_FORMAT)),
    ("gnu-sparse", lambda out: make_tar(("s", "sparse", None), fmt=tarfile.GNU_FORMAT)),
    ("garbage", lambda out: b"this is not a tar file at all" * 40),
    ("truncated-data", lambda out: make_tar(("f", "file", b"x" * 5000))[:1500]),
    ("truncated-gzip", lambda out: gzip.compress(make_tar(("f", "file", b"x" * 5000)))[:40]),
    ("corrupt-zstd", lambda out: zstandard.ZstdCompressor().compress(make_tar(("f", "file", b"x")))[:12] + b"\xff" * 30),
]


@pytest.mark.parametrize("make", [m for _, m in HOSTILE], ids=[n for n, _ in HOSTILE])
def test_hostile_layer_is_refused_and_nothing_escapes(area: tuple[Path, Path], make: Callable[[Path], bytes]) -> None:
    target, outside = area
    before = snapshot_of(outside)
    siblings = sorted(p.name for p in target.parent.iterdir())
    with pytest.raises(ImageError):
        apply_layer(io.BytesIO(make(outside)), target)
    assert snapshot_of(outside) == before
    assert sorted(p.name for p in target.parent.iterdir()) == siblings
    assert not Path("/etc/evil").exists()


def _bomb(total: int) -> bytes:
    """A gzip'd tar claiming one file of `total` zero bytes: tiny on disk, huge unpacked."""
    info = tarfile.TarInfo("zeros")
    info.size = total
    header = info.tobuf(tarfile.PAX_FORMAT)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [comp.compress(header)]
    chunk = bytes(1 << 20)
    for _ in range(total >> 20):
        parts.append(comp.compress(chunk))
    parts.append(comp.flush())
    return b"".join(parts)


def test_decompression_bomb_stops_at_the_limit(area: tuple[Path, Path]) -> None:
    target, _ = area
    bomb = _bomb(64 << 20)
    assert len(bomb) < 200_000
    with pytest.raises(ImageError, match="expands beyond"):
        apply_layer(io.BytesIO(bomb), target, limits=UnpackLimits(max_uncompressed_bytes=8 << 20))


def test_entry_count_limit(area: tuple[Path, Path]) -> None:
    target, _ = area
    layer = make_tar(*[(f"f{i}", "file", b"") for i in range(5)])
    with pytest.raises(ImageError, match="more than 3 entries"):
        apply_layer(io.BytesIO(layer), target, limits=UnpackLimits(max_entries=3))


def test_header_limit_is_configurable(area: tuple[Path, Path]) -> None:
    target, _ = area
    layer = make_tar(("f", "pax", {"comment": "x" * 5000}))
    with pytest.raises(ImageError, match="extended header"):
        apply_layer(io.BytesIO(layer), target, limits=UnpackLimits(max_header_bytes=1024))
    apply_layer(io.BytesIO(layer), target)
    assert (target / "f").exists()


def test_existing_symlink_is_replaced_not_written_through(area: tuple[Path, Path]) -> None:
    target, outside = area
    os.symlink(outside / "secret", target / "f")
    apply_layer(io.BytesIO(make_tar(("f", "file", b"new"))), target)
    assert (outside / "secret").read_bytes() == b"keep me"
    assert not (target / "f").is_symlink() and (target / "f").read_bytes() == b"new"


def test_relative_symlink_inside_is_followed(area: tuple[Path, Path]) -> None:
    """Merged-/usr images: `lib -> usr/lib`, then a later layer writes `lib/x`."""
    target, _ = area
    layer = make_tar(("usr", "dir", None), ("usr/lib", "dir", None), ("lib", "symlink", "usr/lib"), ("lib/x", "file", b"x"),
                     ("usr/bin", "dir", None), ("usr/bin/up", "symlink", "../lib"), ("usr/bin/up/y", "file", b"y"))
    apply_layer(io.BytesIO(layer), target)
    assert (target / "usr/lib/x").read_bytes() == b"x"
    assert (target / "usr/lib/y").read_bytes() == b"y"
    assert (target / "lib").is_symlink()


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ([("f", "file", b"1"), ("f", "file", b"2")], {"f": b"2"}),
        ([("f", "file", b"1"), ("f", "dir", None), ("f/g", "file", b"g")], {"f": "dir", "f/g": b"g"}),
        ([("d", "dir", None), ("d/x", "file", b"x"), ("d", "file", b"now a file")], {"d": b"now a file"}),
        ([("./a", "file", b"a"), ("./", "dir", None), ("b//c", "file", b"c")], {"a": b"a", "b": "dir", "b/c": b"c"}),
    ],
    ids=["file-twice", "file-then-dir", "dir-then-file", "dot-slash-and-double-slash"],
)
def test_duplicates_last_wins_and_names_normalise(area: tuple[Path, Path], members: list[Member], expected: dict) -> None:
    target, _ = area
    apply_layer(io.BytesIO(make_tar(*members)), target)
    assert snapshot_of(target) == expected


def test_whiteouts_delete_lower_content(area: tuple[Path, Path]) -> None:
    target, _ = area
    lower = make_tar(("keep", "file", b"k"), ("gone", "file", b"g"), ("d", "dir", None), ("d/old", "file", b"o"),
                     ("d/sub", "dir", None), ("d/sub/older", "file", b"o"), ("e", "dir", None), ("e/x", "file", b"x"))
    upper = make_tar(("-early", "file", b"e"), ("d", "dir", None), ("d/+new", "file", b"n"), ("d/.wh..wh..opq", "file", b""),
                     ("d/sub", "dir", None), ("d/sub/mine", "file", b"m"), (".wh.gone", "file", b""), (".wh.e", "file", b""),
                     (".wh.never-existed", "file", b""))
    apply_layer(io.BytesIO(lower), target)
    apply_layer(io.BytesIO(upper), target)
    assert snapshot_of(target) == {"-early": b"e", "d": "dir", "d/+new": b"n", "d/sub": "dir", "d/sub/mine": b"m", "keep": b"k"}


def test_metadata_is_restored(area: tuple[Path, Path]) -> None:
    target, _ = area
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        d = tarfile.TarInfo("ro")
        d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o555, 1234
        tf.addfile(d)
        f = tarfile.TarInfo("ro/suid")
        f.mode, f.mtime, f.size = 0o4755, 99, 2
        tf.addfile(f, io.BytesIO(b"ok"))
    apply_layer(io.BytesIO(buf.getvalue()), target)
    st = os.stat(target / "ro" / "suid")
    assert st.st_mode & 0o7777 == 0o4755 and st.st_mtime == 99
    st = os.stat(target / "ro")
    assert st.st_mode & 0o7777 == 0o555 and st.st_mtime == 1234


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd", "gzip-multimember"])
def test_compressions_detected_and_diff_id_checked(area: tuple[Path, Path], compression: str) -> None:
    target, _ = area
    raw = make_tar(("f", "file", b"data"))
    diff_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    blob = {
        "none": raw,
        "gzip": gzip.compress(raw),
        "zstd": zstandard.ZstdCompressor().compress(raw),
        "gzip-multimember": gzip.compress(raw[:700]) + gzip.compress(raw[700:]),
    }[compression]
    result = apply_layer(io.BytesIO(blob), target, expect_diff_id=diff_id)
    assert result.diff_id == diff_id and result.uncompressed_size == len(raw)
    with pytest.raises(ImageError, match="diff_id"):
        apply_layer(io.BytesIO(blob), target, expect_diff_id="sha256:" + "0" * 64)


@pytest.mark.parametrize(("head", "kind"), [(b"\x1f\x8b\x08", "gzip"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"abc", "none"), (b"", "none")])
def test_detect_compression(head: bytes, kind: str) -> None:
    assert detect_compression(head) == kind
