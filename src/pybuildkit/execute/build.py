"""One whole build: parse, plan, execute, write the image and every requested output.

Kept apart from the executor so the executor stays about running ops, and this file about the
request around them: the store lease, `--squash`, `--output`, `--iidfile`, `--metadata-file`, and the
record of the last build that `pybuild explain` and the next build's miss reasons read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from pybuildkit.atomicfile import atomic_write, atomic_write_json, atomic_writer
from pybuildkit.cache.keys import KeyInputs
from pybuildkit.errors import BuildError, UsageError
from pybuildkit.execute import events as ev
from pybuildkit.execute.executor import BuildOutcome, ExecOptions, Executor, LayerRef, StepResult
from pybuildkit.execute.request import BuildOptions, BuildResult, Output
from pybuildkit.execute.resolver import StoreResolver
from pybuildkit.snapshot import Snapshots, apply_layer, flatten, write_tree_layer
from pybuildkit.store import Store, default_root

__all__ = ["run_build", "last_build_path", "read_last_build"]

LAYER_COMPRESSIONS = {"gzip": "gzip", "zstd": "zstd", "uncompressed": "none", "none": "none"}


def last_build_path(store_root: Path) -> Path:
    return store_root / "builds" / "last.json"


def read_last_build(store_root: Path) -> dict[str, Any] | None:
    try:
        return json.loads(last_build_path(store_root).read_text())
    except (OSError, ValueError):
        return None


def _lineage_path(store_root: Path, context: Path, dockerfile: str, target: str | None) -> Path:
    """Where the key inputs of the previous build of the same Dockerfile and target are kept."""
    ident = json.dumps([os.path.abspath(context), os.path.abspath(dockerfile), (target or "").lower()])
    return store_root / "builds" / (hashlib.sha256(ident.encode()).hexdigest()[:32] + ".json")


def _load_previous(path: Path) -> dict[str, KeyInputs]:
    try:
        data = json.loads(path.read_text())
        return {step: KeyInputs.from_json(inputs) for step, inputs in data.get("steps", {}).items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def _manifest_path(store_root: Path, digest: str) -> Path:
    return store_root / "builds" / "manifests" / (digest.removeprefix("sha256:") + ".json")


def _load_manifest(store_root: Path) -> Callable[[str], dict[str, str] | None]:
    def load(digest: str) -> dict[str, str] | None:
        try:
            return json.loads(_manifest_path(store_root, digest).read_text())
        except (OSError, ValueError):
            return None

    return load


def _save_manifests(store_root: Path, manifests: dict[str, dict[str, str]]) -> None:
    """Keep each COPY's file manifest by its digest (written once), so a later miss can name the
    file that changed; an unchanged context writes nothing."""
    for digest, manifest in manifests.items():
        path = _manifest_path(store_root, digest)
        if not path.exists():
            atomic_write_json(path, manifest, mode=0o600, parents=True)


def _layer_compression(options: BuildOptions) -> str:
    chosen = options.compression
    for out in options.outputs:
        if out.attrs.get("compression"):
            chosen = out.attrs["compression"]
    if chosen not in LAYER_COMPRESSIONS:
        raise UsageError(f"unknown compression {chosen!r}", hint="use gzip, zstd or uncompressed")
    return LAYER_COMPRESSIONS[chosen]


def _source_date_epoch(options: BuildOptions) -> int | None:
    if options.source_date_epoch is not None:
        return options.source_date_epoch
    value = options.build_args.get("SOURCE_DATE_EPOCH") or os.environ.get("SOURCE_DATE_EPOCH")
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"SOURCE_DATE_EPOCH must be an integer, not {value!r}") from None


def run_build(options: BuildOptions, text: str, path: str, on_event: ev.EventSink | None) -> BuildResult:
    from pybuildkit.model import parse_dockerfile
    from pybuildkit.syntax import parse as parse_syntax

    sink = on_event or (lambda event: None)
    started = time.monotonic()
    document = parse_syntax(text, path)
    dockerfile = parse_dockerfile(document)
    root = options.root if options.root is not None else default_root()
    _run_checks(root, options, document, dockerfile, sink)
    with Store(root) as store:
        return _build_in(store, options, dockerfile, text, path, sink, started)


def _build_in(
    store: Store, options: BuildOptions, dockerfile: Any, text: str, path: str, sink: ev.EventSink, started: float
) -> BuildResult:
    from pybuildkit.exporters import host_platform
    from pybuildkit.plan import PlanOptions, plan

    resolver = StoreResolver(store)
    plan_options = PlanOptions(
        build_args=dict(options.build_args),
        target=options.target,
        labels=dict(options.labels),
        build_platform=host_platform(),
        **({"platform": options.platform} if options.platform else {}),
    )
    lineage = _lineage_path(store.root, options.context, path, options.target)
    exec_options = ExecOptions(
        context_dir=options.context.resolve(),
        dockerfile=Path(path) if options.dockerfile_text is None else None,
        no_cache=options.no_cache,
        no_cache_stages=frozenset(s.lower() for s in options.no_cache_filter),
        compression=_layer_compression(options),
        source_date_epoch=_source_date_epoch(options),
        secrets=dict(options.secrets),
        ssh=dict(options.ssh),
        allow=options.allow,
        checksum_mode=options.checksum_mode,
        previous_steps=_load_previous(lineage),
        verify_cache=options.verify_cache,
        load_manifest=_load_manifest(store.root),
        debug_on_fail=options.debug_on_fail,
    )
    snapshots = Snapshots(store.root / "fs")
    _import_caches(store, options, sink)
    with store.lease():
        the_plan = plan(dockerfile, plan_options, resolver)
        executor = Executor(store, snapshots, exec_options, sink, resolver=resolver)
        try:
            outcome = executor.run(the_plan)
        except BuildError as exc:
            exc.source = exc.source or text
            raise
        finally:
            executor.finish()
            _save_manifests(store.root, executor.manifests)
        result = outcome.result
        if options.squash:
            result = _squash(store, snapshots, exec_options, executor, outcome)
        image = result.final_image()
        layers = [layer.descriptor for layer in result.layers]
        stored = store.put_image(image, layers, tags=options.tags, annotations=_inline_cache(store, options, outcome, layers))
    atomic_write_json(lineage, {"steps": {step: inputs.to_json() for step, inputs in outcome.steps.items()}}, mode=0o600, parents=True)
    _export_caches(store, options, outcome, the_plan, exec_options.compression)
    _write_outputs(store, snapshots, executor, result, stored.digest, options)
    _keep_budget(store, sink)
    build_result = BuildResult(
        digest=stored.digest,
        config_digest=stored.config_digest,
        tags=stored.tags,
        report=outcome.report,
        warnings=tuple(w.message for w in the_plan.warnings),
        cache_mismatches=outcome.cache_mismatches,
    )
    record = {
        "containerimage.digest": stored.digest,
        "containerimage.config.digest": stored.config_digest,
        "image.name": ",".join(options.tags),
        "dockerfile": path,
        "steps": [s.to_json() for s in outcome.report.steps],
        "report": outcome.report.to_json(),
    }
    atomic_write_json(last_build_path(store.root), record, mode=0o600, parents=True)
    if options.iidfile is not None:
        atomic_write(options.iidfile, stored.config_digest.encode("ascii"))
    if options.metadata_file is not None:
        atomic_write_json(Path(options.metadata_file), record, parents=True)
    sink(ev.BuildFinished(time=time.time(), seconds=time.monotonic() - started, ok=True, image_digest=stored.digest))
    return build_result


def _import_caches(store: Store, options: BuildOptions, sink: ev.EventSink) -> None:
    if not options.cache_from:
        return
    from pybuildkit.cache.buildhooks import import_caches

    _reports, warnings = import_caches(store, options.cache_from)
    for message in warnings:
        sink(ev.Warning(time=time.time(), message=message))


def _export_caches(store: Store, options: BuildOptions, outcome: BuildOutcome, the_plan: Any, compression: str) -> None:
    from pybuildkit.cache.mountdirs import remember_mount_ids
    from pybuildkit.cache.transfer import plan_cache_mounts

    mount_ids = plan_cache_mounts(the_plan)
    remember_mount_ids(store.root, mount_ids)
    if not options.cache_to:
        return
    from pybuildkit.cache.buildhooks import export_caches

    export_caches(store, options.cache_to, outcome.result.key, outcome.steps, mount_ids, compression=compression)


def _inline_cache(store: Store, options: BuildOptions, outcome: BuildOutcome, layers: list[Any]) -> dict[str, str] | None:
    """`--cache-to type=inline`: the image manifest carries the records of its own layers."""
    if not any(spec.type == "inline" for spec in options.cache_to):
        return None
    from pybuildkit.cache.inline import inline_annotations
    from pybuildkit.cache.transfer import select_keys

    return inline_annotations(store, select_keys(outcome.result.key, outcome.steps, "min"), layers) or None


def _keep_budget(store: Store, sink: ev.EventSink) -> None:
    """The store keeps its cache under a size budget by itself (see pybuildkit.cache.maintenance)."""
    from pybuildkit.cache.maintenance import enforce_budget
    from pybuildkit.errors import PybuildkitError

    try:
        report = enforce_budget(store, wait=False)
    except PybuildkitError as exc:
        sink(ev.Warning(time=time.time(), message=f"cache size budget not enforced: {exc.message}"))
        return
    if report is not None and report.records_removed:
        sink(ev.Warning(time=time.time(), message=f"cache over its size budget: pruned {report.records_removed} least recently used records"))


def _run_checks(root: Path, options: BuildOptions, document: Any, dockerfile: Any, sink: ev.EventSink) -> None:
    """BuildKit's build checks, before anything runs or any store is made: findings become warning
    events; with `# check=error=true` a finding stops the build. Base images are looked up in an
    existing store only."""
    from pybuildkit.checks import run_checks
    from pybuildkit.execute.resolver import base_image_lookup
    from pybuildkit.store.paths import DB_FILE

    with contextlib.ExitStack() as stack:
        lookup = None
        if (root / DB_FILE).is_file():
            lookup = base_image_lookup(stack.enter_context(Store(root)))
        result = run_checks(
            document,
            dockerfile,
            build_args=dict(options.build_args),
            target=options.target,
            platform=options.platform,
            base_lookup=lookup,
        )
    for finding in result.findings:
        line = finding.span.line if finding.span else None
        sink(ev.Warning(time=time.time(), message=f"{finding.rule}: {finding.message}", line=line))
    if result.failed and result.error is None:
        raise BuildError(result.violation_message(), hint="the Dockerfile's `# check=error=true` makes warnings fatal")


def _squash(store: Store, snapshots: Snapshots, options: ExecOptions, executor: Executor, outcome: BuildOutcome) -> StepResult:
    """Fold the layers the build added on top of its base image into one layer."""
    result = outcome.result
    base = outcome.base_layers
    added = result.layers[base:]
    if len(added) <= 1:
        return result
    base_result = attrs.evolve(result, layers=result.layers[:base])
    with snapshots.active(executor.lowers(base_result)) as view:
        for layer in added:
            with store.open_blob(layer.descriptor.digest) as blob:
                apply_layer(blob, view.merged)
        # Trusted: the layer writer hashes the compressed bytes as it writes them.
        ingest = store.blobs.open_ingest(trusted=True)
        try:
            info = view.write_layer(ingest, compression=options.compression, source_date_epoch=options.source_date_epoch)
            descriptor = ingest.commit(info.digest, media_type=info.media_type, expected_size=info.size)
        except BaseException:
            ingest.abort()
            raise
    history = list(result.history)
    # Keep every history entry, marking the folded ones empty except the last of them.
    non_empty = [i for i, h in enumerate(history) if not h.empty_layer]
    for i in non_empty[base:-1]:
        history[i] = attrs.evolve(history[i], empty_layer=True)
    return attrs.evolve(result, layers=result.layers[:base] + (LayerRef(descriptor=descriptor, diff_id=info.diff_id),), history=tuple(history))


def _rootfs(executor: Executor, result: StepResult, dest: Path) -> None:
    flatten(executor.lowers(result), dest)


def _write_outputs(store: Store, snapshots: Snapshots, executor: Executor, result: StepResult, digest: str, options: BuildOptions) -> None:
    for out in options.outputs:
        try:
            _write_output(store, snapshots, executor, result, digest, options, out)
        except OSError as exc:  # a full or read-only output disk: the user's error, not a crash
            raise BuildError(
                f"cannot write the {out.type} output to {out.dest or '?'}: {exc.strerror or exc}",
                hint="nothing partial was left at the destination",
            ) from None


def _write_output(store: Store, snapshots: Snapshots, executor: Executor, result: StepResult, digest: str, options: BuildOptions, out: Output) -> None:
    from pybuildkit.exporters import export_docker_archive, export_oci_archive, export_oci_layout

    dest = Path(out.dest) if out.dest else None
    name = out.attrs.get("name") or (options.tags[0] if options.tags else None)
    if out.type == "oci":
        assert dest is not None
        if out.attrs.get("tar", "true").lower() in ("false", "0", "no"):
            export_oci_layout(store, digest, dest, tag=name)
        else:
            export_oci_archive(store, digest, dest, tag=name)
    elif out.type == "docker":
        assert dest is not None
        if name:
            store.tag(digest, name)
        export_docker_archive(store, name or digest, dest)
    elif out.type == "local":
        assert dest is not None
        # Written beside the destination and renamed over it: a failure leaves no half rootfs.
        dest.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        try:
            _rootfs(executor, result, work)
            os.chmod(work, 0o755)
            if dest.exists():
                shutil.rmtree(dest)
            os.rename(work, dest)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    elif out.type == "tar":
        assert dest is not None
        with tempfile.TemporaryDirectory(prefix=snapshots.scratch_prefix("output"), dir=snapshots.root / "tmp") as tmp:
            _rootfs(executor, result, Path(tmp))
            with atomic_writer(dest) as f:
                write_tree_layer(tmp, f, compression="none")
    elif out.type in ("image", "registry"):
        if name:
            store.tag(digest, name)
        push = out.type == "registry" or out.attrs.get("push", "false").lower() in ("true", "1")
        if push:
            _push(store, name, options)


def _push(store: Store, name: str | None, options: BuildOptions) -> None:
    if not name:
        raise UsageError("pushing needs an image name: --output type=image,name=HOST/REPO:TAG,push=true")
    try:
        from pybuildkit.registry import push  # type: ignore[attr-defined]
    except ImportError:
        raise UsageError("pushing to a registry is not available in this build of pybuildkit") from None
    push(store, name)

