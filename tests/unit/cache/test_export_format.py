"""The pure side of cache export: option spelling, the artifact's wire form, key selection,
sizes and durations. No store, no filesystem."""

from __future__ import annotations

import pytest

from pybuildkit.cache.artifact import CACHE_ARTIFACT_TYPE, CACHE_CONFIG_TYPE, CacheArtifact, MountLayer, check_manifest, merge
from pybuildkit.cache.keys import KeyInputs, cache_key
from pybuildkit.cache.maintenance import parse_duration, parse_size
from pybuildkit.cache.spec import parse_cache_spec
from pybuildkit.cache.transfer import select_keys
from pybuildkit.errors import ImageError, UsageError
from pybuildkit.oci.descriptor import Descriptor
from pybuildkit.oci.manifest import Manifest
from pybuildkit.store import CacheRecord


def digest(n: int) -> str:
    return "sha256:" + f"{n:064x}"


@pytest.mark.parametrize(
    ("text", "export", "kind", "location", "mode", "mounts", "tag"),
    [
        ("type=local,dest=/c", True, "local", "/c", "min", False, "latest"),
        ("type=local,dest=/c,mode=max,cache-mounts=true", True, "local", "/c", "max", True, "latest"),
        ("dest=/c", True, "local", "/c", "min", False, "latest"),
        ("type=local,src=/c,tag=ci", False, "local", "/c", "min", False, "ci"),
        ("type=registry,ref=localhost:5000/app:cache", True, "registry", "localhost:5000/app:cache", "min", False, "latest"),
        ("localhost:5000/app:cache", False, "registry", "localhost:5000/app:cache", "min", False, "latest"),
        ("type=inline", True, "inline", "", "min", False, "latest"),
    ],
)
def test_cache_specs(text: str, export: bool, kind: str, location: str, mode: str, mounts: bool, tag: str) -> None:
    spec = parse_cache_spec(text, export=export)
    assert (spec.type, spec.location, spec.mode, spec.cache_mounts, spec.tag) == (kind, location, mode, mounts, tag)


@pytest.mark.parametrize(
    ("text", "export", "words"),
    [
        ("type=s3,bucket=x", True, "unknown cache type"),
        ("type=local", True, "needs dest=DIR"),
        ("type=local,dest=/c", False, "needs src=DIR"),
        ("type=registry", False, "needs ref="),
        ("type=local,dest=/c,mode=all", True, "invalid cache mode"),
        ("type=local,dest=/c,cache-mounts=maybe", True, "invalid cache-mounts"),
        ("type=local,dest=/c,oops", True, "expected key=value"),
        ("type=local,dest=/c,tag=a/b", True, "invalid tag"),
    ],
)
def test_bad_cache_specs_are_usage_errors(text: str, export: bool, words: str) -> None:
    with pytest.raises(UsageError, match=words):
        parse_cache_spec(text, export=export)


def _record(n: int, **extra: object) -> CacheRecord:
    layer = Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", digest(100 + n), 10 + n)
    return CacheRecord(key=digest(n), layer=layer, diff_id=digest(200 + n), metadata={"created": "2024-01-01T00:00:00Z", **extra})


def test_artifact_round_trips_through_its_config() -> None:
    mount = MountLayer(id="apt", layer=Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", digest(300), 5), diff_id=digest(301))
    artifact = CacheArtifact(records=[_record(1, inputs={"kind": "exec"}), _record(2)], mounts=[mount])
    back = CacheArtifact.from_config(artifact.config_bytes())
    assert {r.key: r for r in back.records} == {r.key: r for r in artifact.records}
    assert back.mounts == artifact.mounts
    manifest = Manifest.from_json(artifact.manifest().to_bytes())
    check_manifest(manifest)
    assert manifest.artifact_type == CACHE_ARTIFACT_TYPE and manifest.config.media_type == CACHE_CONFIG_TYPE
    assert [layer.digest for layer in manifest.layers] == [digest(101), digest(102), digest(300)]
    assert manifest.layers[-1].annotations["vnd.pybuildkit.cache.mount.id"] == "apt"


def test_shared_layers_are_listed_once_and_the_manifest_is_stable() -> None:
    a, b = _record(1), _record(2)
    b = CacheRecord(key=b.key, layer=a.layer, diff_id=a.diff_id)
    one = CacheArtifact(records=[a, b]).manifest()
    two = CacheArtifact(records=[b, a]).manifest()
    assert len(one.layers) == 1
    assert one.to_bytes() == two.to_bytes()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b'{"version": 2, "records": {}}', "format version"),
        (b'{"version": 1, "records": []}', "must be an object"),
        (b'{"version": 1, "records": {"nope": {}}}', "invalid digest"),
        (b'{"version": 1, "mounts": [{"id": 1}]}', "mount entry"),
        (b"[]", "must be a JSON object"),
    ],
)
def test_bad_configs_are_image_errors(data: bytes, words: str) -> None:
    with pytest.raises(ImageError, match=words):
        CacheArtifact.from_config(data)


def test_an_image_manifest_is_not_a_cache() -> None:
    manifest = Manifest(config=Descriptor("application/vnd.oci.image.config.v1+json", digest(1), 2))
    with pytest.raises(ImageError, match="not a pybuildkit cache"):
        check_manifest(manifest)


def test_merge_keeps_the_first_of_each_key() -> None:
    first = _record(1, created="first")
    later = CacheRecord(key=first.key, layer=first.layer, diff_id=first.diff_id, metadata={"created": "later"})
    merged = merge([CacheArtifact(records=[first]), CacheArtifact(records=[later, _record(2)])])
    assert {r.key: r.metadata["created"] for r in merged.records}[first.key] == "first"
    assert len(merged.records) == 2


def _steps() -> dict[str, KeyInputs]:
    base = cache_key(KeyInputs(kind="image", fields={"manifest": digest(9)}))
    deps = KeyInputs(kind="exec", fields={"argv": ["deps"]}, parent=base)
    app1 = KeyInputs(kind="copy", fields={"dest": "/app"}, parent=base)
    app2 = KeyInputs(kind="copy", fields={"dest": "/deps"}, parent=cache_key(app1), inputs={"input1": cache_key(deps)})
    return {"deps/2": deps, "app/2": app1, "app/3": app2}


@pytest.mark.parametrize(("mode", "names"), [("min", ["app/2", "app/3"]), ("max", ["deps/2", "app/2", "app/3"])])
def test_select_keys(mode: str, names: list[str]) -> None:
    steps = _steps()
    chosen = select_keys(cache_key(steps["app/3"]), steps, mode)
    assert set(chosen) == {cache_key(steps[n]) for n in names}
    if mode == "min":
        assert chosen == tuple(cache_key(steps[n]) for n in names)  # base first


@pytest.mark.parametrize(
    ("text", "value"),
    [("4096", 4096), ("1k", 1024), ("512MiB", 512 << 20), ("10GB", 10 << 30), ("1.5g", 3 << 29), ("2 TB", 2 << 40)],
)
def test_sizes(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize(("text", "value"), [("24h", 86400), ("90m", 5400), ("7d", 604800), ("1h30m", 5400), ("10s", 10)])
def test_durations(text: str, value: float) -> None:
    assert parse_duration(text) == value


@pytest.mark.parametrize(("parse", "text"), [(parse_size, "ten"), (parse_size, "1x"), (parse_duration, "1x"), (parse_duration, ""), (parse_duration, "h")])
def test_bad_sizes_and_durations(parse: object, text: str) -> None:
    with pytest.raises(UsageError):
        parse(text)  # type: ignore[operator]
