"""Hostile or malformed JSON becomes a clear ImageError, and the oci package does no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pybuildkit.oci
from pybuildkit.errors import ImageError
from pybuildkit.oci import (
    Descriptor,
    FrozenMap,
    Image,
    Index,
    Manifest,
    canonical_json,
    digest_hex,
    is_digest,
    is_hex_prefix,
    parse_manifest_or_index,
    validate_digest,
)

GOOD = "sha256:" + "0" * 64


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        (GOOD, True),
        ("sha512:" + "0" * 128, True),
        ("sha256:" + "0" * 63, False),
        ("sha256:" + "A" * 64, False),
        ("sha256:" + "0" * 64 + "/..", False),
        ("md5:abc", True),
        ("nocolon", False),
        ("", False),
    ],
)
def test_digest_validation(text: str, ok: bool) -> None:
    assert is_digest(text) is ok
    if not ok:
        with pytest.raises(ImageError):
            validate_digest(text)


def test_digest_hex_refuses_other_algorithms() -> None:
    assert digest_hex(GOOD) == "0" * 64
    with pytest.raises(ImageError):
        digest_hex("sha512:" + "0" * 128)


@pytest.mark.parametrize(("text", "ok"), [("abc123", True), ("sha256:ab", True), ("", False), ("xyz", False), ("0" * 65, False)])
def test_hex_prefix(text: str, ok: bool) -> None:
    assert is_hex_prefix(text) is ok


BAD_MANIFESTS = [
    b"not json",
    b"[]",
    b'{"schemaVersion":1}',
    b'{"schemaVersion":2}',
    b'{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:bad","size":1}}',
    b'{"schemaVersion":2,"config":{"mediaType":"x","digest":"' + GOOD.encode() + b'","size":-1}}',
    b'{"schemaVersion":2,"config":{"mediaType":"x","digest":"' + GOOD.encode() + b'","size":"1"}}',
    b'{"schemaVersion":2,"config":{"mediaType":"x","digest":"' + GOOD.encode() + b'","size":1},"layers":{}}',
    b'{"schemaVersion":2,"config":{"mediaType":"x","digest":"' + GOOD.encode() + b'","size":1},"layers":[1]}',
    b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","config":{"mediaType":"x","digest":"' + GOOD.encode() + b'","size":1}}',
]


@pytest.mark.parametrize("data", BAD_MANIFESTS)
def test_bad_manifests(data: bytes) -> None:
    with pytest.raises(ImageError):
        Manifest.from_json(data)


BAD_CONFIGS = [
    b'{"config":{"Env":"PATH=/bin"}}',
    b'{"config":{"Cmd":[1]}}',
    b'{"config":{"Labels":{"a":1}}}',
    b'{"config":{"ArgsEscaped":"yes"}}',
    b'{"rootfs":{"diff_ids":["nope"]}}',
    b'{"history":["x"]}',
    b'{"architecture":5}',
]


@pytest.mark.parametrize("data", BAD_CONFIGS)
def test_bad_configs(data: bytes) -> None:
    with pytest.raises(ImageError):
        Image.from_json(data)


def test_parse_manifest_or_index() -> None:
    index = Index(manifests=(Descriptor("application/vnd.oci.image.manifest.v1+json", GOOD, 1),))
    assert isinstance(parse_manifest_or_index(index.to_bytes()), Index)
    manifest = Manifest(config=Descriptor("application/vnd.oci.image.config.v1+json", GOOD, 1))
    assert isinstance(parse_manifest_or_index(manifest.to_bytes()), Manifest)


def test_canonical_json_is_order_independent() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": 2, "c": "é"}]}) == canonical_json({"a": [1, {"c": "é", "d": 2}], "b": 1})
    assert canonical_json({"k": "é"}) == '{"k":"é"}'.encode()


def test_frozen_map() -> None:
    a = FrozenMap({"x": "1", "y": "2"})
    assert a == {"y": "2", "x": "1"} and hash(a) == hash(FrozenMap({"y": "2", "x": "1"}))
    with pytest.raises(TypeError):
        a["x"] = "2"  # type: ignore[index]


FORBIDDEN = {"os", "subprocess", "tarfile", "shutil", "pathlib", "socket", "sqlite3", "tempfile", "io"}


@pytest.mark.parametrize("module", sorted(Path(pybuildkit.oci.__file__).parent.glob("*.py")), ids=lambda p: p.name)
def test_oci_package_does_no_io(module: Path) -> None:
    tree = ast.parse(module.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not {a.name.split(".")[0] for a in node.names} & FORBIDDEN, module.name
        elif isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] not in FORBIDDEN, module.name
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "open", module.name


def test_every_module_declares_all() -> None:
    for module in Path(pybuildkit.oci.__file__).parent.glob("*.py"):
        assert "__all__" in module.read_text(), module.name
