"""Run a BuildPlan: ask the cache for every step, execute the misses, assemble the image.

The executor walks the planner's op graph. Each stage runs in its own thread once the stages it
reads have finished, so independent stages build side by side. Every layer-producing op (RUN,
COPY/ADD, WORKDIR) gets a content-addressed key (`pybuildkit.cache.keys`) before anything runs;
a hit reuses the recorded layer without touching a filesystem, so a fully cached build never
unpacks a snapshot. A miss mounts an overlay of the parent's snapshots, runs the step there (the
sandbox for RUN, `fileops` for COPY/ADD), and commits the upper directory as both the layer blob and
the next snapshot.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs

from pybuildkit.cache.keys import KeyInputs, cache_key, explain_miss
from pybuildkit.errors import BuildError, ExecError, PybuildkitError
from pybuildkit.execute import events as ev
from pybuildkit.execute.report import BuildReport, StepRecord, critical_path
from pybuildkit.execute.resolver import StoreResolver, resolve_stored_image
from pybuildkit.oci.config import History, Image, RootFS
from pybuildkit.oci.descriptor import Descriptor
from pybuildkit.plan import BuildPlan, ConfigOp, ExecOp, FileOp, Op, SourceOp, StagePlan
from pybuildkit.plan.ops import CONTEXT_ID
from pybuildkit.snapshot import Snapshots, chain_id
from pybuildkit.store import CacheRecord, Store

__all__ = ["ExecOptions", "LayerRef", "StepResult", "BuildOutcome", "Executor", "iso_time"]

LOG_TAIL_LINES = 12


def iso_time(seconds: float) -> str:
    """RFC 3339 UTC with second precision, as image configs write times."""
    return datetime.fromtimestamp(int(seconds), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@attrs.frozen
class ExecOptions:
    """How to execute: cache policy, layer format, secrets and what RUN may do.

    `no_cache_stages` holds stage names (lower-case) whose steps must re-run (`--no-cache-filter`).
    `secrets` maps a secret id to ("file", path) or ("env", variable name) as given with
    `--secret`. `allow` holds entitlements such as `security.insecure`.
    """

    context_dir: Path
    no_cache: bool = False
    no_cache_stages: frozenset[str] = frozenset()
    compression: str = "gzip"
    source_date_epoch: int | None = None
    secrets: Mapping[str, tuple[str, str]] = attrs.field(factory=dict)
    ssh: Mapping[str, str] = attrs.field(factory=dict)
    allow: frozenset[str] = frozenset()
    hostname: str = "buildkitsandbox"
    checksum_mode: str = "full"
    dockerfile: Path | None = None
    previous_steps: Mapping[str, KeyInputs] = attrs.field(factory=dict)
    verify_cache: bool = False
    load_manifest: Callable[[str], dict[str, str] | None] | None = None
    debug_on_fail: bool = False


@attrs.frozen
class LayerRef:
    descriptor: Descriptor
    diff_id: str


@attrs.frozen
class StepResult:
    """The state after an op: its cache key, the layer stack, the history and the image config."""

    key: str
    layers: tuple[LayerRef, ...]
    history: tuple[History, ...]
    image: Image

    @property
    def chain(self) -> str | None:
        top: str | None = None
        for layer in self.layers:
            top = chain_id(top, layer.diff_id)
        return top

    def final_image(self) -> Image:
        """The config blob for this state: the op's config with our rootfs and history."""
        created = max((h.created for h in self.history if h.created), default=None)
        return attrs.evolve(
            self.image,
            rootfs=RootFS(diff_ids=tuple(layer.diff_id for layer in self.layers)),
            history=self.history,
            created=created,
        )


@attrs.frozen
class BuildOutcome:
    result: StepResult
    report: BuildReport
    steps: Mapping[str, KeyInputs]
    base_layers: int = 0
    cache_mismatches: tuple[str, ...] = ()


class _StepFailed(Exception):
    """Internal: a stage stopped because a step (or a stage it depends on) failed."""


