"""Export records from a store to a cache target, and import them back into another store.

Export gathers the chosen records (and, if asked, cache-mount directories packed as layers),
writes every blob the target lacks, then the config, then the manifest: a reader racing an export
sees the old cache or the new one, never a manifest whose blobs are not there yet. A local target
then deletes blobs no tag reaches any more. Import reads the manifest and config, copies each
record's blobs into the store through verified ingests (digest, size, and the layer's diff_id),
and files the record; a record whose blob is missing or corrupt is skipped (counted), never filed
half-way.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from pybuildkit.cache.artifact import CacheArtifact, MountLayer, check_manifest
from pybuildkit.cache.keys import KeyInputs, cache_key
from pybuildkit.cache.layout import LocalCacheDir
from pybuildkit.cache.mountdirs import pack_mount, restore_mount
from pybuildkit.cache.spec import CacheSpec
from pybuildkit.errors import ImageError, PybuildkitError, UsageError
from pybuildkit.oci.descriptor import Descriptor
from pybuildkit.oci.manifest import Manifest
from pybuildkit.store import CacheRecord, Store

__all__ = [
    "ExportReport",
    "ImportReport",
    "select_keys",
    "plan_cache_mounts",
    "open_target",
    "export_cache",
    "import_cache",
]


@attrs.frozen
class ExportReport:
    """What an export wrote: records and mounts carried, blobs sent, blobs a local target dropped."""

    manifest: str
    records: int
    mounts: int
    blobs_written: int
    blobs_skipped: int
    blobs_removed: int = 0
    bytes_freed: int = 0


@attrs.frozen
class ImportReport:
    """What an import filed: records (new and already present), blobs copied, mounts restored."""

    records: int = 0
    already_present: int = 0
    blobs_copied: int = 0
    mounts_restored: int = 0
    skipped: tuple[str, ...] = ()


def select_keys(final_key: str, steps: Mapping[str, KeyInputs], mode: str) -> tuple[str, ...]:
    """The cache keys an export carries: for `min` the chain of steps under the final image (its
    parents back to the base, across `FROM stage`), for `max` every keyed step the build saw."""
    by_key = {cache_key(inputs): inputs for inputs in steps.values()}
    if mode == "max":
        return tuple(sorted(by_key))
    chain: list[str] = []
    key: str | None = final_key
    while key is not None and key in by_key and key not in chain:
        chain.append(key)
        key = by_key[key].parent
    return tuple(reversed(chain))


def plan_cache_mounts(plan: Any) -> tuple[str, ...]:
    """Ids of the `RUN --mount=type=cache` mounts a plan uses (id, or target when no id is set)."""
    from pybuildkit.plan import ExecOp

    ids: set[str] = set()
    for stage in plan.stages:
        for op in stage.ops:
            if isinstance(op, ExecOp):
                ids.update(m.id or m.target for m in op.mounts if m.type == "cache" and (m.id or m.target))
    return tuple(sorted(ids))


@contextlib.contextmanager
def open_target(spec: CacheSpec, *, insecure_registries: Iterable[str] = ()) -> Iterator[Any]:
    """The local directory or registry repository `spec` names, ready to read or write."""
    if spec.type == "local":
        yield LocalCacheDir(spec.location, spec.tag)
    elif spec.type == "registry":
        from pybuildkit.cache.regcache import RegistryCache

        with RegistryCache(spec.location, insecure_registries=insecure_registries) as target:
            yield target
    else:
        raise UsageError(f"cache type {spec.type!r} has no separate location to read or write")


def _records(store: Store, keys: Sequence[str]) -> list[CacheRecord]:
    records = []
    for key in keys:
        record = store.get_cache(key)
        if record is not None and all(store.has_blob(d) for d in record.refs()):
            records.append(record)
    return records


def _extra_blobs(store: Store, records: Sequence[CacheRecord]) -> list[Descriptor]:
    out = []
    for record in records:
        for digest in record.blobs:
            out.append(Descriptor("application/octet-stream", digest, store.blob_path(digest).stat().st_size))
    return out


def build_artifact(store: Store, keys: Sequence[str], mount_ids: Sequence[str] = (), *, compression: str = "gzip") -> tuple[CacheArtifact, Manifest]:
    """The artifact for `keys` (records the store lacks are left out) and cache mounts `mount_ids`."""
    records = _records(store, keys)
    mounts: list[MountLayer] = []
    for mount_id in mount_ids:
        packed = pack_mount(store, mount_id, compression=compression)
        if packed is not None:
            mounts.append(packed)
    artifact = CacheArtifact(records=records, mounts=mounts)
    return artifact, artifact.manifest(_extra_blobs(store, records))


def export_cache(
    store: Store,
    spec: CacheSpec,
    keys: Sequence[str],
    mount_ids: Sequence[str] = (),
    *,
    compression: str = "gzip",
    insecure_registries: Iterable[str] = (),
) -> ExportReport:
    """Write the records under `keys` (and, with `cache-mounts=true`, the mounts `mount_ids`) to
    the target `spec` names, replacing what its tag held before."""
    with store.lease():
        artifact, manifest = build_artifact(store, keys, mount_ids if spec.cache_mounts else (), compression=compression)
        config = artifact.config_bytes()
        data = manifest.to_bytes()
        desc = attrs.evolve(manifest.descriptor(), artifact_type=manifest.artifact_type)
        written = skipped = 0
        with open_target(spec, insecure_registries=insecure_registries) as target, target.locked(exclusive=True):
            for blob in manifest.layers:
                if target.has_blob(blob):
                    skipped += 1
                    continue
                with store.open_blob(blob.digest) as source:
                    target.put_blob(blob, source)
                written += 1
            if not target.has_blob(manifest.config):
                target.put_blob(manifest.config, io.BytesIO(config))
            target.put_manifest(data, desc)
            removed, freed = target.collect()
    return ExportReport(
        manifest=desc.digest,
        records=len(artifact.records),
        mounts=len(artifact.mounts),
        blobs_written=written,
        blobs_skipped=skipped,
        blobs_removed=removed,
        bytes_freed=freed,
    )


def read_artifact(target: Any) -> CacheArtifact:
    """The artifact a target holds, its manifest and config verified; an image manifest with an
    inline cache annotation gives the records of its own layers."""
    manifest = Manifest.from_json(target.get_manifest())
    from pybuildkit.cache.inline import inline_artifact

    inline = inline_artifact(manifest)
    if inline is not None:
        return inline
    check_manifest(manifest)
    return CacheArtifact.from_config(target.read_small(manifest.config))


def _fetch(store: Store, target: Any, desc: Descriptor, *, sized: bool = True) -> bool:
    """Copy one blob into the store unless it is there; True if it was copied. Verified by digest
    (and size when `sized`) before it becomes visible."""
    if store.has_blob(desc.digest):
        return False
    with target.open_blob(desc) as source:
        store.put_stream(
            source, media_type=desc.media_type, expected_digest=desc.digest, expected_size=desc.size if sized else None
        )
    return True


def _check_diff_id(store: Store, record: CacheRecord, memo: dict[str, str]) -> None:
    """A layer whose content is not its record's diff_id would give images a false rootfs. Each
    layer is decompressed once per import (`memo`), whoever's record brought it."""
    if record.layer is None:
        return
    actual = memo.get(record.layer.digest)
    if actual is None:
        actual = memo[record.layer.digest] = store.layer_diff_id(record.layer.digest)
    if actual != record.diff_id:
        raise ImageError(f"layer {record.layer.digest} uncompresses to {actual}, the record says {record.diff_id}")


