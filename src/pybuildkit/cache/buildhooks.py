"""What a build calls before and after it runs: import `--cache-from`, export `--cache-to`.

Kept here so the build orchestration gains two calls and no cache logic. An import that fails
(the directory is not there yet on a first CI run, the registry has no such tag) is a warning, as
in BuildKit: the build just runs without it. An export that fails is an error: the user asked for
a cache and would otherwise find none next time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pybuildkit.cache.keys import KeyInputs
from pybuildkit.cache.spec import CacheSpec
from pybuildkit.cache.transfer import ExportReport, ImportReport, export_cache, import_cache, select_keys
from pybuildkit.errors import PybuildkitError
from pybuildkit.store import Store

__all__ = ["import_caches", "export_caches"]


def import_caches(
    store: Store, specs: Sequence[CacheSpec], *, insecure_registries: Iterable[str] = ()
) -> tuple[list[ImportReport], list[str]]:
    """Import every `--cache-from` in order; returns the reports and the warnings to show."""
    reports: list[ImportReport] = []
    warnings: list[str] = []
    for spec in specs:
        if spec.type == "inline":
            if not spec.location:
                continue  # BuildKit's `type=inline` on --cache-from means nothing without a ref.
            spec = CacheSpec(type="registry", attrs={"ref": spec.location})
        try:
            report = import_cache(store, spec, insecure_registries=insecure_registries)
        except PybuildkitError as exc:
            warnings.append(f"cache import from {spec.type}:{spec.location} skipped: {exc.message}")
            continue
        reports.append(report)
        warnings.extend(f"cache import from {spec.type}:{spec.location}: skipped {what}" for what in report.skipped)
    return reports, warnings


def export_caches(
    store: Store,
    specs: Sequence[CacheSpec],
    final_key: str,
    steps: Mapping[str, KeyInputs],
    mount_ids: Sequence[str] = (),
    *,
    compression: str = "gzip",
    insecure_registries: Iterable[str] = (),
) -> list[ExportReport]:
    """Write every `--cache-to` but `inline` (the image carries that one itself)."""
    reports = []
    for spec in specs:
        if spec.type == "inline":
            continue
        keys = select_keys(final_key, steps, spec.mode)
        reports.append(
            export_cache(store, spec, keys, mount_ids, compression=compression, insecure_registries=insecure_registries)
        )
    return reports
