"""pybuildkit's own rules: Dockerfile shapes that waste the build cache.

BuildKit's rules are about correctness; these are about incremental CI builds, the case pybuildkit
is built for. They are `info` level: they never fail a build, even under `error=true`, and any of
them can be turned off with `skip=`. Each is documented in docs/checks.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pybuildkit.checks.analysis import Analysis
from pybuildkit.checks.file_rules import Hit
from pybuildkit.model.instructions import Add, Copy, Run

__all__ = ["DEPENDENCY_INSTALL", "APT_INSTALL", "copy_all_before_dependency_install", "run_apt_get_without_cache_mount"]

#: Commands that install a project's dependencies from a manifest that a `COPY .` would also copy.
DEPENDENCY_INSTALL = re.compile(
    r"\bpip3?\s+install\b[^;&|]*\s(?:-r|--requirement)\b"
    r"|\bpip3?\s+install\b[^;&|]*\s(?:-e\s+)?\.(?:\s|$|\[)"
    r"|\b(?:poetry|pdm|pipenv)\s+(?:install|sync)\b"
    r"|\buv\s+(?:sync|pip\s+install)\b"
    r"|\bnpm\s+(?:ci|install|i)\b"
    r"|\byarn(?:\s+install)?(?:\s|$)"
    r"|\bpnpm\s+(?:install|i)\b"
    r"|\bgo\s+mod\s+download\b"
    r"|\bbundle\s+install\b"
    r"|\bcomposer\s+install\b"
    r"|\bcargo\s+(?:fetch|build)\b"
    r"|\bmvn\b[^;&|]*\bdependency:(?:go-offline|resolve)\b"
    r"|\bgradle\w*\b[^;&|]*\bdependencies\b"
)
APT_INSTALL = re.compile(r"\bapt(?:-get)?\s+(?:-\S+\s+)*install\b")
_WHOLE_CONTEXT = {".", "./", "*", "./*", "/"}
_APT_CACHE_TARGETS = ("/var/cache/apt", "/var/lib/apt")


def _command_text(run: Run) -> str:
    return " ".join(run.cmd) + "".join("\n" + f.data for f in run.files)


def copy_all_before_dependency_install(analysis: Analysis) -> Iterator[Hit]:
    copied_all: dict[int, Copy | Add] = {}
    reported: set[int] = set()
    for step in analysis.steps:
        instruction = step.instruction
        stage = step.stage.index
        if isinstance(instruction, (Copy, Add)) and not getattr(instruction, "from_", None):
            if any(source in _WHOLE_CONTEXT for source in instruction.sources) and stage not in copied_all:
                copied_all[stage] = instruction
        elif isinstance(instruction, Run) and stage in copied_all and stage not in reported:
            match = DEPENDENCY_INSTALL.search(_command_text(instruction))
            if match:
                copy = copied_all[stage]
                reported.add(stage)
                yield (
                    f"{copy.keyword.upper()} of the whole context before '{match.group(0).strip()}' "
                    f"(line {instruction.span.line}) re-runs the install whenever any file changes; "
                    "copy only the dependency manifest (and lock file) first, install, then copy the rest",
                    copy.span,
                )


def run_apt_get_without_cache_mount(analysis: Analysis) -> Iterator[Hit]:
    for step in analysis.steps:
        instruction = step.instruction
        if not isinstance(instruction, Run) or not APT_INSTALL.search(_command_text(instruction)):
            continue
        cached = any(
            m.type == "cache" and (m.target or "").rstrip("/") in _APT_CACHE_TARGETS for m in instruction.mounts
        )
        if not cached:
            yield (
                "apt-get install without a cache mount downloads every package again when this layer is rebuilt; "
                "add --mount=type=cache,target=/var/cache/apt,sharing=locked "
                "(and --mount=type=cache,target=/var/lib/apt,sharing=locked)",
                instruction.span,
            )