def _record_blobs(record: CacheRecord) -> list[tuple[Descriptor, bool]]:
    out = [(record.layer, True)] if record.layer is not None else []
    out.extend((Descriptor("application/octet-stream", d, 0), False) for d in record.blobs if record.layer is None or d != record.layer.digest)
    return out


def import_artifact(store: Store, target: Any, artifact: CacheArtifact, *, restore_mounts: bool = True) -> ImportReport:
    """File `artifact`'s records (and restore its mounts) from `target` into `store`."""
    present = set(store.cache_keys())
    filed = already = copied = restored = 0
    skipped: list[str] = []
    diff_ids: dict[str, str] = {}
    with store.lease():
        for record in artifact.records:
            if record.key in present:
                already += 1
                continue
            try:
                for desc, sized in _record_blobs(record):
                    copied += _fetch(store, target, desc, sized=sized)
                _check_diff_id(store, record, diff_ids)
                store.put_cache(record)
                filed += 1
            except (PybuildkitError, OSError) as exc:
                skipped.append(f"record {record.key}: {exc.message if isinstance(exc, PybuildkitError) else exc}")
        if restore_mounts:
            for mount in artifact.mounts:
                try:
                    copied += _fetch(store, target, mount.layer)
                    restored += restore_mount(store, mount)
                except (PybuildkitError, OSError) as exc:
                    skipped.append(f"cache mount {mount.id!r}: {exc.message if isinstance(exc, PybuildkitError) else exc}")
    return ImportReport(records=filed, already_present=already, blobs_copied=copied, mounts_restored=restored, skipped=tuple(skipped))


def import_cache(store: Store, spec: CacheSpec, *, insecure_registries: Iterable[str] = ()) -> ImportReport:
    """Copy the records (and cache mounts) the target `spec` names into `store`."""
    with open_target(spec, insecure_registries=insecure_registries) as target, target.locked(exclusive=False):
        return import_artifact(store, target, read_artifact(target))
