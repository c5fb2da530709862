"""Run the enabled rules over a Dockerfile: the one entry point builds and `pybuild check` share.

`CHECKS` maps every rule of the catalogue to the small function that detects it: a table, so a new
rule is one function and one line, and a test can assert that none is missing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping

from pybuildkit.model.instructions import Dockerfile
from pybuildkit.syntax.ast import Document

from pybuildkit.checks import cache_rules, file_rules, step_rules
from pybuildkit.checks.analysis import Analysis, BaseLookup, analyse
from pybuildkit.checks.config import CheckConfig, resolve_config
from pybuildkit.checks.file_rules import Hit
from pybuildkit.checks.findings import CheckResult, Finding
from pybuildkit.checks.rules import RULES

__all__ = ["CHECKS", "run_checks", "findings_for"]

CHECKS: dict[str, Callable[[Analysis], Iterable[Hit]]] = {
    "StageNameCasing": file_rules.stage_name_casing,
    "FromAsCasing": file_rules.from_as_casing,
    "NoEmptyContinuation": file_rules.no_empty_continuation,
    "ConsistentInstructionCasing": file_rules.consistent_instruction_casing,
    "DuplicateStageName": file_rules.duplicate_stage_name,
    "ReservedStageName": file_rules.reserved_stage_name,
    "JSONArgsRecommended": step_rules.json_args_recommended,
    "MaintainerDeprecated": file_rules.maintainer_deprecated,
    "UndefinedArgInFrom": file_rules.undefined_arg_in_from,
    "WorkdirRelativePath": step_rules.workdir_relative_path,
    "UndefinedVar": step_rules.undefined_var,
    "MultipleInstructionsDisallowed": step_rules.multiple_instructions_disallowed,
    "LegacyKeyValueFormat": step_rules.legacy_key_value_format,
    "InvalidBaseImagePlatform": file_rules.invalid_base_image_platform,
    "RedundantTargetPlatform": file_rules.redundant_target_platform,
    "SecretsUsedInArgOrEnv": step_rules.secrets_used_in_arg_or_env,
    "InvalidDefaultArgInFrom": file_rules.invalid_default_arg_in_from,
    "FromPlatformFlagConstDisallowed": file_rules.from_platform_flag_const_disallowed,
    "CopyIgnoredFile": step_rules.copy_ignored_file,
    "InvalidDefinitionDescription": file_rules.invalid_definition_description,
    "ExposeProtoCasing": step_rules.expose_proto_casing,
    "ExposeInvalidFormat": step_rules.expose_invalid_format,
    "CopyAllBeforeDependencyInstall": cache_rules.copy_all_before_dependency_install,
    "RunAptGetWithoutCacheMount": cache_rules.run_apt_get_without_cache_mount,
}


def findings_for(analysis: Analysis, config: CheckConfig) -> tuple[Finding, ...]:
    """Every enabled rule's findings, in file order (ties keep the catalogue order), deduplicated."""
    found: dict[Finding, None] = {}
    for rule in RULES:
        if not config.enabled(rule):
            continue
        for message, span in CHECKS[rule.name](analysis):
            found.setdefault(Finding.of(rule, message, span), None)
    return tuple(sorted(found, key=lambda f: f.span.line))


def run_checks(
    document: Document,
    dockerfile: Dockerfile | None = None,
    *,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
    ignored: Callable[[str], bool] | None = None,
    base_lookup: BaseLookup | None = None,
) -> CheckResult:
    """Check `document` and say whether the build may go on (`result.failed`).

    - `dockerfile`: the typed form if the caller already has it; else it is built here, tolerantly
      (a bad instruction ends the checks and is returned as `result.error`).
    - `build_args`/`target`/`platform`: as for the build; no target checks every stage.
    - `environ`: where `BUILDKIT_DOCKERFILE_CHECK` is looked up (default: the process environment).
    - `ignored`: `.dockerignore` predicate on context-relative paths (enables CopyIgnoredFile).
    - `base_lookup`: base images' env/SHELL/platform, when known.

    Raises ParseError for a malformed `# check=` directive, UsageError for a malformed override.
    """
    config = resolve_config(
        document.source,
        build_args=build_args,
        environ=os.environ if environ is None else environ,
        path=document.path,
    )
    analysis = analyse(
        document,
        dockerfile,
        build_args=build_args,
        target=target,
        platform=platform,
        base_lookup=base_lookup,
        ignored=ignored,
    )
    return CheckResult(findings=findings_for(analysis, config), config=config, error=analysis.error)
