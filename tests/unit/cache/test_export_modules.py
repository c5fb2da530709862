"""The cache package keeps to its layer (adapters: nothing from execute, exporters, api or cli),
names what it exports, and agrees with the executor on where cache mounts live."""

from __future__ import annotations

import ast
import importlib
import threading
from pathlib import Path

import pytest

import pybuildkit.cache
from pybuildkit.cache.mountdirs import mount_dir
from pybuildkit.cache.spec import parse_cache_spec
from pybuildkit.cache.transfer import export_cache
from pybuildkit.store import CacheRecord, Store

PACKAGE = Path(pybuildkit.cache.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
ABOVE = ("pybuildkit.execute", "pybuildkit.exporters", "pybuildkit.api", "pybuildkit.cli", "pybuildkit.containers")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("module", MODULES)
def test_no_imports_from_higher_layers(module: str) -> None:
    bad = [name for name in _imports(PACKAGE / f"{module}.py") if name.startswith(ABOVE)]
    assert bad == []


@pytest.mark.parametrize("module", MODULES)
def test_every_module_declares_all(module: str) -> None:
    loaded = importlib.import_module(f"pybuildkit.cache.{module}")
    assert all(hasattr(loaded, name) for name in loaded.__all__)


@pytest.mark.parametrize("mount_id", ["/var/cache/apt", "go-build", "a/b/c"])
def test_mount_dirs_match_the_executor(tmp_path: Path, mount_id: str) -> None:
    from pybuildkit.execute.mounts import cache_mount_dir

    assert mount_dir(tmp_path, mount_id) == cache_mount_dir(tmp_path, mount_id)


def test_concurrent_exports_into_one_directory_keep_both_tags(tmp_path: Path) -> None:
    with Store(tmp_path / "s") as store:
        keys = []
        for i in range(2):
            layer = store.put_bytes(f"l{i}".encode())
            key = "sha256:" + f"{i + 1}" * 64
            store.put_cache(CacheRecord(key=key, layer=layer, diff_id=layer.digest))
            keys.append(key)
        errors: list[BaseException] = []

        def export(i: int) -> None:
            try:
                for _ in range(3):
                    export_cache(store, parse_cache_spec(f"type=local,dest={tmp_path / 'c'},tag=t{i}", export=True), [keys[i]])
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=export, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        import json

        index = json.loads((tmp_path / "c" / "index.json").read_text())
        assert sorted(m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]) == ["t0", "t1"]
        assert len(list((tmp_path / "c" / "blobs" / "sha256").iterdir())) == 6