def _file_failure(exc: OSError, rootfs: Path) -> BuildError:
    """An OSError of a COPY/ADD/WORKDIR as a BuildError naming the path inside the image."""
    where = ""
    if exc.filename:
        name = os.fspath(exc.filename)
        inside = os.path.relpath(name, rootfs) if name.startswith(os.fspath(rootfs)) else None
        where = f" writing /{inside}" if inside and not inside.startswith("..") else f" at {name}"
    hint = "free space in the store: `pybuild cache prune`, `pybuild store gc`" if exc.errno in (28, 122) else None
    return BuildError(f"cannot complete the file operation{where}: {exc.strerror or exc}", hint=hint)


class Executor:
    """Executes plans against one store and its snapshots, reporting through `sink`."""

    def __init__(
        self,
        store: Store,
        snapshots: Snapshots,
        options: ExecOptions,
        sink: ev.EventSink | None = None,
        *,
        resolver: StoreResolver | None = None,
    ) -> None:
        self.store = store
        self.resolver = resolver or StoreResolver(store)
        self.snapshots = snapshots
        self.options = options
        self._sink = sink or (lambda event: None)
        self._lock = threading.Lock()
        self._records: list[StepRecord] = []
        self._key_inputs: dict[str, KeyInputs] = {}
        self._mismatches: list[str] = []
        self._ignore_matcher: Any = None
        self._checksummer: Any = None
        self._scratch: Path | None = None
        self._hash_lock = threading.Lock()
        #: file manifests (path -> digest) of the context selections, by their digest
        self.manifests: dict[str, dict[str, str]] = {}
        self._now = time.time()

    # -- events ---------------------------------------------------------------------------------

    def emit(self, event: ev.Event) -> None:
        with self._lock:
            self._sink(event)

    # -- the whole build ------------------------------------------------------------------------

    def run(self, plan: BuildPlan) -> BuildOutcome:
        start = time.monotonic()
        steps = self._number_steps(plan)
        self.emit(ev.BuildStarted(time=time.time(), steps=len(steps), stages=tuple(s.name for s in plan.stages)))
        for warning in plan.warnings:
            self.emit(ev.Warning(time=time.time(), message=warning.message, line=warning.span.line if warning.span else None))
        results: dict[str, StepResult] = {}
        futures: dict[int, Future[None]] = {}
        by_index = {stage.index: stage for stage in plan.stages}
        failure: list[BaseException] = []

        def run_stage(stage: StagePlan) -> None:
            for dep in stage.depends_on:
                try:
                    futures[dep].result()
                except BaseException:
                    raise _StepFailed() from None
            if failure:
                raise _StepFailed()
            try:
                for op in stage.ops:
                    results[op.id] = self._run_op(plan, op, results, steps.get(op.id), stage)
            except BaseException as exc:
                failure.append(exc)
                raise

        workers = max(1, min(len(plan.stages), os.cpu_count() or 2))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stage") as pool:
            for stage in plan.stages:
                futures[stage.index] = pool.submit(run_stage, stage)
            for index in by_index:
                try:
                    futures[index].result()
                except BaseException:
                    pass
        seconds = time.monotonic() - start
        if failure:
            self.emit(ev.BuildFinished(time=time.time(), seconds=seconds, ok=False))
            error = failure[0]
            if isinstance(error, PybuildkitError):
                raise error
            raise error
        final = results[plan.result]
        final = attrs.evolve(final, image=plan.image)
        records = sorted(self._records, key=lambda r: (r.started, r.step.id))
        deps = {s.name: [by_index[d].name for d in s.depends_on] for s in plan.stages}
        report = BuildReport(
            steps=tuple(records),
            seconds=seconds,
            critical_path=critical_path(records, deps, plan.target_stage.name),
        )
        base = results[plan.target_stage.ops[0].id]
        return BuildOutcome(
            result=final, report=report, steps=dict(self._key_inputs), base_layers=len(base.layers),
            cache_mismatches=tuple(self._mismatches),
        )

    def _number_steps(self, plan: BuildPlan) -> dict[str, ev.Step]:
        """Steps as the user counts them: FROM, then every RUN/COPY/ADD/WORKDIR, per stage."""
        steps: dict[str, ev.Step] = {}
        for stage in plan.stages:
            shown = [op for op in stage.ops if _is_step(op, stage)]
            for i, op in enumerate(shown, 1):
                name = _step_name(op)
                steps[op.id] = ev.Step(
                    id=f"{stage.name}/{i}", stage=stage.name, index=i, total=len(shown), name=name,
                    line=op.span.line if op.span else None,
                )
        return steps

    # -- one op ---------------------------------------------------------------------------------

    def _run_op(
        self, plan: BuildPlan, op: Op, results: Mapping[str, StepResult], step: ev.Step | None, stage: StagePlan
    ) -> StepResult:
        if isinstance(op, ConfigOp):
            # A config-only step takes the time of the newest entry before it, so a rebuild whose
            # layers all come from the cache yields the very same image digest.
            parent = results[op.parent]
            created = max((h.created for h in parent.history if h.created), default=None) or self._created()
            if self.options.source_date_epoch is not None:
                created = self._created()
            history = parent.history + ((op.history(created),) if op.has_history else ())
            return attrs.evolve(parent, image=op.config, history=history)
        if isinstance(op, SourceOp):
            if step is not None:
                self.emit(ev.StepCached(time=time.time(), step=step))
            return self._timed(step, lambda: (self._source(plan, op, results), True, ""))
        assert isinstance(op, (ExecOp, FileOp))
        return self._timed(step, lambda: self._layer_op(plan, op, results, step, stage))

    def _timed(self, step: ev.Step | None, work: Callable[[], tuple[StepResult, bool, str]]) -> StepResult:
        started = time.time()
        clock = time.monotonic()
        if step is None:
            return work()[0]
        try:
            result, cached, reason = work()
        except BaseException as exc:
            seconds = time.monotonic() - clock
            message = exc.render() if isinstance(exc, PybuildkitError) else f"{type(exc).__name__}: {exc}"
            self.emit(ev.StepFailed(time=time.time(), step=step, seconds=seconds, error=message))
            raise
        seconds = time.monotonic() - clock
        self.emit(ev.StepFinished(time=time.time(), step=step, seconds=seconds, cached=cached))
        with self._lock:
            self._records.append(
                StepRecord(step=step, cached=cached, seconds=seconds, started=started, finished=time.time(), key=result.key, reason=reason)
            )
        return result

    def _created(self) -> str:
        if self.options.source_date_epoch is not None:
            return iso_time(self.options.source_date_epoch)
        return iso_time(self._now)

    # -- sources --------------------------------------------------------------------------------

    def _source(self, plan: BuildPlan, op: SourceOp, results: Mapping[str, StepResult]) -> StepResult:
        if op.kind == "stage":
            parent = results[op.inputs[0]]
            return attrs.evolve(parent, image=op.config)
        if op.kind == "scratch":
            return StepResult(key=cache_key(KeyInputs(kind="scratch", fields={"platform": op.platform})), layers=(), history=(), image=op.config)
        if op.kind == "context":
            return StepResult(key="context", layers=(), history=(), image=op.config)
        stored = self.resolve_image(op.ref or "", op.platform)
        diff_ids = stored.config.rootfs.diff_ids
        layers = tuple(LayerRef(descriptor=d, diff_id=i) for d, i in zip(stored.manifest.layers, diff_ids))
        key = cache_key(KeyInputs(kind="image", fields={"manifest": stored.digest}))
        return StepResult(key=key, layers=layers, history=tuple(stored.config.history), image=op.config)

    def resolve_image(self, ref: str, platform: str) -> Any:
        """The stored image behind a FROM/--from reference: the one the planner resolved, if it did."""
        with self._lock:
            stored = self.resolver.resolved.get(ref)
        if stored is None:
            stored = resolve_stored_image(self.store, ref, platform)
            with self._lock:
                self.resolver.resolved[ref] = stored
        return stored

    # -- layer-producing ops --------------------------------------------------------------------

    def _layer_op(
        self, plan: BuildPlan, op: ExecOp | FileOp, results: Mapping[str, StepResult], step: ev.Step | None, stage: StagePlan
    ) -> tuple[StepResult, bool, str]:
        parent = results[op.parent]
        # Inputs are named by their slot, never by op id: ids are positional and shift with lines.
        inputs = {
            f"input{i}": results[name].key for i, name in enumerate(op.inputs) if i > 0 and name in results and name != CONTEXT_ID
        }
        content = self._content_digests(op)
        fields = op.key_fields()
        if isinstance(op, ExecOp) and op.build_args:
            fields["build_args"] = dict(op.build_args)
        key_inputs = KeyInputs(kind=fields["op"], fields=fields, parent=parent.key, inputs=inputs, content=content)
        key = cache_key(key_inputs)
        step_id = step.id if step else op.id
        with self._lock:
            self._key_inputs[step_id] = key_inputs
        skip_cache = self.options.no_cache or stage.name in self.options.no_cache_stages
        record = None if skip_cache else self.store.get_cache(key)
        if record is not None and record.layer is not None and record.diff_id and self.store.has_blob(record.layer.digest):
            if self.options.verify_cache:
                return self._verify(plan, op, parent, results, step, key, record)
            if step is not None:
                self.emit(ev.StepCached(time=time.time(), step=step))
            created = str(record.metadata.get("created") or self._created())
            history = parent.history + (op.history(created),)
            layer = LayerRef(descriptor=record.layer, diff_id=record.diff_id)
            return StepResult(key=key, layers=parent.layers + (layer,), history=history, image=op.config), True, ""
        if skip_cache:
            reason = "--no-cache was given" if self.options.no_cache else f"--no-cache-filter {stage.name} was given"
        else:
            previous = self.options.previous_steps.get(step_id)
            reason = self._file_reason(previous, key_inputs) or explain_miss(previous, key_inputs)
        if step is not None:
            self.emit(ev.StepStarted(time=time.time(), step=step, reason=reason))
        created = self._created()
        layer = self._execute(plan, op, parent, results, step)
        self.store.put_cache(
            CacheRecord(key=key, layer=layer.descriptor, diff_id=layer.diff_id, metadata={"created": created, "inputs": key_inputs.to_json()})
        )
        history = parent.history + (op.history(created),)
        return StepResult(key=key, layers=parent.layers + (layer,), history=history, image=op.config), False, reason

    def _verify(
        self, plan: BuildPlan, op: ExecOp | FileOp, parent: StepResult, results: Mapping[str, StepResult],
        step: ev.Step | None, key: str, record: CacheRecord,
    ) -> tuple[StepResult, bool, str]:
        """`--verify-cache`: run a step the cache would have answered and compare the layers. The
        cached layer is kept either way, so the image is the one a normal build makes."""
        reason = "verifying the cached layer (--verify-cache)"
        if step is not None:
            self.emit(ev.StepStarted(time=time.time(), step=step, reason=reason))
        fresh = self._execute(plan, op, parent, results, step)
        assert record.layer is not None and record.diff_id is not None
        if fresh.diff_id != record.diff_id:
            name = step.name if step is not None else op.id
            message = f"cache verification: {name}: cached layer {record.diff_id} differs from the rebuilt {fresh.diff_id}"
            with self._lock:
                self._mismatches.append(message)
            self.emit(ev.Warning(time=time.time(), message=message, line=op.span.line if op.span else None))
        created = str(record.metadata.get("created") or self._created())
        layer = LayerRef(descriptor=record.layer, diff_id=record.diff_id)
        history = parent.history + (op.history(created),)
        return StepResult(key=key, layers=parent.layers + (layer,), history=history, image=op.config), False, reason

    def _content_digests(self, op: ExecOp | FileOp) -> dict[str, str]:
        """Digests of the context files a COPY/ADD (or a context bind mount) reads."""
        if isinstance(op, ExecOp):
            return self._mount_digests(op)
        content: dict[str, str] = {}
        context_sources = tuple(s.path for s in op.sources if s.kind == "path" and s.input == CONTEXT_ID)
        if context_sources:

            spec = self._copy_spec(op, self.options.context_dir, from_context=True, sources=context_sources)
            digest, manifest = self._context_digest(spec)
            self.manifests[digest] = manifest
            content[f"{op.action.upper()} {' '.join(context_sources)}"] = digest
        for src in op.sources:
            if src.kind == "inline":
                content[f"<<{src.path}"] = _text_digest(src.data or "")
        remote = tuple(s.path for s in op.sources if s.kind in ("url", "git"))
        if remote and op.action == "add":
            from pybuildkit.execute.fileops import remote_identities

            spec = self._copy_spec(op, self.options.context_dir, from_context=True, sources=remote)
            for source, identity in remote_identities(spec).items():
                # A server that gives no validator (ETag, Last-Modified) cannot be trusted from the
                # cache: a unique value makes the step run, as BuildKit re-fetches such URLs.
                content[f"ADD {source}"] = identity or f"unvalidated:{time.time_ns()}"
        return content

    def _context_digest(self, spec: Any) -> tuple[str, dict[str, str]]:
        from pybuildkit.execute.fileops import source_digest

        with self._hash_lock:
            if self._checksummer is None:
                from pybuildkit.context import Checksummer, DigestMemo

                memo = DigestMemo(self.store.root / "context-memo.sqlite")
                self._checksummer = Checksummer(self.options.checksum_mode, memo)
            return source_digest(spec, checksummer=self._checksummer)

    def _mount_digests(self, op: ExecOp) -> dict[str, str]:
        """A RUN that binds the build context reads its files: their digests belong in its key."""
        from pybuildkit.execute.fileops import CopySpec

        content: dict[str, str] = {}
        for mount in op.mounts:
            if mount.input != CONTEXT_ID or mount.type not in ("bind", "cache"):
                continue
            source = mount.source.strip("/") or "."
            spec = CopySpec(
                dest="/",
                sources=(source,),
                source_root=self.options.context_dir,
                from_context=True,
                ignore=self._ignore(),
                checksum_mode=self.options.checksum_mode,
            )
            digest, manifest = self._context_digest(spec)
            self.manifests[digest] = manifest
            content[f"RUN --mount=type={mount.type},source={mount.source}"] = digest
        return content

    def _file_reason(self, previous: KeyInputs | None, current: KeyInputs) -> str | None:
        """Name the first file that differs when a COPY missed because its sources changed."""
        if previous is None or previous.fields != current.fields:
            return None
        for label, digest in current.content.items():
            old = previous.content.get(label)
            if old is None or old == digest:
                continue
            before = self.options.load_manifest(old) if self.options.load_manifest else None
            after = self.manifests.get(digest)
            if before is None or after is None:
                return None
            for path in sorted(set(before) | set(after)):
                if path not in before:
                    return f"file {path} was added (under {label})"
                if path not in after:
                    return f"file {path} was removed (under {label})"
                if before[path] != after[path]:
                    return f"file {path} changed (under {label})"
        return None

    def _scratch_dir(self) -> Path:
        """This build's scratch dir for downloads and clones, named for its owner process so a
        later build clears it if this one is killed."""
        with self._lock:
            if self._scratch is None:
                prefix = self.snapshots.scratch_prefix("scratch")
                self._scratch = Path(tempfile.mkdtemp(prefix=prefix, dir=self.snapshots.root / "tmp"))
            return self._scratch

    def finish(self) -> None:
        """Flush the context checksum memo so the next build re-checks by stat alone, and remove
        this build's scratch dir."""
        with self._hash_lock:
            if self._checksummer is not None:
                self._checksummer.memo.flush()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _copy_spec(
        self,
        op: FileOp,
        root: Path,
        *,
        from_context: bool,
        sources: tuple[str, ...],
        inline: tuple[tuple[str, str], ...] = (),
        user_root: Path | None = None,
    ) -> Any:
        from pybuildkit.execute.fileops import CopySpec

        return CopySpec(
            source_root=root,
            from_context=from_context,
            ignore=self._ignore() if from_context else None,
            sources=sources,
            dest=op.dest,
            chown=op.chown,
            chmod=op.chmod,
            link=op.link,
            parents=op.parents,
            excludes=op.excludes,
            inline=inline,
            is_add=op.action == "add",
            checksum=op.checksum,
            keep_git_dir=op.keep_git_dir,
            unpack=op.unpack,
            checksum_mode=self.options.checksum_mode,
            memo_path=self.store.root / "context-memo.sqlite",
            user_root=user_root,
            scratch_dir=self._scratch_dir(),
        )

    def _ignore(self) -> Any:
        with self._lock:
            if self._ignore_matcher is None:
                from pybuildkit.context import load_ignore

                self._ignore_matcher = load_ignore(self.options.context_dir, self.options.dockerfile)
            return self._ignore_matcher

    # -- execution of a miss --------------------------------------------------------------------

    def lowers(self, result: StepResult) -> list[Path]:
        """The overlay lowerdirs of `result`'s layer stack, unpacking any layer not yet a snapshot."""
        chain = self.snapshots.ensure([l.diff_id for l in result.layers], self._open_layer(result))
        return self.snapshots.lowerdirs(chain)

    def _open_layer(self, result: StepResult) -> Callable[[str], Any]:
        by_diff = {layer.diff_id: layer.descriptor.digest for layer in result.layers}
        return lambda diff_id: self.store.open_blob(by_diff[diff_id])

    def _execute(
        self, plan: BuildPlan, op: ExecOp | FileOp, parent: StepResult, results: Mapping[str, StepResult], step: ev.Step | None
    ) -> LayerRef:
        link = isinstance(op, FileOp) and op.link
        lowers = [] if link else self.lowers(parent)
        with contextlib.ExitStack() as stack:
            view = stack.enter_context(self.snapshots.active(lowers))
            if isinstance(op, ExecOp):
                self._run_exec(op, view.merged, results, step)
            else:
                user_root = None
                if link and op.chown:
                    # --link copies onto nothing, but --chown names come from the stage's /etc.
                    user_root = stack.enter_context(self.snapshots.active(self.lowers(parent))).merged
                try:
                    self._run_file(op, view.merged, results, user_root)
                except OSError as exc:  # a full disk, a read-only store: the step's error, not a crash
                    raise _file_failure(exc, view.merged) from None
            # Trusted: the layer writer hashes the compressed bytes as it writes them.
            ingest = self.store.blobs.open_ingest(trusted=True)
            try:
                info, _snap = self.snapshots.commit(
                    view, parent.chain, ingest, compression=self.options.compression, source_date_epoch=self.options.source_date_epoch
                )
                descriptor = ingest.commit(info.digest, media_type=info.media_type, expected_size=info.size)
            except BaseException:
                ingest.abort()
                raise
        return LayerRef(descriptor=descriptor, diff_id=info.diff_id)

    def _run_file(self, op: FileOp, rootfs: Path, results: Mapping[str, StepResult], user_root: Path | None = None) -> None:
        if op.action == "mkdir":
            from pybuildkit.execute.workdir import make_directory

            make_directory(rootfs, op.dest, op.chown)
            return
        from pybuildkit.execute.fileops import apply_copy

        # One spec per input, sources in the order written: the context (paths, URLs, git, heredocs)
        # or a stage/image, so the several-sources and trailing-slash rules see them all at once.
        groups: dict[str, list[Any]] = {}
        for src in op.sources:
            key = src.input if src.kind == "path" and src.input not in (None, CONTEXT_ID) else CONTEXT_ID
            groups.setdefault(key, []).append(src)
        for input_id, sources in groups.items():
            paths = tuple(s.path for s in sources if s.kind in ("path", "url", "git"))
            inline = tuple((s.path, s.data or "") for s in sources if s.kind == "inline")
            if input_id == CONTEXT_ID:
                spec = self._copy_spec(op, self.options.context_dir, from_context=True, sources=paths, inline=inline, user_root=user_root)
                apply_copy(spec, dest_root=rootfs)
                continue
            source = results[input_id]
            with self.snapshots.active(self.lowers(source)) as src_view:
                spec = self._copy_spec(op, src_view.merged, from_context=False, sources=paths, inline=inline, user_root=user_root)
                apply_copy(spec, dest_root=rootfs)

    def _run_exec(self, op: ExecOp, rootfs: Path, results: Mapping[str, StepResult], step: ev.Step | None) -> None:
        from pybuildkit.sandbox import SandboxSpec, resolve_user, run

        if op.security == "insecure" and "security.insecure" not in self.options.allow:
            raise BuildError(
                "RUN --security=insecure is not allowed", span=op.span, hint="start the build with --allow security.insecure"
            )
        uid, gid, groups = resolve_user(rootfs, op.user or "0")
        tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        pending = bytearray()

        def on_output(data: bytes) -> None:
            pending.extend(data)
            *lines, rest = bytes(pending).split(b"\n")
            pending[:] = rest
            for line in lines:
                tail.append(line.decode("utf-8", "replace"))
            if step is not None:
                self.emit(ev.StepLog(time=time.time(), step=step, data=data))

        from pybuildkit.execute.mounts import MountSet

        env = [tuple(item.partition("=")[::2]) for item in op.env]
        env += list(op.proxy_env.items())
        with MountSet(self, op, rootfs, results) as mounts:
            env += mounts.env
            spec = SandboxSpec(
                rootfs=rootfs,
                argv=op.argv,
                env=env,
                cwd=op.cwd,
                uid=uid,
                gid=gid,
                groups=groups,
                hostname=self.options.hostname,
                network="none" if op.network == "none" else "host",
                mounts=mounts.mounts,
                privileged=op.security == "insecure",
            )
            status = run(spec, on_output)
            if status != 0 and self.options.debug_on_fail:
                self._debug_shell(spec, op, status)
        if pending:
            tail.append(bytes(pending).decode("utf-8", "replace"))
        if status != 0:
            raise ExecError(_display_command(op), status, tuple(tail), span=op.span)


    def _debug_shell(self, spec: Any, op: ExecOp, status: int) -> None:
        """`--debug-on-fail`: a shell in the failed RUN's own sandbox — same snapshot (the overlay
        still holds what the command wrote), mounts, environment, directory and user."""
        import sys

        from pybuildkit.containers.attach import copy_winsize, pump, raw_terminal
        from pybuildkit.sandbox import start

        shell = op.config.config.shell or ("/bin/sh",)
        interactive = os.isatty(0)
        with self._lock:
            sys.stderr.write(
                f"RUN failed with exit code {status}: opening {shell[0]} in its sandbox ({spec.cwd}); exit the shell to end the build\n"
            )
            sys.stderr.flush()
            shell_spec = attrs.evolve(spec, argv=(shell[0],), tty=interactive, stdin=None if interactive else 0)
            process = start(shell_spec, output=None if interactive else sys.stdout.fileno())
            try:
                if interactive and process.output_fd is not None:
                    copy_winsize(0, process.output_fd)
                    with raw_terminal(0):
                        pump(process.output_fd, None, out=1, stdin=0, master=process.output_fd)
                process.wait()
            finally:
                process.close()


def _is_step(op: Op, stage: StagePlan) -> bool:
    if isinstance(op, (ExecOp, FileOp)):
        return True
    return isinstance(op, SourceOp) and op is stage.ops[0]


def _step_name(op: Op) -> str:
    """The step's name as BuildKit shows it: the planner's display text (set variables expanded)."""
    if isinstance(op, SourceOp):
        return f"FROM {op.ref or 'scratch'}"
    return op.display or op.created_by.removesuffix(" # buildkit")


def _display_command(op: ExecOp) -> str:
    return " ".join(op.argv[2:]) if op.argv[:2] == ("/bin/sh", "-c") else " ".join(op.argv)


def _text_digest(text: str) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
