"""A build request and its result as values: what `pybuild build` and `pybuildkit.build` take and give."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs

from pybuildkit.cache.spec import CacheSpec
from pybuildkit.errors import UsageError
from pybuildkit.execute.report import BuildReport

__all__ = ["OUTPUT_TYPES", "Output", "parse_output", "BuildOptions", "BuildResult"]

OUTPUT_TYPES = ("image", "oci", "docker", "local", "tar", "registry")


@attrs.frozen
class Output:
    """One `--output`: `type` plus its attributes (`dest`, `tar`, `compression`, `name`, `push`)."""

    type: str
    attrs: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def dest(self) -> str | None:
        return self.attrs.get("dest")


def parse_output(text: str) -> Output:
    """`type=oci,dest=out.tar` (or a bare path, meaning type=local) to an Output."""
    if "=" not in text:
        return Output(type="local", attrs={"dest": text})
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            raise UsageError(f"invalid --output field {part!r}: expected key=value")
        fields[key.strip().lower()] = value.strip()
    kind = fields.pop("type", "")
    if kind not in OUTPUT_TYPES:
        raise UsageError(f"unknown output type {kind!r}", hint=f"use one of: {', '.join(OUTPUT_TYPES)}")
    if kind in ("oci", "docker", "local", "tar") and not fields.get("dest"):
        raise UsageError(f"output type {kind} needs dest=PATH")
    return Output(type=kind, attrs=fields)


@attrs.frozen
class BuildOptions:
    """Everything `pybuild build` accepts, as a value.

    `dockerfile` is a path (default `<context>/Dockerfile`); `dockerfile_text` overrides it with
    text. `secrets` maps ids to ("file", path) or ("env", name). `root` selects the store.
`cache_from` caches are imported before the build, `cache_to` written after it
(`pybuildkit.cache.spec.parse_cache_spec` reads the CLI spelling); `verify_cache` re-runs cached
steps and reports those whose layer differs.
    """

    context: Path = attrs.field(converter=Path)
    dockerfile: Path | None = attrs.field(default=None, converter=lambda v: None if v is None else Path(v))
    dockerfile_text: str | None = None
    tags: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    build_args: Mapping[str, str] = attrs.field(factory=dict)
    target: str | None = None
    platform: str | None = None
    labels: Mapping[str, str] = attrs.field(factory=dict)
    no_cache: bool = False
    no_cache_filter: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    outputs: tuple[Output, ...] = attrs.field(default=(), converter=tuple)
    iidfile: Path | None = None
    metadata_file: Path | None = None
    squash: bool = False
    compression: str = "gzip"
    source_date_epoch: int | None = None
    secrets: Mapping[str, tuple[str, str]] = attrs.field(factory=dict)
    ssh: Mapping[str, str] = attrs.field(factory=dict)
    allow: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)
    checksum_mode: str = "full"
    root: Path | None = None
    cache_to: tuple[CacheSpec, ...] = attrs.field(default=(), converter=tuple)
    cache_from: tuple[CacheSpec, ...] = attrs.field(default=(), converter=tuple)
    verify_cache: bool = False
    debug_on_fail: bool = False


@attrs.frozen
class BuildResult:
    """What a build produced: the image (manifest) digest, its config digest, tags and the report."""

    digest: str
    config_digest: str
    tags: tuple[str, ...]
    report: BuildReport
    warnings: tuple[str, ...] = ()
    cache_mismatches: tuple[str, ...] = ()

    @property
    def image_id(self) -> str:
        return self.config_digest


